"""The simulator's control interface for trainers and tests: JSON lines on a loopback TCP port.

Runs on the simulator's asyncio loop. One request per line,
``{"cmd": "inject_fault", "args": {"code": 101}}``; one answer per line,
``{"ok": true, "result": ...}`` or ``{"ok": false, "error": "..."}``. Only
the commands in ``COMMANDS`` exist; the port listens on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import json

COMMANDS = {
    "status": "status()",
    "inject_fault": "inject_fault(code, unit=1)",
    "clear_faults": "clear_faults(unit=1, code=None)",
    "drop_link": "drop_link(duration_s)",
    "mute": "mute(duration_s)",
    "set_delay": "set_delay(seconds)",
    "corrupt": "corrupt(kind, count=1): kind is corrupt_crc, garbage, truncate or silent",
    "exception_replies": "exception_replies(code, count=1)",
    "fast_forward": "fast_forward(seconds)",
    "set_ct_reversed": "set_ct_reversed(reversed_, unit=1)",
    "power_cycle": "power_cycle(off_s, unit=1)",
    "set_max_clients": "set_max_clients(n=None): Modbus TCP clients at once; 0 closes every client",
    "set_echo": "set_echo(on=True): the RS-485 adapter echoes requests",
    "set_line": "set_line(line=None, mismatch='garbage'): the device's line settings, e.g. 19200-8E1",
    "set_swapped_ab": "set_swapped_ab(on=True): answers arrive bit-inverted",
    "close_tcp": "close_tcp(): stop listening on the Modbus TCP port",
    "open_tcp": "open_tcp(): listen on the Modbus TCP port again",
}


class ControlServer:
    """Serves COMMANDS of a Simulator on 127.0.0.1:port."""

    def __init__(self, simulator, port: int = 0) -> None:
        self.simulator = simulator
        self.port = port
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server:
            self._server.close()
            await self._server.wait_closed()

    def handle(self, line: bytes) -> dict:
        try:
            req = json.loads(line)
            cmd = req.get("cmd")
            if cmd not in COMMANDS:
                return {"ok": False, "error": f"unknown command {cmd!r}; known: {', '.join(COMMANDS)}"}
            result = getattr(self.simulator, cmd)(**req.get("args", {}))
            return {"ok": True, "result": result}
        except (ValueError, TypeError, KeyError) as exc:
            return {"ok": False, "error": str(exc)}

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                writer.write(json.dumps(self.handle(line), default=str).encode() + b"\n")
                await writer.drain()
        finally:
            writer.close()


def send(port: int, cmd: str, host: str = "127.0.0.1", timeout_s: float = 5.0, **args) -> dict:
    """Client side: send one command and return the answer (blocking; for the CLI and tests)."""
    import socket
    with socket.create_connection((host, port), timeout=timeout_s) as sock:
        sock.sendall(json.dumps({"cmd": cmd, "args": args}).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    return json.loads(data)
