"""Every script in examples/ runs and reaches its end (RTL == golden where it verifies)."""

import runpy
from pathlib import Path

import pytest

from snntb.runner import simulator_available

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))


@pytest.mark.skipif(simulator_available("verilator") is not None, reason="no verilator")
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(path, capsys):
    pytest.importorskip("sinabs" if "sinabs" in path.stem else "snntorch")
    result = runpy.run_path(str(path))["main"]()
    assert result["ok"] and result["samples"] > 0
    assert "Verification(" in capsys.readouterr().out
