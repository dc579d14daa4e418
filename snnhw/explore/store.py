"""The results store: one SQLite file (the standard library's ``sqlite3``), one row per
point, written as soon as the point finishes.

Rows are keyed by the point's hash (:attr:`~snnhw.explore.space.Point.hash`), so two
sweeps that share points share their rows, and a sweep that is interrupted and run
again with ``--resume`` finds what it finished. Each sweep is recorded with the hashes
it covers (``sweep_points``), so a report can show one sweep or the whole store.

The file is opened in WAL mode with a busy timeout, so two sweeps writing one store at
once wait for each other instead of failing.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from ..errors import SnnhwError
from ..util import printable

__all__ = ["Store", "StoreError", "SCHEMA_VERSION"]

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS points (
    hash TEXT PRIMARY KEY,
    config TEXT NOT NULL,        -- JSON: the point (Point.as_dict)
    status TEXT NOT NULL,        -- ok | failed
    error TEXT,                  -- why it failed (one line)
    result TEXT,                 -- JSON: accuracy, estimate, build
    versions TEXT,               -- JSON: tool versions of the worker
    timings TEXT,                -- JSON: seconds per stage
    attempts INTEGER NOT NULL,   -- 1, or 2 when a worker died under it
    worker TEXT,
    finished REAL NOT NULL       -- Unix time
);
CREATE TABLE IF NOT EXISTS sweeps (
    id INTEGER PRIMARY KEY AUTOINCREMENT, started REAL NOT NULL, space TEXT NOT NULL,
    build TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sweep_points (
    sweep INTEGER NOT NULL, hash TEXT NOT NULL, PRIMARY KEY (sweep, hash));
"""


class StoreError(SnnhwError, ValueError):
    """A file that is not a results store, or one of another schema version."""


class Store:
    """A results store at ``path`` (created when missing). A file that is not one (not
    SQLite, or an SQLite database of other tables) is refused without being changed;
    ``readonly`` opens an existing store for reading only (reports)."""

    def __init__(self, path: str | Path, *, readonly: bool = False):
        self.path = Path(path)
        if self.path.exists() and not self.path.is_file():
            raise StoreError(f"{self.path}: not a regular file")
        exists = self.path.exists() and self.path.stat().st_size > 0
        if readonly and not exists:
            raise StoreError(f"{self.path}: not a results store (an empty file)")
        if exists:
            with open(self.path, "rb") as f:
                if f.read(16) != b"SQLite format 3\x00":
                    raise StoreError(f"{self.path}: not a results store (not an SQLite file)")
            self._check_tables()
        if not readonly:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            if readonly:
                self.db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True,
                                          timeout=60, isolation_level=None)
            else:
                self.db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.executescript(_SCHEMA)
                self.db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)",
                                (str(SCHEMA_VERSION),))
            got = self.db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a results store ({exc})") from None
        if got != str(SCHEMA_VERSION):
            raise StoreError(f"{self.path}: store schema {got}, this snnhw reads "
                             f"{SCHEMA_VERSION}")

    def _check_tables(self) -> None:
        """An existing SQLite file is a store only if it has the store's ``meta`` table
        with a schema row, or no table at all (a new database); checked read-only."""
        try:
            db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True,
                                 timeout=60)
            try:
                tables = {r[0] for r in db.execute(
                    "SELECT name FROM sqlite_master WHERE type='table'")}
                ours = "meta" in tables and db.execute(
                    "SELECT count(*) FROM meta WHERE key='schema'").fetchone()[0] == 1
            finally:
                db.close()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a results store ({exc})") from None
        if tables and not ours:
            names = ", ".join(sorted(tables)[:5])
            raise StoreError(f"{self.path}: not a results store (an SQLite database of other "
                             f"tables: {printable(names)}); it is left as it was")

    def close(self) -> None:
        self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def begin_sweep(self, space: dict, hashes: list[str], build: str) -> int:
        cur = self.db.execute("INSERT INTO sweeps (started, space, build) VALUES (?, ?, ?)",
                              (time.time(), json.dumps(space, sort_keys=True), build))
        sweep = cur.lastrowid
        self.db.executemany("INSERT OR IGNORE INTO sweep_points VALUES (?, ?)",
                            [(sweep, h) for h in hashes])
        return sweep

    def put(self, rec: dict) -> None:
        """Write one finished point (``rec`` as :func:`snnhw.explore.point.evaluate`
        returns it), replacing an earlier row of the same hash."""
        self.db.execute(
            "INSERT OR REPLACE INTO points VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (rec["hash"], json.dumps(rec["config"], sort_keys=True), rec["status"],
             rec.get("error"), json.dumps(rec.get("result"), sort_keys=True),
             json.dumps(rec.get("versions"), sort_keys=True),
             json.dumps(rec.get("timings"), sort_keys=True), int(rec.get("attempts", 1)),
             rec.get("worker"), time.time()))

    def get(self, hash_: str) -> dict | None:
        row = self.db.execute("SELECT * FROM points WHERE hash=?", (hash_,)).fetchone()
        return None if row is None else _row(row)

    def statuses(self) -> dict[str, str]:
        """``{hash: status}`` of every point in the store."""
        return dict(self.db.execute("SELECT hash, status FROM points"))

    def points(self, sweep: int | None = None) -> list[dict]:
        """Every point (of one sweep, or of the whole store), oldest first."""
        if sweep is None:
            rows = self.db.execute("SELECT * FROM points ORDER BY finished, hash")
        else:
            rows = self.db.execute(
                "SELECT p.* FROM points p JOIN sweep_points s ON p.hash = s.hash "
                "WHERE s.sweep = ? ORDER BY p.finished, p.hash", (sweep,))
        return [_row(r) for r in rows]

    def sweeps(self) -> list[dict]:
        return [{"id": i, "started": t, "space": json.loads(s), "build": b}
                for i, t, s, b in self.db.execute("SELECT * FROM sweeps ORDER BY id")]

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM points").fetchone()[0]


def _row(row) -> dict:
    h, config, status, error, result, versions, timings, attempts, worker, finished = row
    return {"hash": h, "config": json.loads(config), "status": status, "error": error,
            "result": json.loads(result) if result else None,
            "versions": json.loads(versions) if versions else None,
            "timings": json.loads(timings) if timings else None,
            "attempts": attempts, "worker": worker, "finished": finished}
