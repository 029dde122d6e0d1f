import fnmatch
import os
import pathlib

# XLA (under JAX, and under TensorFlow's jit-compiled steps) compiles each
# of the suite's hundreds of small programs to run it a few times, so its
# backend optimisations cost more than they save (docs/development.md has
# the measurement). Results stay within every test's tolerance; users'
# runs keep XLA's defaults. Set before Keras loads a backend, so that
# subprocesses inherit it too.
XLA_TEST_FLAGS = (
    "--xla_backend_optimization_level=0 "
    "--xla_llvm_disable_expensive_passes=true"
)
os.environ["XLA_FLAGS"] = f"{XLA_TEST_FLAGS} {os.environ.get('XLA_FLAGS', '')}"

import pytest  # noqa: E402

# TensorFlow, Keras and keras_bigs are imported where used, not here: the
# parallel run's controlling process loads this file too and runs no test,
# and importing them takes it about 7 s of one core before any worker
# starts.


def pytest_configure(config):
    if config.getoption("numprocesses", None) and not os.environ.get(
        "PYTEST_XDIST_WORKER"
    ):
        return  # the controlling process of a parallel run
    import tensorflow as tf

    # As with XLA, TensorFlow's graph optimizer (Grappler) rewrites every
    # graph before its first run: each `tf.data` iterator's preprocessing
    # functions (hundreds of ragged-tensor checks: about a second per
    # iterator, at every epoch, fit, evaluate and predict) and each
    # TensorFlow-backend step. The suite runs each a few times. Set before
    # TensorFlow's context starts, which reads it once; users' runs keep
    # Grappler.
    tf.config.optimizer.set_experimental_options(
        {"disable_meta_optimizer": True}
    )


REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent


def cpu_devices_xla_flags(count):
    """`XLA_FLAGS` for a subprocess that sees `count` virtual CPU devices
    (and compiles as the suite does)."""
    return f"--xla_force_host_platform_device_count={count} {XLA_TEST_FLAGS}"


# The fixture sets written by the original code, and the relative error a
# faithful float32 port stays under on each (see ../shared/README.md): the
# strong weights make every block matter, and the original's own float32
# outputs are ~1.5e-5 from float64 there.
PARITY_TOLERANCE = {"bigs_reference": 1e-5, "bigs_reference_strong": 5e-5}


