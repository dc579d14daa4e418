# Sourced by the job scripts: fail on any error, run from the repository root, set up
# (idempotent), and name the venv's snnhw; outputs go to out/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
VENV="${SNNHW_VENV:-.venv}"
SNNHW="$VENV/bin/snnhw"
mkdir -p out
