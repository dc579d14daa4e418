#!/usr/bin/env bash
# Set up (idempotent) and run the test suite. Extra arguments go to pytest,
# e.g. `bash scripts/test.sh -m slow` for the long tests only.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
VENV="${SNNHW_VENV:-.venv}"
"$VENV/bin/ruff" check snnhw tests bench sim boards examples
exec "$VENV/bin/python" -m pytest "$@"
