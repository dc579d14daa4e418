#!/usr/bin/env bash
# Idempotent set-up of a fresh machine: a virtual environment in .venv with
# snnhw (editable) and everything its tests and main job need. Re-running it
# does nothing unless pyproject.toml or this script changed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV="${SNNHW_VENV:-.venv}"
PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
    echo "setup: creating $VENV"
    "$PY" -m venv "$VENV"
fi
# Icarus Verilog is a system package: install it when missing and we can (root + apt).
if ! command -v iverilog >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing iverilog (apt-get)"
        (apt-get update -qq && apt-get install -y -qq iverilog) >/dev/null 2>&1 \
            || echo "setup: could not install iverilog; Icarus simulations will be skipped"
    else
        echo "setup: iverilog is missing and cannot be installed here (needs root and" \
             "apt-get); Icarus simulations will be skipped"
    fi
fi
# Chromium (headless) checks the explore report page as a browser shows it; without it
# that one test is skipped and says why.
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing chromium (apt-get), for the explore report's browser test"
        (apt-get update -qq && apt-get install -y -qq chromium) >/dev/null 2>&1 \
            || echo "setup: could not install chromium; the report's browser test will be skipped"
    else
        echo "setup: chromium is missing and cannot be installed here; the explore report's" \
             "browser test will be skipped"
    fi
fi
stamp="$VENV/.snnhw-setup-stamp"
want="$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
    echo "setup: installing snnhw and its dependencies into $VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -e ".[dev]"
    echo "$want" > "$stamp"
fi
