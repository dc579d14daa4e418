import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", deadline=None, suppress_health_check=[HealthCheck.too_slow],
    max_examples=int(os.environ.get("SNNHW_HYPOTHESIS_EXAMPLES", "100")))
settings.register_profile("ci", parent=settings.get_profile("default"), derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")


_ROOT = Path(__file__).resolve().parent.parent
_USER_OUTPUTS = ("out", "rtl_out")   # where the commands write by default


def _snapshot():
    """Every file under the checkout's default output folders, with size and time."""
    files = {}
    for top in _USER_OUTPUTS:
        for p in (_ROOT / top).rglob("*"):
            if p.is_file():
                st = p.stat()
                files[str(p.relative_to(_ROOT))] = (st.st_size, st.st_mtime_ns)
    return files


@pytest.fixture(scope="session", autouse=True)
def checkout_outputs_untouched():
    """The suite writes only to temporary folders: a user's trained model in out/ or
    Verilog in rtl_out/ must survive a test run (a command run without -o writes there)."""
    before = _snapshot()
    yield
    after = _snapshot()
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert not changed, f"the tests wrote into the checkout: {changed[:10]}"
