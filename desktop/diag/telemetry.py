"""Telemetry as Apache Parquet: session log -> bundle member, bundle member -> CSV.

Any thread (the export runs on a worker). One row per poll cycle: ``time``
(timestamp, microseconds, UTC), ``session`` (the connection it belongs to)
and one float64 column per point. A point not read in that cycle (slow
points) is null; a point the device does not implement is NaN. Each column
carries its unit, label and category as field metadata. Written in row
groups of at most 65,536 rows straight from the session log's chunks, so a
week at 1 Hz never sits in memory as Python objects. Why Parquet: see
docs/diagnostics.md ("Telemetry format").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .sessionlog import SessionInfo, SessionLog

ROW_GROUP_ROWS = 65536


@dataclass
class TelemetryStats:
    rows: int = 0
    start_s: float | None = None
    end_s: float | None = None
    text_changes: list[dict] = field(default_factory=list)   # string points (model, versions) when they change
    flag_changes: list[dict] = field(default_factory=list)   # e.g. out_of_range, when the set changes


def schema_for(sessions: list[SessionInfo]) -> pa.Schema:
    """time, session and the union of the sessions' point columns, in first-seen order."""
    columns: dict[str, dict] = {}
    for s in sessions:
        meta = {p["name"]: p for p in s.profile.get("points", [])}
        for name in s.columns:
            if name not in columns:
                p = meta.get(name, {})
                columns[name] = {b"unit": str(p.get("unit", "")).encode(), b"label": str(p.get("label", "")).encode(),
                                 b"category": str(p.get("category", "other")).encode()}
    fields = [pa.field("time", pa.timestamp("us", tz="UTC"), nullable=False),
              pa.field("session", pa.int32(), nullable=False)]
    fields += [pa.field(name, pa.float64(), metadata=meta) for name, meta in columns.items()]
    return pa.schema(fields, metadata={b"pvdesk": b"telemetry/1"})


def write_parquet(log: SessionLog, sessions: list[SessionInfo], sink: BinaryIO | str,
                  t0: float = -math.inf, t1: float = math.inf,
                  progress: Callable[[int], None] | None = None) -> TelemetryStats:
    """Write the sessions' samples within [t0, t1] to ``sink``; returns counts and text/flag changes."""
    schema = schema_for(sessions)
    names = schema.names[2:]
    stats = TelemetryStats()
    last_text: dict[str, str] = {}
    last_flags: dict | None = None
    with pq.ParquetWriter(sink, schema, compression="zstd", compression_level=3, use_dictionary=False,
                          write_statistics=["time"]) as writer:
        for s in sessions:
            where = {n: i for i, n in enumerate(s.columns)}
            for t, vals, present, extras in log.sample_chunks(s.id, len(s.columns), t0, t1, ROW_GROUP_ROWS):
                n = len(t)
                arrays = [pa.array((t * 1e6).round().astype(np.int64), pa.int64()).cast(pa.timestamp("us", tz="UTC")),
                          pa.array(np.full(n, s.id, dtype=np.int32))]
                for name in names:
                    j = where.get(name)
                    if j is None:
                        arrays.append(pa.nulls(n, pa.float64()))
                    else:
                        column = np.ascontiguousarray(vals[:, j])
                        arrays.append(pa.array(column, pa.float64(), mask=~present[:, j]))
                writer.write_table(pa.Table.from_arrays(arrays, schema=schema), row_group_size=ROW_GROUP_ROWS)
                stats.rows += n
                stats.start_s = float(t[0]) if stats.start_s is None else min(stats.start_s, float(t[0]))
                stats.end_s = float(t[-1]) if stats.end_s is None else max(stats.end_s, float(t[-1]))
                for ts, extra in extras:
                    for k, v in extra.get("s", {}).items():
                        if last_text.get(k) != v:
                            last_text[k] = v
                            stats.text_changes.append({"t": ts, "session": s.id, "point": k, "value": v})
                    flags = extra.get("f", {})
                    if flags != last_flags and (flags or last_flags):
                        stats.flag_changes.append({"t": ts, "session": s.id, "flags": flags})
                        last_flags = flags
                if progress:
                    progress(stats.rows)
    return stats


def write_csv(parquet_source, out: BinaryIO | str) -> int:
    """The telemetry as CSV (ISO times, empty = not read, NaN = not implemented); returns rows."""
    pf = pq.ParquetFile(parquet_source)
    rows = 0
    with pacsv.CSVWriter(out, pf.schema_arrow, write_options=pacsv.WriteOptions(include_header=True)) as writer:
        for batch in pf.iter_batches(batch_size=ROW_GROUP_ROWS):
            writer.write_batch(batch)
            rows += batch.num_rows
    return rows
