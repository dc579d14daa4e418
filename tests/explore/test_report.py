"""The report as a person sees it: the HTML page opened in headless Chromium."""

import re
import shutil
import subprocess

import pytest

from snnhw.cli import main
from snnhw.explore import report
from snnhw.explore.store import Store

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _store(path, n_per_board=4):
    """A store of hand-made points (no sweep needed to test the report)."""
    with Store(path) as s:
        for b, board in enumerate(("icebreaker", "ulx3s")):
            for i in range(n_per_board):
                est = {"fits": i != 3, "does_not_fit": None if i != 3 else "bram: needs 40",
                       "lc": 1000 + 400 * i, "bram": 10 + i, "spram": 0, "cycles": 2000,
                       "clock_mhz": 12.0 + 13 * b, "latency_us": 900.0 / (i + 1) / (b + 1),
                       "lanes": [i + 1]}
                s.put({"hash": f"{board[:3]}{i}", "status": "ok",
                       "config": {"board": board, "lanes": str(i + 1), "w_bits": 4 + i,
                                  "u_bits": 16, "clock_mhz": 0.0, "checkpoint": "/x/m.pt"},
                       "result": {"accuracy": 0.9 + 0.01 * i, "timesteps": 4, "spike_bits": 2,
                                  "data": "digits", "estimate": est, "build": None}})
        s.put({"hash": "bad", "status": "failed", "error": "export: no",
               "config": {"board": "ulx3s", "lanes": "8", "w_bits": 2, "u_bits": 8,
                          "clock_mhz": 0.0, "checkpoint": "/x/m.pt"}})
    return 9


def test_rows_mark_fronts_and_failures(tmp_path):
    n = _store(tmp_path / "r.sqlite")
    with Store(tmp_path / "r.sqlite") as s:
        rs = report.rows(s.points())
    assert len(rs) == n
    # on each board the 4th point does not fit; the other three trade accuracy against
    # logic and latency, so all three are on the front
    front = sorted(r["hash"] for r in rs if r["front"])
    assert front == ["ice0", "ice1", "ice2", "ulx0", "ulx1", "ulx2"]
    assert [r["status"] for r in rs if r["hash"] == "bad"] == ["failed: export: no"]
    assert "failed: export: no" in report.table(rs)


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (scripts/setup.sh "
                    "installs Debian's chromium where apt-get runs as root); the report page "
                    "is checked in a real browser only where one exists")
def test_html_report_in_headless_chromium(tmp_path, capsys):
    n = _store(tmp_path / "r.sqlite")
    out = tmp_path / "rep"
    assert main(["explore", "--report", "--store", str(tmp_path / "r.sqlite"), "-o",
                 str(out)]) == 1      # a failed point: exit status 1
    assert "1 point(s) failed" in capsys.readouterr().err
    page = out / "index.html"
    flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    dom = subprocess.run([*flags, "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    body = re.search(r"<body[^>]*>", dom).group(0)
    # the page's own script counted the images the browser decoded, and the table rows
    assert 'data-images-loaded="2/2"' in body, body
    assert f'data-table-rows="{n}"' in body, body
    shot = tmp_path / "shot.png"
    subprocess.run([*flags, "--window-size=1400,1000", f"--screenshot={shot}", page.as_uri()],
                   capture_output=True, timeout=120, check=True)
    import matplotlib.image

    img = matplotlib.image.imread(shot)[..., :3]
    assert img.shape[:2] == (1000, 1400)
    # the plots are on screen: matplotlib's blue and orange markers in the upper half
    top = img[: img.shape[0] // 2]
    blue = (top[..., 2] > 0.6) & (top[..., 0] < 0.3)
    orange = (top[..., 0] > 0.9) & (top[..., 1] > 0.4) & (top[..., 1] < 0.65) & (top[..., 2] < 0.3)
    assert blue.sum() > 50 and orange.sum() > 50, (blue.sum(), orange.sum())


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["explore", "--report", "--store", str(tmp_path / "none.sqlite")]) == 2
    assert "no results store" in capsys.readouterr().err
    bad = tmp_path / "s.toml"
    bad.write_text("lanes = [1]\n")
    assert main(["explore", "--space", str(bad), "--store", str(tmp_path / "a.sqlite")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no checkpoints" in err
    notdb = tmp_path / "x.sqlite"
    notdb.write_text("hello")
    assert main(["explore", "--report", "--store", str(notdb)]) == 2
    assert "not a results store" in capsys.readouterr().err
    assert main(["explore", "x.pt", "--resume", "--redo"]) == 2
    assert "exclude" in capsys.readouterr().err
    # a report folder that cannot be one: refused before anything runs
    _store(tmp_path / "ok.sqlite")
    assert main(["explore", "--report", "--store", str(tmp_path / "ok.sqlite"), "-o",
                 str(notdb)]) == 2
    assert "a file is in the way" in capsys.readouterr().err
