#!/usr/bin/env bash
# Run the test suite: each Keras backend (jax, tensorflow, and torch when
# installed) runs its share, as tests/conftest.py's TEST_SCOPES assigns it
# (`-m on_<backend>`): jax every scope; tensorflow all but the
# backend-free and end-to-end tests; torch those that run on every
# backend (the layers, backbone, tasks, conversion and serving). Extra
# arguments go to pytest, e.g. `bash tests/run.sh -x -k s4d` (a `-m`
# among them replaces the backend's share). BIGS_TEST_BACKENDS picks the
# backends (default: all three). Tests run in parallel worker processes
# (pytest-xdist, `--dist worksteal`: each worker starts on a contiguous
# half of the tests and an idle one takes half of the other's queue, so
# no worker waits while the other runs the last long tests alone; a file
# split between workers builds its module fixtures on each):
# BIGS_TEST_WORKERS sets how many (default: one per CPU core; 0 runs in
# this process). Each backend's exit status and
# wall time are printed after its run.
set -uo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh || exit 1
# JAX keeps each compiled program in a folder that every worker and tool
# subprocess of the run reads: tests that build the same small models
# reuse programs instead of compiling them again (speed only; removed
# after the run).
jax_cache=$(mktemp -d)
trap 'rm -rf "$jax_cache"' EXIT
export JAX_COMPILATION_CACHE_DIR=${JAX_COMPILATION_CACHE_DIR:-$jax_cache}
export JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS=0
export JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES=0
backends=${BIGS_TEST_BACKENDS:-jax tensorflow torch}
status=0
for backend in $backends; do
    if [ "$backend" = torch ] && ! .venv/bin/python -c "import torch" 2>/dev/null; then
        echo "=== KERAS_BACKEND=torch: torch is not installed, skipped ==="
        continue
    fi
    echo "=== KERAS_BACKEND=$backend ==="
    start=$SECONDS
    KERAS_BACKEND=$backend .venv/bin/python -m pytest tests -q -p no:cacheprovider \
        -n "${BIGS_TEST_WORKERS:-auto}" --dist worksteal --durations=40 \
        -m "on_$backend" "$@"
    code=$?
    # 5: no test selected, e.g. a `-k` that matches none of this share.
    if [ $code -ne 0 ] && [ $code -ne 5 ]; then
        status=1
    fi
    echo "=== KERAS_BACKEND=$backend: exit $code, $((SECONDS - start)) s ==="
done
exit $status
