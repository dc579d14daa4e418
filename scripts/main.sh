#!/usr/bin/env bash
# Set up (idempotent) and run the main job on the default data; outputs go to out/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
VENV="${SNNHW_VENV:-.venv}"
SNNHW="$VENV/bin/snnhw"
mkdir -p out
NET="$("$VENV/bin/python" -c 'from snnhw.examples import example_paths; print(example_paths()[0])')"
INPUT="$("$VENV/bin/python" -c 'from snnhw.examples import example_paths; print(example_paths()[1])')"
echo "== info: the shipped example network"
"$SNNHW" info "$NET"
echo "== run: golden model on the shipped example input"
"$SNNHW" run "$NET" --input "$INPUT" --trace out/example_trace.npz
