"""Lay out one SunSpec model instance from pysunspec2's definition: every point at its address.

Runs on any thread (pure functions). A model's definition is a group of
points with nested groups; a group repeats ``count`` times, where ``count`` is
a number, the name of a count point read from the device (``NCrv``, ``NPt``,
looked up in the enclosing groups, as pysunspec2 does), ``0`` (as many as the
model's length holds) or absent (once). Laying out therefore needs the
registers already read (``regs``: address -> value). The result is a flat list
of ``Slot`` (one point instance: its definition, address, the path of group
instances it sits in and the names its scale factor may refer to), plus what
did not fit: a model shorter than its definition loses the points past its
end; a longer one leaves registers nobody defines (both reported).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Slot:
    """One point instance of a laid-out model."""

    pdef: dict
    address: int
    path: tuple[tuple[str, int | None], ...]   # (group name, 1-based index or None if not repeating)
    scope: tuple[dict, ...]                     # point name -> address, innermost group first

    @property
    def size(self) -> int:
        return int(self.pdef.get("size", 1))


@dataclass
class Layout:
    """A model instance laid out: its slots and how its length compares with its definition."""

    slots: list[Slot] = field(default_factory=list)
    end: int = 0                   # first address after the model (ID address + 2 + L)
    defined_end: int = 0           # where the definition's layout ends
    unresolved: list[str] = field(default_factory=list)   # groups whose count could not be known

    @property
    def missing_registers(self) -> int:
        """Registers the definition has that the device's model does not (too short)."""
        return max(0, self.defined_end - self.end)

    @property
    def extra_registers(self) -> int:
        """Registers the device's model has past its definition (too long)."""
        return max(0, self.end - self.defined_end)


def own_length(group: dict) -> int:
    """Registers of one instance of ``group``'s own points (nested groups excluded)."""
    return sum(int(p.get("size", 1)) for p in group.get("points", []))


def fixed_length(group: dict) -> int | None:
    """Registers of one instance of ``group`` with its nested groups, if they do not depend on data."""
    total = own_length(group)
    for g in group.get("groups", []):
        count = g.get("count")
        n = 1 if count is None else count
        sub = fixed_length(g)
        if not isinstance(n, int) or n == 0 or sub is None:
            return None
        total += n * sub
    return total


def _count_value(name: str, scope: tuple[dict, ...], regs) -> int | None:
    for names in scope:
        if name in names:
            v = regs.get(names[name]) if regs is not None else None
            return None if v is None or v == 0xFFFF else int(v)
    return None


def _lay(group: dict, addr: int, path, scope, regs, end: int, out: Layout) -> int:
    """Slots of one instance of ``group`` at ``addr``; returns the address after it."""
    names: dict[str, int] = {}
    a = addr
    for pdef in group.get("points", []):
        names[pdef["name"]] = a
        a += int(pdef.get("size", 1))
    scope = (names,) + scope
    for pdef in group.get("points", []):
        out.slots.append(Slot(pdef, names[pdef["name"]], path, scope))
    groups = group.get("groups", [])
    for gi, g in enumerate(groups):
        count = g.get("count")
        if count is None:
            n = 1
        elif isinstance(count, int) and count > 0:
            n = count
        elif isinstance(count, str):
            value = _count_value(count, scope, regs)
            if value is None:
                out.unresolved.append(f"{g['name']} (count {count} unknown)")
                return a
            n = value
        else:  # count 0: as many as the model's length holds (only the last group may do this)
            glen = fixed_length(g)
            if not glen or gi != len(groups) - 1:
                out.unresolved.append(f"{g['name']} (length unknown)")
                return a
            if (end - a) % glen:
                # as pysunspec2: the instances would be misaligned, so none is laid out (not guessed)
                out.unresolved.append(f"{g['name']} ({end - a} registers are no whole number of "
                                      f"{glen}-register instances)")
                return a
            n = max(0, (end - a) // glen)
        for k in range(n):
            a = _lay(g, a, path + ((g["name"], None if count is None else k + 1),), scope, regs, end, out)
    return a


def lay_out(mdef: dict, address: int, length: int, regs=None) -> Layout:
    """The layout of model ``mdef`` whose ID register is at ``address`` and whose L is ``length``.

    ``regs`` (address -> register value) supplies the count points of groups
    that repeat by a count; without it such groups are reported unresolved.
    """
    out = Layout(end=address + 2 + length)
    out.defined_end = _lay(mdef["group"], address, (), (), regs, out.end, out)
    return out


def defined_length(mdef: dict, repeats: int = 0, counts: dict | None = None) -> int:
    """The L a device reports for ``mdef`` with ``repeats`` instances of a count-0 group.

    ``counts`` gives the values of count points (``{"NCrv": 2, "NPt": 4}``).
    """
    counts = counts or {}

    def size(group: dict) -> int:
        total = own_length(group)
        for g in group.get("groups", []):
            count = g.get("count")
            if count is None:
                n = 1
            elif isinstance(count, int) and count > 0:
                n = count
            elif isinstance(count, str):
                n = int(counts.get(count, 1))
            else:
                n = repeats
            total += n * size(g)
        return total
    return size(mdef["group"]) - 2
