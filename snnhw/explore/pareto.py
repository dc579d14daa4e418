"""Pareto fronts over a sweep's points.

Objectives: integer accuracy (higher is better), logic cells, block RAM and latency per
inference (lower is better). A point's numbers are measured where it was built (logic
cells and block RAM from the build report, latency = cycles / Fmax) and estimated
elsewhere. Only points that fit their board and finished are candidates, and each board
has its own front: a front across boards of different sizes would compare unlike
things.
"""

from __future__ import annotations

__all__ = ["objectives", "dominates", "front", "fronts", "OBJECTIVES"]

#: (name, +1 to maximise / -1 to minimise)
OBJECTIVES = (("accuracy", +1), ("lc", -1), ("bram", -1), ("latency_us", -1))


def objectives(rec: dict) -> dict | None:
    """The objectives of a finished point that fits, measured where built; else ``None``."""
    r = rec.get("result")
    if rec.get("status") != "ok" or not r or not r["estimate"]["fits"]:
        return None
    est, b = r["estimate"], r.get("build")
    out = {"accuracy": r["accuracy"], "lc": est["lc"], "bram": est["bram"],
           "latency_us": est["latency_us"], "fmax_mhz": None, "measured": False}
    if b:
        out.update(lc=b["lc"], bram=b["bram"], fmax_mhz=b["fmax_mhz"], measured=True)
        if b.get("latency_us") is not None:
            out["latency_us"] = b["latency_us"]
    return out


def dominates(a: dict, b: dict) -> bool:
    """``a`` is at least as good as ``b`` in every objective and better in one."""
    ge = all(sign * a[k] >= sign * b[k] for k, sign in OBJECTIVES)
    gt = any(sign * a[k] > sign * b[k] for k, sign in OBJECTIVES)
    return ge and gt


def front(recs: list[dict]) -> list[str]:
    """Hashes of the non-dominated points among ``recs`` (points without objectives are
    never on it); equal objectives are all kept."""
    cand = [(r["hash"], o) for r in recs if (o := objectives(r)) is not None]
    return [h for h, o in cand if not any(dominates(p, o) for _, p in cand)]


def fronts(recs: list[dict]) -> dict[str, list[str]]:
    """``{board: front hashes}``."""
    boards: dict[str, list[dict]] = {}
    for r in recs:
        boards.setdefault(r["config"]["board"], []).append(r)
    return {b: front(rs) for b, rs in sorted(boards.items())}
