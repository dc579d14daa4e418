"""The benchmarks run and report what they claim (small sizes; no timing asserted)."""

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_golden_speed_reports_exact_json():
    r = subprocess.run([sys.executable, str(BENCH / "golden_speed.py"), "--json",
                        "--sizes", "40,20,5", "--batch", "16", "--naive-samples", "2",
                        "--repeat", "1"], capture_output=True, text=True, check=True)
    d = json.loads(r.stdout)
    assert d["exact"] is True
    assert d["network"] == [40, 20, 5] and d["naive_samples"] == 2
    assert d["golden_inferences_per_s"] > 0 and d["naive_inferences_per_s"] > 0
