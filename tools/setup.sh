#!/usr/bin/env bash
# Create .venv and install keras_bigs with everything its tests need.
# Idempotent: a second run only reinstalls when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.keras_bigs_installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/pip install -q --upgrade pip
    .venv/bin/pip install -q -e ".[dev]"
    # The torch backend is tested with a CPU build of torch. PyPI's default
    # Linux wheel is a multi-GB CUDA build, so only a local CPU wheel is used.
    wheel=$(ls ${PIP_FIND_LINKS:-/opt/wheels}/torch-*+cpu-cp311-*.whl 2>/dev/null | head -n 1 || true)
    if [ -n "$wheel" ]; then
        .venv/bin/pip install -q "$wheel"
    else
        echo "No CPU torch wheel found: the torch backend will not be tested."
    fi
    touch "$stamp"
fi
