#!/usr/bin/env bash
# Create .venv and install keras_bigs with everything its tests need.
# Idempotent: a second run only reinstalls when pyproject.toml changed.
# PYTHON picks the interpreter (default python3.11; 3.11 to 3.13 work) and
# VENV the folder (default .venv), e.g.
#   PYTHON=python3.12 VENV=.venv-py312 bash tools/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
VENV=${VENV:-.venv}
command -v "$PYTHON" >/dev/null || PYTHON=python3
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
stamp=$VENV/.keras_bigs_installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    "$VENV/bin/pip" install -q --upgrade pip
    # The export runtimes too, so that no export test skips.
    "$VENV/bin/pip" install -q -e ".[dev,onnx,litert,openvino]"
    # The torch backend is tested with a CPU build of torch. PyPI's default
    # Linux wheel is a multi-GB CUDA build, so only a local CPU wheel is used.
    tag=$("$VENV/bin/python" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
    wheel=$(ls ${PIP_FIND_LINKS:-/opt/wheels}/torch-*+cpu-$tag-*.whl 2>/dev/null | head -n 1 || true)
    if [ -n "$wheel" ]; then
        "$VENV/bin/pip" install -q "$wheel"
    else
        echo "No CPU torch wheel found: the torch backend will not be tested."
    fi
    touch "$stamp"
fi
