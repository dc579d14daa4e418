"""Every script in examples/ runs and reaches its end (RTL == golden where it verifies)."""

import inspect
import runpy
from pathlib import Path

import pytest

from snntb.runner import simulator_available

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))


@pytest.mark.skipif(simulator_available("verilator") is not None, reason="no verilator")
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(path, capsys, tmp_path):
    pytest.importorskip("sinabs" if "sinabs" in path.stem else "snntorch")
    main = runpy.run_path(str(path))["main"]
    # an example that writes files is given a folder of the test's (it would otherwise
    # make one of its own in the temporary directory and leave it for the user)
    params = inspect.signature(main).parameters
    result = main(tmp_path) if params else main()
    assert result["ok"] and result["samples"] > 0
    assert "Verification(" in capsys.readouterr().out
