#!/usr/bin/env bash
# Run the test suite on every Keras backend: jax, tensorflow, and torch
# (when installed). Extra arguments go to pytest, e.g. `bash tests/run.sh -x`.
# Test files run in parallel worker processes (pytest-xdist; one file stays
# on one worker, so module fixtures are built once): BIGS_TEST_WORKERS sets
# how many (default: one per CPU core; 0 runs in this process).
set -uo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh || exit 1
backends="jax tensorflow"
.venv/bin/python -c "import torch" 2>/dev/null && backends="$backends torch"
status=0
for backend in $backends; do
    echo "=== KERAS_BACKEND=$backend ==="
    KERAS_BACKEND=$backend .venv/bin/python -m pytest tests -q -p no:cacheprovider \
        -n "${BIGS_TEST_WORKERS:-auto}" --dist loadfile --durations=15 "$@" || status=1
done
exit $status
