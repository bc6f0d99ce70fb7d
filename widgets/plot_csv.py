"""Plotted series as CSV: one ``time_utc`` column (ISO 8601, milliseconds, "Z"), then one column per series.

Any thread (plain numpy and the csv module). A missing value (NaN) is an
empty cell, never 0.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping

import numpy as np


def write_series_csv(path: str, t: np.ndarray, columns: Mapping[str, np.ndarray]) -> int:
    """Write ``t`` (Unix seconds) and ``columns`` (header -> values, same length) to ``path``; the row count."""
    stamps = np.datetime_as_string((t * 1000).round().astype("datetime64[ms]"), unit="ms")
    cells = [[("" if math.isnan(v) else f"{v:.7g}") for v in values.tolist()] for values in columns.values()]
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["time_utc", *columns])
        for i, stamp in enumerate(stamps):
            writer.writerow([stamp + "Z"] + [col[i] for col in cells])
    return len(t)
