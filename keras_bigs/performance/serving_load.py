"""An exported SavedModel under load, as TF Serving runs it: one
TensorFlow process, one loaded model, many threads calling its default
signature at once with requests of mixed lengths. Every answer must equal
the one the same request gets alone, and resident memory must stay level
once every padded length has been traced.

Only TensorFlow and tensorflow-text are used, as on a server."""

import concurrent.futures
import os
import resource
import time

import numpy as np
import tensorflow as tf
import tensorflow_text  # noqa: F401  registers the tokenizer's ops

# Words of the generated requests; any text would do.
WORDS = (
    "the model reads long documents and short questions alike while a "
    "server answers many requests at once without losing any of them "
    "because every thread calls the same graph with its own inputs"
).split()
# The most resident-memory growth after warm-up that counts as level.
MAX_MEMORY_GROWTH = 0.10


def generated_requests(input_names, count, max_words=120, seed=0):
    """`count` requests for a signature taking the string inputs
    `input_names`: each 1-4 rows of 1-`max_words` words, one row in
    three with a `[MASK]` (a masked LM's signature needs one).

    Returns:
        A list of dicts `{input name: numpy array of bytes}`.
    """
    rng = np.random.default_rng(seed)

    def text():
        words = list(rng.choice(WORDS, rng.integers(1, max_words + 1)))
        if rng.random() < 1 / 3:
            words[rng.integers(len(words))] = "[MASK]"
        return " ".join(words).encode()

    requests = []
    for _ in range(count):
        rows = int(rng.integers(1, 5))
        requests.append(
            {
                name: np.array([text() for _ in range(rows)], dtype=object)
                for name in input_names
            }
        )
    return requests


def resident_memory_mb():
    """This process's resident memory now (Linux `/proc`), else its peak
    (macOS: `getrusage`, which counts bytes there), in MB."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def _as_numpy(outputs):
    return {name: np.asarray(value) for name, value in outputs.items()}


def first_difference(expected, got):
    """`None` when two answers are equal, else what differs (numbers:
    the largest absolute difference)."""
    if sorted(expected) != sorted(got):
        return f"outputs {sorted(got)}, not {sorted(expected)}"
    for name, value in expected.items():
        if value.shape != got[name].shape:
            return f"{name} of shape {got[name].shape}, not {value.shape}"
        if not np.array_equal(value, got[name]):
            if value.dtype.kind == "f":
                largest = np.max(np.abs(value - got[name]))
                return f"{name} differs by up to {largest:.3g}"
            return f"{name} differs"
    return None


def load_test(serve, requests, threads, rounds=3):
    """Call `serve` on every request alone (the expected answers; this
    also traces every padded length), then from `threads` threads at once,
    `rounds` times over, each thread taking every `threads`-th request.
    The alone pass and the first concurrent round are the warm-up: memory
    should stay level from there on.

    Args:
        serve: callable, request dict -> dict of output tensors (a
            SavedModel's signature).
        requests: list of request dicts (`generated_requests`).
        threads: int. Concurrent callers.
        rounds: int. Concurrent passes (at least 2); memory is read after
            each.

    Returns:
        A dict: `threads`, `requests` (concurrent calls in all),
        `requests_per_s` and `rows_per_s` (concurrent), the same alone
        (`single_thread_requests_per_s`), `errors` and `mismatches` (the
        first few, as strings; counts in `num_errors`,
        `num_mismatches`), `memory_mb` (after the alone pass, then after
        each round) and `memory_growth` (after the last round / after the
        first - 1).

    Example:
    ```python
    import tensorflow as tf
    from keras_bigs.performance.serving_load import generated_requests
    from keras_bigs.performance.serving_load import load_test

    serve = tf.function(lambda text: {"length": tf.strings.length(text)})
    results = load_test(serve, generated_requests(["text"], 8), threads=4)
    results["num_mismatches"], results["requests"]  # 0, 24
    ```
    """
    if rounds < 2:
        raise ValueError(
            f"rounds must be at least 2 (the first is warm-up), not {rounds}."
        )
    started = time.perf_counter()
    expected = [_as_numpy(serve(**request)) for request in requests]
    alone_seconds = time.perf_counter() - started
    memory = [resident_memory_mb()]
    errors, mismatches = [], []

    def caller(first):
        for index in range(first, len(requests), threads):
            try:
                got = _as_numpy(serve(**requests[index]))
            except Exception as error:  # a server must report, not stop
                errors.append(f"request {index}: {error!r}")
                continue
            difference = first_difference(expected[index], got)
            if difference is not None:
                mismatches.append(f"request {index}: {difference}")

    seconds = 0.0
    for _ in range(rounds):
        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(threads) as pool:
            for future in [pool.submit(caller, i) for i in range(threads)]:
                future.result()
        seconds += time.perf_counter() - started
        memory.append(resident_memory_mb())
    calls = rounds * len(requests)
    rows = rounds * sum(len(next(iter(r.values()))) for r in requests)
    return {
        "threads": threads,
        "requests": calls,
        "requests_per_s": calls / seconds,
        "rows_per_s": rows / seconds,
        "single_thread_requests_per_s": len(requests) / alone_seconds,
        "num_errors": len(errors),
        "num_mismatches": len(mismatches),
        "errors": errors[:5],
        "mismatches": mismatches[:5],
        "memory_mb": memory,
        "memory_growth": memory[-1] / memory[1] - 1,
    }


def serving_load_test(
    export_dir, threads=16, requests_per_thread=200, rounds=3, seed=0
):
    """`load_test` of the SavedModel in `export_dir` (as
    `export_for_serving` writes it): its `serving_default` signature,
    `threads` x `requests_per_thread` generated requests a round.
    `tools/serve_load_test.py` runs it from the command line.

    Raises:
        FileNotFoundError: `export_dir` holds no SavedModel.
        ValueError: its default signature does not take strings.
    """
    if not os.path.isfile(os.path.join(export_dir, "saved_model.pb")):
        raise FileNotFoundError(
            f"{export_dir} holds no SavedModel (no saved_model.pb): pass "
            "the folder export_for_serving wrote."
        )
    loaded = tf.saved_model.load(export_dir)
    serve = loaded.signatures["serving_default"]
    _, inputs = serve.structured_input_signature
    not_strings = [n for n, spec in inputs.items() if spec.dtype != tf.string]
    if not_strings:
        raise ValueError(
            f"The serving_default signature of {export_dir} takes "
            f"{not_strings} as numbers; the load test sends strings (an "
            "export_for_serving SavedModel)."
        )
    per_round = threads * requests_per_thread
    requests = generated_requests(sorted(inputs), per_round, seed=seed)
    results = load_test(serve, requests, threads, rounds)
    return {"export_dir": export_dir, "inputs": sorted(inputs), **results}