def shared_dir():
    """The read-only `shared/` folder: `$BIGS_SHARED_DIR`, else `../shared`.

    Missing, it fails the test under CI (`CI=true`) and skips it elsewhere.
    """
    path = pathlib.Path(
        os.environ.get("BIGS_SHARED_DIR", REPO_ROOT.parent / "shared")
    )
    if not path.is_dir():
        message = (
            f"shared data folder {path} not found (set BIGS_SHARED_DIR to "
            "the folder with fixtures/, glue/ and vocab/)"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def fixture_dir(name, fixtures="bigs_reference"):
    """One folder of a fixture set (`PARITY_TOLERANCE`'s keys)."""
    return shared_dir() / "fixtures" / fixtures / name


def tiny_backbone(max_sequence_length, **kwargs):
    """The smallest useful `BiGSBackbone` with the BERT vocabulary, for
    tests of tasks, pipelines and tools (one layer, hidden 16); `kwargs`
    add to or override its config."""
    config = dict(
        vocabulary_size=30522,
        num_layers=1,
        hidden_dim=16,
        intermediate_dim=32,
        state_dim=4,
        max_sequence_length=max_sequence_length,
    )
    import keras_bigs

    return keras_bigs.BiGSBackbone(**{**config, **kwargs})


BACKENDS = ("jax", "tensorflow", "torch")

# Where each test runs, by scope. Each test gets the markers `on_<backend>`
# of the backends it runs on: `tests/run.sh` runs each backend's share
# with `-m on_<backend>`; run directly, a test outside this backend's
# share is skipped, saying why. BIGS_TEST_EVERY_BACKEND=1 puts every test
# in every backend's share (a `backends` marker still applies).
BACKEND_FREE = ("backend_free", ("jax",))
END_TO_END = ("end_to_end", ("jax",))
JAX_AND_TENSORFLOW = ("jax_and_tensorflow", ("jax", "tensorflow"))
EVERY_BACKEND = ("every_backend", BACKENDS)

# The scope of each test: the first pattern (`fnmatch`, on the test's node
# id) that matches it decides; a test that none matches runs on every
# backend. Backend-free: the test's result cannot depend on the Keras
# backend, since it calls no Keras model or op outside tf.data (tf.data
# runs on TensorFlow whatever the backend): data pipelines, metrics,
# planners, the import graph, docstrings. End to end: a tool's command
# line, run once. Jax and tensorflow: the recipe, analysis and performance
# code; the developers' guide promises torch the layers, backbone and
# tasks, with conversion and serving, which keep every backend.
TEST_SCOPES = [
    # Among the data tests, those that train a task.
    ("tests/data/test_glue_fit.py::*", JAX_AND_TENSORFLOW),
    (
        "tests/data/test_hdf5_shards.py::test_masked_lm_trains_on_both_*",
        JAX_AND_TENSORFLOW,
    ),
    ("tests/data/*", BACKEND_FREE),
    ("tests/training/test_metrics.py::*", BACKEND_FREE),
    ("tests/training/test_entity_metrics.py::*", BACKEND_FREE),
    ("tests/training/test_ablation_study.py::*", BACKEND_FREE),
    ("tests/training/test_paper_table1.py::*", BACKEND_FREE),
    ("tests/training/test_freeze_ssm.py::*", EVERY_BACKEND),
    # Runs tools/pretrain.py's command line, killed and resumed.
    (
        "tests/training/test_killed_runs.py::test_a_killed_run_resumes_*",
        END_TO_END,
    ),
    ("tests/training/*", JAX_AND_TENSORFLOW),
    ("tests/performance/test_flops.py::*", BACKEND_FREE),
    ("tests/performance/*", JAX_AND_TENSORFLOW),
    ("tests/analysis/*", JAX_AND_TENSORFLOW),
    ("tests/tools/*", END_TO_END),
    ("tests/test_architecture.py::*", BACKEND_FREE),
    ("tests/test_docs.py::*", BACKEND_FREE),
    ("tests/test_docstring_examples.py::test_public_classes_*", BACKEND_FREE),
    ("tests/test_docstring_examples.py::test_results_are_*", BACKEND_FREE),
    ("tests/test_docstring_examples.py::*[[]keras_bigs.data.*", BACKEND_FREE),
    (
        "tests/test_docstring_examples.py::*[[]keras_bigs.training.metrics*",
        BACKEND_FREE,
    ),
    (
        "tests/test_docstring_examples.py::*[[]keras_bigs.training.entity_*",
        BACKEND_FREE,
    ),
    (
        "tests/test_docstring_examples.py::*[[]keras_bigs.performance.flops."
        "*_flops[]]",
        BACKEND_FREE,
    ),
    (
        "tests/test_docstring_examples.py::*[[]keras_bigs.analysis.*",
        JAX_AND_TENSORFLOW,
    ),
    (
        "tests/test_docstring_examples.py::*[[]keras_bigs.performance.*",
        JAX_AND_TENSORFLOW,
    ),
    (
        "tests/test_docstring_examples.py::*[[]keras_bigs.training.*",
        JAX_AND_TENSORFLOW,
    ),
]


def scope_of(nodeid):
    """`(scope name, backends)` of the test with this node id."""
    for pattern, scope in TEST_SCOPES:
        if fnmatch.fnmatchcase(nodeid, pattern):
            return scope
    return EVERY_BACKEND


def backends_of(item):
    """The backends `item` runs on: its scope's, narrowed by its
    `backends` marker; a marker that names none of the scope's backends
    is about those others, and wins."""
    name, backends = scope_of(item.nodeid)
    if os.environ.get("BIGS_TEST_EVERY_BACKEND") == "1":
        backends = BACKENDS
    marker = item.get_closest_marker("backends")
    if marker is None:
        return name, backends
    named = tuple(b for b in backends if b in marker.args)
    return name, named or tuple(marker.args)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    # tryfirst: the markers are in place before `-m` deselects.
    import keras

    backend = keras.backend.backend()
    end_to_end = set()
    for item in items:
        name, backends = backends_of(item)
        if name == END_TO_END[0]:
            end_to_end.add(item.nodeid)
        for each in backends:
            item.add_marker(f"on_{each}")
        if backend in backends:
            continue
        marker = item.get_closest_marker("backends")
        if marker is not None and backend not in marker.args:
            reason = f"needs backend {' or '.join(marker.args)}"
        else:
            reason = f"{name} test: runs on {', '.join(backends)}"
        item.add_marker(
            pytest.mark.skip(reason=f"{reason}; this run uses {backend}")
        )
    # The tool runs (each tens of seconds) first, in their files' order:
    # parallel workers then end on short tests and finish together,
    # rather than one waiting while the other runs the last long one.
    items.sort(key=lambda item: item.nodeid not in end_to_end)


@pytest.fixture(autouse=True)
def float32_policy():
    """Each test starts (and ends) with the float32 policy."""
    import keras

    keras.config.set_dtype_policy("float32")
    yield
    keras.config.set_dtype_policy("float32")
