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
# System packages from apt, when missing and we can (root + apt-get); without them the
# tests that need them skip and say why.
apt_install() {   # apt_install COMMAND PACKAGE WHAT-SKIPS
    command -v "$1" >/dev/null 2>&1 && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing $2 (apt-get)"
        (apt-get update -qq && apt-get install -y -qq "$2") >/dev/null 2>&1 \
            || echo "setup: could not install $2; $3 will be skipped"
    else
        echo "setup: $2 is missing and cannot be installed here (needs root and apt-get);" \
             "$3 will be skipped"
    fi
}
# Icarus Verilog: the second simulator of the co-verification
apt_install iverilog iverilog "Icarus simulations"
# Chromium (headless): checks the explore report page as a browser shows it
command -v chromium-browser >/dev/null 2>&1 \
    || apt_install chromium chromium "the explore report's browser test"
stamp="$VENV/.snnhw-setup-stamp"
want="$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
    echo "setup: installing snnhw and its dependencies into $VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -e ".[dev]"
    # Sinabs for the NIR example and tests: it declares nir<=1.0.4 and SynSense's samna,
    # neither of which it needs for to_nir
    "$VENV/bin/python" -m pip install -q --no-deps "sinabs==3.1.3" "pbr>=6"
    echo "$want" > "$stamp"
fi
