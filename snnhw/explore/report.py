"""A sweep's results for people: a table, each board's Pareto front, two plots
(accuracy vs logic cells, accuracy vs latency; one marker per board, the front drawn
and ringed) and an HTML page that shows them with the table."""

from __future__ import annotations

import html
from pathlib import Path

from ..util import atomic_path, format_table, write_text_atomic
from .pareto import fronts, objectives

__all__ = ["rows", "table", "plots", "write_html", "HEADER"]

HEADER = ["hash", "checkpoint", "arch", "board", "core", "lanes", "w_bits", "u_bits", "T",
          "spike_bits",
          "accuracy", "lc", "bram", "latency_us", "fmax_mhz", "fits", "front", "status"]
MARKERS = {"icebreaker": "o", "ulx3s": "s", "orangecrab": "^"}


def rows(recs: list[dict]) -> list[dict]:
    """One flat dict per point (the table's columns; measured numbers where built)."""
    on_front = {h for hs in fronts(recs).values() for h in hs}
    out = []
    for r in sorted(recs, key=_order):
        c, res = r["config"], r.get("result") or {}
        est = res.get("estimate") or {}
        o = objectives(r) or {}
        out.append({
            "hash": r["hash"], "board": c["board"], "core": c.get("core", "pipeline"),
            "lanes": c["lanes"],
            "w_bits": c["w_bits"], "u_bits": c["u_bits"],
            "T": res.get("timesteps"), "spike_bits": res.get("spike_bits"),
            "accuracy": res.get("accuracy"),
            "lc": o.get("lc", est.get("lc")), "bram": o.get("bram", est.get("bram")),
            "latency_us": o.get("latency_us", est.get("latency_us")),
            "fmax_mhz": o.get("fmax_mhz"), "measured": o.get("measured", False),
            "fits": est.get("fits"), "front": r["hash"] in on_front,
            "status": r["status"] if r["status"] == "ok" else f"failed: {r['error']}",
            "checkpoint": _short(c["checkpoint"]), "arch": res.get("arch"),
            "data": res.get("data"),
            "clock_mhz": est.get("clock_mhz"),
        })
    return out


def _short(path: str) -> str:
    """A checkpoint's path relative to the working folder when under it."""
    p = Path(path)
    try:
        return str(p.relative_to(Path.cwd()))
    except ValueError:
        return str(p)


def _order(r: dict):
    c = r["config"]
    lanes = [int(v) for v in c["lanes"].split(",")]
    return (c["board"], c["checkpoint"], c.get("core", "pipeline"), lanes, c["w_bits"],
            c["u_bits"], c["clock_mhz"],
            r["hash"])


def _cell(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.4f}" if v <= 1 else f"{v:g}"
    return str(v)


def table(rs: list[dict]) -> str:
    return format_table([[_cell(r[k]) for k in HEADER] for r in rs], HEADER)


def plots(rs: list[dict], out_dir: Path) -> list[Path]:
    """``accuracy_vs_lc.png`` and ``accuracy_vs_latency.png`` in ``out_dir``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    pts = [r for r in rs if r["accuracy"] is not None and r["fits"]]
    for key, label, name in (("lc", "logic cells", "accuracy_vs_lc.png"),
                             ("latency_us", "latency per inference (us)",
                              "accuracy_vs_latency.png")):
        fig, ax = plt.subplots(figsize=(6.4, 4.4))
        for n, b in enumerate(sorted({r["board"] for r in pts})):
            mine = [r for r in pts if r["board"] == b]
            # boards often share a point's numbers: later boards drawn smaller, on top
            ax.scatter([r[key] for r in mine], [r["accuracy"] for r in mine],
                       marker=MARKERS.get(b, "D"), s=90 / (1 + 1.5 * n), label=b, alpha=0.8,
                       zorder=2 + n)
            step = _front_2d(mine, key)
            ax.step([r[key] for r in step], [r["accuracy"] for r in step], where="post",
                    ls="--", lw=1, color=ax.collections[-1].get_facecolor()[0])
            fr = [r for r in mine if r["front"]]
            ax.scatter([r[key] for r in fr], [r["accuracy"] for r in fr], s=140,
                       facecolors="none", edgecolors="black", linewidths=1.2)
        ax.scatter([], [], s=140, facecolors="none", edgecolors="black",
                   label="on its board's front (all four objectives)")
        ax.plot([], [], "k--", lw=1, label="front in this plane")
        if key == "latency_us":
            ax.set_xscale("log")
        ax.set_xlabel(label + (" (measured where built)" if any(r["measured"] for r in pts)
                               else " (estimated)"))
        ax.set_ylabel("integer accuracy (golden model, test split)")
        ax.set_title(f"{len(pts)} points that fit their board", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        path = out_dir / name
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=100, format="png")
        plt.close(fig)
        paths.append(path)
    return paths


def _front_2d(rs: list[dict], key: str) -> list[dict]:
    """The points no other point beats in both ``key`` (lower) and accuracy (higher),
    in rising ``key``: the staircase drawn in a plot."""
    out, best = [], None
    for r in sorted(rs, key=lambda r: (r[key], -r["accuracy"])):
        if best is None or r["accuracy"] > best:
            out.append(r)
            best = r["accuracy"]
    return out


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>snnhw explore: {title}</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; color: #222; }}
table {{ border-collapse: collapse; font-size: 13px; }}
th, td {{ border: 1px solid #bbb; padding: 2px 6px; text-align: right; }}
th {{ background: #eee; }} tr.front td {{ background: #e8f4e0; font-weight: bold; }}
tr.failed td {{ color: #a00; }} .plots img {{ max-width: 48%; margin-right: 1%; }}
</style></head>
<body data-points="{n}">
<h1>snnhw explore: {title}</h1>
<p>{summary}</p>
<div class="plots">{images}</div>
<h2>Points</h2>
<table id="points"><thead><tr>{head}</tr></thead><tbody>
{body}
</tbody></table>
<p>Front rows (green) are non-dominated on their board in accuracy, logic cells, block RAM
and latency; logic cells, block RAM and latency are measured where a point was built
(fmax given), estimated elsewhere.</p>
<script>
function check() {{
  const imgs = Array.from(document.images);
  const ok = imgs.filter(i => i.complete && i.naturalWidth > 0).length;
  document.body.setAttribute("data-images-loaded", ok + "/" + imgs.length);
  document.body.setAttribute("data-table-rows",
    document.querySelectorAll("#points tbody tr").length);
}}
window.addEventListener("load", check);
</script>
</body></html>
"""


def write_html(rs: list[dict], images: list[Path], path: Path, *, title: str,
               summary: str) -> Path:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in HEADER)
    body = []
    for r in rs:
        cls = "front" if r["front"] else ("failed" if r["status"] != "ok" else "")
        cells = "".join(f"<td>{html.escape(_cell(r[k]))}</td>" for k in HEADER)
        body.append(f'<tr class="{cls}">{cells}</tr>')
    imgs = "".join(f'<img src="{html.escape(p.name)}" alt="{html.escape(p.stem)}">'
                   for p in images)
    text = _PAGE.format(title=html.escape(title), summary=html.escape(summary), n=len(rs),
                        images=imgs, head=head, body="\n".join(body))
    return write_text_atomic(path, text)
