"""The conformance cases: one request each, and what the Modbus Application Protocol v1.1b3 prescribes.

Runs in the test's thread (blocking sockets). Each case is sent as a raw
Modbus TCP frame to a server; the answer is decoded to one word: "ok",
"exception NN", "silent" (no answer within the wait) or "closed" (the server
closed the connection). The specification's expectations are written here from
the specification (section 7, "MODBUS Exception Responses", and the function
code state diagrams of section 6), not from either server.
"""

from __future__ import annotations

import socket
import struct

#: holding registers both servers implement: 0..67 and 200..218 (as the simulated PVD-H8K does)
BANKS = [(0, 68), (200, 19)]
WRITABLE = 200     # a holding register both servers accept a write to (grid code on the PVD-H8K)


def _read(fc, address, count):
    return struct.pack(">BHH", fc, address, count)


def _write_multiple(address, count, values, byte_count=None):
    data = b"".join(struct.pack(">H", v) for v in values)
    return struct.pack(">BHHB", 16, address, count, len(data) if byte_count is None else byte_count) + data


#: (name, unit, request PDU, what the specification prescribes)
CASES = [
    ("FC3 inside a bank", 1, _read(3, 0, 4), "ok"),
    ("unknown function 0x41", 1, bytes([0x41, 0, 0]), "exception 01"),
    ("FC3 quantity 0", 1, _read(3, 0, 0), "exception 03"),
    ("FC3 quantity 126", 1, _read(3, 0, 126), "exception 03"),
    ("FC4 quantity 126", 1, _read(4, 0, 126), "exception 03"),
    ("FC16 quantity 0", 1, _write_multiple(WRITABLE, 0, []), "exception 03"),
    ("FC16 quantity 124 (an oversized PDU)", 1, _write_multiple(0, 124, [0] * 124), "exception 03"),
    ("FC16 byte count not 2 x quantity", 1, _write_multiple(WRITABLE, 2, [1], byte_count=2), "exception 03"),
    ("FC3 address + count past 65536", 1, _read(3, 65535, 2), "exception 02"),
    ("FC3 unmapped range", 1, _read(3, 1000, 2), "exception 02"),
    ("FC3 spanning a bank's end", 1, _read(3, 60, 20), "exception 02"),
    ("unknown unit behind a gateway", 99, _read(3, 0, 1), "exception 11"),
    ("broadcast write (unit 0)", 0, struct.pack(">BHH", 6, WRITABLE, 1), "silent"),
]


def exchange(address: tuple[str, int], unit: int, pdu: bytes, wait_s: float = 0.5, tid: int = 7) -> tuple[str, bytes]:
    """Send one request on a fresh connection; (outcome word, answer PDU)."""
    with socket.create_connection(address, timeout=2) as sock:
        sock.sendall(struct.pack(">HHHB", tid, 0, len(pdu) + 1, unit) + pdu)
        sock.settimeout(wait_s)
        data = b""
        try:
            while len(data) < 7 or len(data) < 6 + struct.unpack(">H", data[4:6])[0]:
                chunk = sock.recv(1024)
                if not chunk:
                    return ("closed", b"") if not data else ("truncated", data)
                data += chunk
        except TimeoutError:
            return ("silent", b"") if not data else ("truncated", data)
    answer = data[7:]
    if answer[0] & 0x80:
        if answer[0] != pdu[0] | 0x80:
            return f"exception {answer[1]:02d} under function 0x{answer[0]:02X}", answer
        return f"exception {answer[1]:02d}", answer
    return "ok", answer
