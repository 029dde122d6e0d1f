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

pip_setting() {  # pip_setting KEY: KEY's value in pip's configuration, if set.
    "$VENV/bin/pip" config list 2>/dev/null |
        sed -n "s/^[^.]*\.$1='\(.*\)'$/\1/p" | tail -n 1
}

# uv installs what pip would, from the sources pip is configured with (it
# reads no pip configuration itself), unpacking and compiling bytecode in
# parallel: a fresh install takes a third of pip's time. Bytecode is
# compiled at install so that the test processes do not each compile the
# same modules. pip installs where uv cannot be had.
uv_install() {
    local args=(--python "$VENV/bin/python" --compile-bytecode
        --index-strategy unsafe-best-match) url
    url=$(pip_setting index-url)
    [ -z "$url" ] || args+=(--index-url "$url")
    for url in $(pip_setting extra-index-url); do
        args+=(--extra-index-url "$url")
    done
    for url in $(pip_setting find-links); do
        args+=(--find-links "$url")
    done
    url=$(pip_setting constraint)
    [ -z "$url" ] || args+=(--constraint "$url")
    "$VENV/bin/uv" pip install -q "${args[@]}" "$@"
}

stamp=$VENV/.keras_bigs_installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    # The export runtimes too, so that no export test skips. The torch
    # backend is tested with a CPU build of torch: PyPI's default Linux
    # wheel is a multi-GB CUDA build, so only a local CPU wheel is used.
    tag=$("$VENV/bin/python" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
    torch_wheel=$(ls ${PIP_FIND_LINKS:-/opt/wheels}/torch-*+cpu-$tag-*.whl 2>/dev/null | head -n 1 || true)
    [ -n "$torch_wheel" ] ||
        echo "No CPU torch wheel found: the torch backend will not be tested."
    packages=(-e ".[dev,onnx,litert,openvino]" ${torch_wheel:+"$torch_wheel"})
    if "$VENV/bin/pip" install -q uv 2>/dev/null; then
        uv_install "${packages[@]}"
    else
        "$VENV/bin/pip" install -q "${packages[@]}"
    fi
    touch "$stamp"
fi
