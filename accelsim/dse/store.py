"""The results store of a sweep: SQLite in WAL mode, one row per design point, written as each finishes.

A point's ``key`` is the SHA-256 of its resolved inputs (the arch as written after the axes, the
workload file's content, dataflow, objective, batch, budget, confirmation count), so a restarted sweep
skips what is done, a changed spec adds its new points beside the old ones, and nothing is stored twice
(``INSERT OR IGNORE`` on the primary key; every row is its own transaction, so a killed sweep loses at
most the points in flight).  Pandas reads it: :func:`load_sweep` / ``SweepStore.to_dataframe``.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from ..errors import InputError

FILE = "results.sqlite"
COLUMNS = ("key", "spec_name", "spec_hash", "source", "workload", "dataflow", "objective", "batch", "axes",
           "pes", "onchip_kb", "macs", "cycles", "latency_s", "energy_pj", "edp_pj_cycles", "dram_bytes",
           "utilization", "layers", "created")
SCHEMA = f"""CREATE TABLE IF NOT EXISTS points (
    key TEXT PRIMARY KEY, spec_name TEXT, spec_hash TEXT, source TEXT, workload TEXT, dataflow TEXT,
    objective TEXT, batch INTEGER, axes TEXT, pes INTEGER, onchip_kb REAL, macs INTEGER, cycles INTEGER,
    latency_s REAL, energy_pj REAL, edp_pj_cycles REAL, dram_bytes REAL, utilization REAL, layers TEXT,
    created REAL)"""


class SweepStore:
    """``DIR/results.sqlite`` (module doc)."""

    def __init__(self, folder: str | Path, create: bool = True):
        self.folder = Path(folder)
        path = self.folder / FILE
        if not create and not path.is_file():
            raise InputError(f"no sweep results here ({FILE} not found)", source=str(self.folder))
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, timeout=60)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute(SCHEMA)
            self.db.commit()
        except (OSError, sqlite3.Error) as e:
            raise InputError(f"cannot open the results store: {e}", source=str(path), field="--out") from None

    def done(self) -> set[str]:
        return {k for (k,) in self.db.execute("SELECT key FROM points")}

    def add(self, row: dict) -> bool:
        """Store one point (its own transaction); False if its key was already there."""
        row = {**row, "created": time.time()}
        for k in ("axes", "layers"):
            if not isinstance(row[k], str):
                row[k] = json.dumps(row[k], sort_keys=True)
        cur = self.db.execute(f"INSERT OR IGNORE INTO points ({', '.join(COLUMNS)}) "
                              f"VALUES ({', '.join('?' for _ in COLUMNS)})", [row[c] for c in COLUMNS])
        self.db.commit()
        return cur.rowcount == 1

    def totals(self, keys: list[str]) -> tuple[float, float]:
        """``(energy pJ, cycles)`` summed over the stored points with these keys."""
        marks = ", ".join("?" for _ in keys)
        e, c = self.db.execute(f"SELECT SUM(energy_pj), SUM(cycles) FROM points WHERE key IN ({marks})",
                               list(keys)).fetchone()
        return float(e or 0.0), float(c or 0.0)

    def __len__(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM points").fetchone()[0]

    def to_dataframe(self, layers: bool = False):
        """The points as a pandas frame: one row per point, units in the column names, each axis a
        column of its own (``axis_<name>``); ``layers=True`` keeps the per-layer JSON column."""
        import pandas as pd

        df = pd.read_sql_query("SELECT * FROM points ORDER BY created, key", self.db)
        axes = [json.loads(a) for a in df["axes"]]
        for name in sorted({k for a in axes for k in a}):
            df[f"axis_{name}"] = [a.get(name) for a in axes]
        if not layers:
            df = df.drop(columns=["layers"])
        return df

    def close(self) -> None:
        self.db.close()


def load_sweep(folder: str | Path) -> SweepStore:
    """Open a sweep's results (``accelsim sweep ... --out DIR``) for reading: ``load_sweep(DIR).to_dataframe()``.

    Raises:
        InputError: no store in ``folder``.
    """
    return SweepStore(folder, create=False)
