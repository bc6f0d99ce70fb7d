"""Corpus images: a real device's register capture in the ``pvdesk-corpus/1`` format, loaded and checked.

Pure data, no I/O thread: ``load_image`` runs wherever it is called (the
replay peer's start-up, the golden tests' collection). A file is validated
whole before anything is served from it, and every problem is reported as one
line naming the file and the field (``ImageError``), so a contributor adding
an image sees at once what to fix.

The format (documented in docs/corpus.md)::

    {"format": "pvdesk-corpus/1", "id": ..., "kind": "real" | "synthetic",
     "device": {"vendor", "model", "firmware", "serial"}, "profile": "goodwe-et",
     "provenance": {"repository", "commit", "path", "licence", "what"} (or "url" instead of
                    "commit" for an issue thread or a document),
     "unit": 1, "blocks": [{"unit", "function", "address", "registers"}],
     "quirks": {"answer_delay_s", "max_registers_per_read", "zero_gaps", "first_answer_delay_s"},
     "published": [{"source_name", "value", "unit", "point", "note"}]}

Optional keys beyond the brief's: ``autodetect`` (false when the profile is
not expected to be auto-detected on this device, with ``autodetect_reason``),
``notes`` (free text), and per published value ``known_wrong``
(``{"issue": N, "reason": "..."}``: PVDesk is known to read it wrongly and
the issue that owns the fix) and ``factor`` (PVDesk's value = value x
factor: -1 where the source counts the other way round, 1000 for kW -> W).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from ..errors import PVDeskError

FORMAT = "pvdesk-corpus/1"
KINDS = ("real", "synthetic")
FUNCTIONS = {3: "holding", 4: "input"}
QUIRK_DEFAULTS = {"answer_delay_s": 0.0, "max_registers_per_read": 125, "zero_gaps": False,
                  "first_answer_delay_s": 0.0}


class ImageError(PVDeskError, ValueError):
    """A corpus file that cannot be used; the message is one line naming the file and the field."""


@dataclass(frozen=True)
class Block:
    unit: int
    function: int          # 3 (holding) or 4 (input)
    address: int
    registers: tuple[int, ...]

    @property
    def end(self) -> int:
        """First address after the block."""
        return self.address + len(self.registers)


@dataclass(frozen=True)
class Quirks:
    answer_delay_s: float = 0.0
    max_registers_per_read: int = 125
    zero_gaps: bool = False
    first_answer_delay_s: float = 0.0


@dataclass(frozen=True)
class Published:
    """One value the source itself publishes for this capture, and the PVDesk point it maps to."""

    source_name: str
    value: Any
    unit: str
    point: str
    note: str = ""
    known_wrong: dict | None = None  # {"issue": N, "reason": "..."}
    factor: float = 1                # PVDesk's value = value x factor (-1: the source counts the other way)


@dataclass
class DeviceImage:
    path: Path
    id: str
    kind: str
    device: dict
    profile: str
    provenance: dict
    unit: int
    blocks: list[Block]
    quirks: Quirks
    published: list[Published]
    autodetect: bool = True
    autodetect_reason: str = ""
    extra: dict = field(default_factory=dict)

    def registers(self, unit: int, function: int) -> dict[int, int]:
        """address -> value of every register the image holds at ``unit`` for ``function``."""
        out: dict[int, int] = {}
        for b in self.blocks:
            if b.unit == unit and b.function == function:
                out.update({b.address + i: v for i, v in enumerate(b.registers)})
        return out

    @property
    def units(self) -> list[int]:
        return sorted({b.unit for b in self.blocks})

    @property
    def label(self) -> str:
        return f"{self.device.get('vendor', '?')} {self.device.get('model', '?')}"


def _need(data: dict, key: str, types, where: str, fail) -> Any:
    if key not in data:
        fail(f"{where}{key} is missing")
    value = data[key]
    if not isinstance(value, types) or isinstance(value, bool) and bool not in _tuple(types):
        fail(f"{where}{key} must be {_type_name(types)}, got {type(value).__name__}")
    return value


def _tuple(types) -> tuple:
    return types if isinstance(types, tuple) else (types,)


def _type_name(types) -> str:
    names = {int: "an integer", float: "a number", str: "a string", dict: "an object", list: "a list",
             bool: "true or false"}
    return " or ".join(names.get(t, t.__name__) for t in _tuple(types))


def parse_image(data: Any, path: Path | str = "<image>") -> DeviceImage:
    """A DeviceImage from decoded JSON; ImageError (one line: file, field, what to do) when invalid."""
    path = Path(path)

    def fail(msg: str):
        raise ImageError(f"{path.name}: {msg}")

    if not isinstance(data, dict):
        fail("the file must hold one JSON object")
    fmt = data.get("format")
    if fmt != FORMAT:
        fail(f"format must be {FORMAT!r}, got {fmt!r}")
    ident = _need(data, "id", str, "", fail)
    kind = _need(data, "kind", str, "", fail)
    if kind not in KINDS:
        fail(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    device = _need(data, "device", dict, "", fail)
    for key in ("vendor", "model"):
        _need(device, key, str, "device.", fail)
    profile = _need(data, "profile", str, "", fail)
    provenance = _need(data, "provenance", dict, "", fail)
    for key in ("repository", "licence", "what") if kind == "real" else ("what",):
        _need(provenance, key, str, "provenance.", fail)
    commit = provenance.get("commit")
    if kind == "real" and commit is None and isinstance(provenance.get("url"), str):
        pass  # an issue thread or a document has no commit: its address is the provenance
    elif kind == "real" and not (isinstance(commit, str) and len(commit) == 40
                                 and all(c in "0123456789abcdef" for c in commit.lower())):
        fail(f"provenance.commit must be the source's 40-hex commit (or give provenance.url for an "
             f"issue thread or a document), got {commit!r}")
    unit = data.get("unit", 1)
    if not isinstance(unit, int) or isinstance(unit, bool) or not 0 <= unit <= 255:
        fail(f"unit must be an integer 0..255, got {unit!r}")
    blocks = _blocks(_need(data, "blocks", list, "", fail), unit, fail)
    quirks = _quirks(data.get("quirks", {}), fail)
    published = _published(_need(data, "published", list, "", fail), fail)
    autodetect = data.get("autodetect", True)
    if not isinstance(autodetect, bool):
        fail(f"autodetect must be true or false, got {autodetect!r}")
    known = {"format", "id", "kind", "device", "profile", "provenance", "unit", "blocks", "quirks",
             "published", "autodetect", "autodetect_reason"}
    return DeviceImage(path=path, id=ident, kind=kind, device=device, profile=profile,
                       provenance=provenance, unit=unit, blocks=blocks, quirks=quirks,
                       published=published, autodetect=autodetect,
                       autodetect_reason=str(data.get("autodetect_reason", "")),
                       extra={k: v for k, v in data.items() if k not in known})


def _blocks(items: list, default_unit: int, fail) -> list[Block]:
    if not items:
        fail("blocks is empty: an image needs at least one register block")
    out: list[Block] = []
    for i, b in enumerate(items):
        where = f"blocks[{i}]."
        if not isinstance(b, dict):
            fail(f"blocks[{i}] must be an object")
        unit = b.get("unit", default_unit)
        if not isinstance(unit, int) or isinstance(unit, bool) or not 0 <= unit <= 255:
            fail(f"{where}unit must be an integer 0..255, got {unit!r}")
        fn = _need(b, "function", int, where, fail)
        if fn not in FUNCTIONS:
            fail(f"{where}function must be 3 (holding) or 4 (input), got {fn}")
        addr = _need(b, "address", int, where, fail)
        regs = _need(b, "registers", list, where, fail)
        if not regs:
            fail(f"{where}registers is empty")
        for j, r in enumerate(regs):
            if not isinstance(r, int) or isinstance(r, bool) or not 0 <= r <= 0xFFFF:
                fail(f"{where}registers[{j}] must be an unsigned 16-bit integer 0..65535, got {r!r}")
        if not addr >= 0 or addr + len(regs) > 65536:
            fail(f"{where}address {addr} with {len(regs)} registers leaves the register space 0..65535")
        out.append(Block(unit, fn, addr, tuple(regs)))
    ordered = sorted(range(len(out)), key=lambda k: (out[k].unit, out[k].function, out[k].address))
    for a, b in pairwise(ordered):
        x, y = out[a], out[b]
        if (x.unit, x.function) == (y.unit, y.function) and y.address < x.end:
            fail(f"blocks[{b}] (unit {y.unit}, function {y.function}, from {y.address}) overlaps "
                 f"blocks[{a}] ({x.address}..{x.end - 1}); merge them or remove the duplicate registers")
    return out


def _quirks(data: Any, fail) -> Quirks:
    if not isinstance(data, dict):
        fail("quirks must be an object")
    unknown = sorted(set(data) - set(QUIRK_DEFAULTS))
    if unknown:
        fail(f"quirks.{unknown[0]} is not a known quirk (known: {', '.join(QUIRK_DEFAULTS)})")
    values = dict(QUIRK_DEFAULTS, **data)
    for key in ("answer_delay_s", "first_answer_delay_s"):
        v = values[key]
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 <= v <= 60:
            fail(f"quirks.{key} must be seconds 0..60, got {v!r}")
    m = values["max_registers_per_read"]
    if not isinstance(m, int) or isinstance(m, bool) or not 1 <= m <= 125:
        fail(f"quirks.max_registers_per_read must be an integer 1..125, got {m!r}")
    if not isinstance(values["zero_gaps"], bool):
        fail(f"quirks.zero_gaps must be true or false, got {values['zero_gaps']!r}")
    return Quirks(float(values["answer_delay_s"]), m, values["zero_gaps"], float(values["first_answer_delay_s"]))


def _published(items: list, fail) -> list[Published]:
    out = []
    for i, p in enumerate(items):
        where = f"published[{i}]."
        if not isinstance(p, dict):
            fail(f"published[{i}] must be an object")
        name = _need(p, "source_name", str, where, fail)
        if "value" not in p or not isinstance(p["value"], (int, float, str)) or isinstance(p["value"], bool):
            fail(f"{where}value must be a number or a string, got {p.get('value')!r}")
        point = _need(p, "point", str, where, fail)
        unit = p.get("unit", "")
        if not isinstance(unit, str):
            fail(f"{where}unit must be a string")
        known = p.get("known_wrong")
        if known is not None and not (isinstance(known, dict) and isinstance(known.get("issue"), int)
                                      and isinstance(known.get("reason"), str)):
            fail(f"{where}known_wrong must be {{\"issue\": N, \"reason\": \"...\"}}")
        factor = p.get("factor", 1)
        if not isinstance(factor, (int, float)) or isinstance(factor, bool) or factor == 0:
            fail(f"{where}factor must be a non-zero number (PVDesk's value = value x factor), got {factor!r}")
        if isinstance(p["value"], str) and factor != 1:
            fail(f"{where}factor applies to numbers only; {name} is a string")
        out.append(Published(name, p["value"], unit, point, str(p.get("note", "")), known, factor))
    return out


def load_image(path: str | Path) -> DeviceImage:
    """Read and validate one corpus file (ImageError with a one-line message when it is unusable)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ImageError(f"{path}: cannot read the file: {exc.strerror or exc}; give the path of a "
                         "pvdesk-corpus/1 JSON file (tests/corpus/images/...)") from None
    except UnicodeDecodeError:
        raise ImageError(f"{path.name}: not UTF-8 text; a corpus image is a JSON file") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImageError(f"{path.name}: not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    return parse_image(data, path)


def corpus_files(root: str | Path) -> list[Path]:
    """Every ``*.json`` under ``root`` (the corpus' images folder), sorted."""
    return sorted(Path(root).rglob("*.json"))
