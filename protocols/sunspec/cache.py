"""The discovered SunSpec model chain per device (manufacturer, model, serial), for the next connection.

Runs on the device I/O thread (get/put are quick; the file is written
whole, to a temporary file first). In memory only unless a path is given
(the desktop passes one in the app's data folder). A chain found to no
longer match the device's headers is simply walked again and replaced.
"""

from __future__ import annotations

import json
import os
from pathlib import Path


class ChainCache:
    """Maps (manufacturer, model, serial) -> {"base": int, "chain": [[id, address, L], ...]}."""

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = Path(path) if path else None
        self._data: dict[str, dict] = {}
        if self.path and self.path.is_file():
            try:
                self._data = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self._data = {}  # a damaged cache costs one walk, nothing else

    @staticmethod
    def _key(key: tuple) -> str:
        return "|".join(str(k) for k in key)

    def get(self, key: tuple) -> dict | None:
        return self._data.get(self._key(key))

    def put(self, key: tuple, entry: dict) -> None:
        self._data[self._key(key)] = entry
        if self.path:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                tmp = self.path.with_suffix(".tmp")
                tmp.write_text(json.dumps(self._data), encoding="utf-8")
                os.replace(tmp, self.path)
            except OSError:
                pass  # the cache is an optimisation: a read-only folder must not stop a connection


#: The process-wide cache (in memory); the desktop may replace it with one backed by a file.
DEFAULT = ChainCache()
