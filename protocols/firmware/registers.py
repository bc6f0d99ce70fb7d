"""The pvdesk-bootloader-v1 register window: offsets, commands, states, error codes, chunk framing.

Runs on any thread; constants and pure functions shared by the host
(``upgrade.py``) and the simulated device (``protocols/sim/bootloader.py``).
All offsets are from the profile's ``[firmware_upgrade] base_address``
(61440 = 0xF000 on the reference profile); every register is a holding
register. docs/firmware-protocol.md is the prose version of this file.
"""

from __future__ import annotations

import binascii
import enum
import struct

METHOD = "pvdesk-bootloader-v1"
PROTOCOL_VERSION = 1

# Register offsets from the base address.
COMMAND = 0          # W: a Command
STATE = 1            # R: a State
ERROR = 2            # R: an Error (the last refusal)
PROTOCOL = 3         # R: PROTOCOL_VERSION
MAX_CHUNK = 4        # R: data bytes per chunk the device takes (<= CHUNK_DATA_MAX)
IMAGE_SIZE = 5       # RW u32 (2 registers), big-endian words
IMAGE_SHA256 = 7     # RW 16 registers, the digest's bytes in order
COMPONENT = 23       # RW 4 registers, ASCII, NUL padded
VERSION = 27         # RW 4 registers, ASCII, NUL padded: the staged image's version
RECEIVED = 31        # R u32: bytes of the image the device holds
TEST_LEFT_S = 33     # R: seconds before an unconfirmed test image reverts (0 when not testing)
LAST_RESULT = 34     # R: a Result
STATUS_COUNT = 35    # registers read in one status read (0..34)
CHUNK = 64           # W: [offset_hi, offset_lo, crc16, data...] with up to 120 data registers
WINDOW = 192         # registers the bootloader serves from the base address

CHUNK_HEADER_REGS = 3
CHUNK_DATA_REGS_MAX = 120  # 3 + 120 = 123 registers, the most one function 16 request carries
CHUNK_DATA_MAX = CHUNK_DATA_REGS_MAX * 2


class Command(enum.IntEnum):
    START = 1      # stage size/hash/component/version; resume if they equal the staged ones
    VERIFY = 2     # check the whole image's SHA-256
    ACTIVATE = 3   # reboot into the verified image, in test mode
    CONFIRM = 4    # keep the test image
    ABORT = 5      # discard the staged image (before activation only)
    REVERT = 6     # leave the test image, reboot into the previous one


class State(enum.IntEnum):
    IDLE = 0
    RECEIVING = 1
    RECEIVED = 2
    VERIFIED = 3
    REBOOTING = 4
    TESTING = 5
    ERROR = 6


class Error(enum.IntEnum):
    NONE = 0
    BAD_COMMAND = 1
    BAD_STATE = 2
    OFFSET_MISMATCH = 3
    CHUNK_CRC = 4
    BAD_LENGTH = 5
    HASH_MISMATCH = 6
    TOO_LARGE = 7
    UNKNOWN_COMPONENT = 8


class Result(enum.IntEnum):
    NONE = 0
    CONFIRMED = 1
    REVERTED_TIMEOUT = 2
    REVERTED_BY_HOST = 3
    REVERTED_POWER_LOSS = 4
    ABORTED = 5


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE of a chunk's data bytes (check value 0x29B1 for b"123456789").

    Not the Modbus frame CRC on purpose: it is computed in C by the standard
    library (binascii), which matters at 115200 baud, and it differs from the
    frame check, so it also catches what a gateway re-framed wrongly.
    """
    return binascii.crc_hqx(data, 0xFFFF)


def text_regs(text: str, count: int = 4) -> list[int]:
    raw = text.encode("ascii")[: count * 2].ljust(count * 2, b"\0")
    return [(raw[i] << 8) | raw[i + 1] for i in range(0, count * 2, 2)]


def regs_text(regs: list[int]) -> str:
    raw = b"".join(r.to_bytes(2, "big") for r in regs)
    return raw.split(b"\0", 1)[0].decode("ascii", "replace").strip()


def u32_regs(value: int) -> list[int]:
    return [(value >> 16) & 0xFFFF, value & 0xFFFF]


def regs_u32(regs: list[int]) -> int:
    return (regs[0] << 16) | regs[1]


def bytes_regs(data: bytes) -> list[int]:
    """Bytes as big-endian registers; an odd length is padded with one zero byte."""
    if len(data) % 2:
        data += b"\0"
    return list(struct.unpack(f">{len(data) // 2}H", data))


def regs_bytes(regs: list[int]) -> bytes:
    return struct.pack(f">{len(regs)}H", *regs)


def chunk_regs(offset: int, data: bytes) -> list[int]:
    """The registers of one chunk write: offset, CRC-16 of the data, the data."""
    return u32_regs(offset) + [crc16(data)] + bytes_regs(data)
