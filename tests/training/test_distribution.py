import json
import os
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest

import keras_bigs
from keras_bigs.training import TPUNotFoundError
from keras_bigs.training import bigs_layout_map
from keras_bigs.training import initialize_multi_host
from keras_bigs.training import set_mixed_precision
from keras_bigs.training import setup_distribution
from tests.conftest import cpu_devices_xla_flags
from tests.training.distributed_common import TINY

HERE = pathlib.Path(__file__).resolve().parent
MULTI_HOST_VARIABLES = (
    "KERAS_DISTRIBUTION_JOB_ADDRESSES",
    "JAX_COORDINATOR_ADDRESS",
    "TPU_WORKER_HOSTNAMES",
    "SLURM_NTASKS",
    "TPU_NAME",
)


def run_script(name, **env):
    """Run a helper script in a fresh process; its `RESULT {json}` line."""
    process = subprocess.run(
        [sys.executable, str(HERE / name)],
        env={**os.environ, **env},
        cwd=HERE.parent.parent,
        capture_output=True,
        text=True,
        timeout=600,
    )
    results = [
        line
        for line in process.stdout.splitlines()
        if line.startswith("RESULT ")
    ]
    assert process.returncode == 0 and results, (
        f"{name} failed (exit {process.returncode}):\n{process.stderr[-4000:]}"
    )
    return json.loads(results[-1][len("RESULT ") :])


def assert_same_step(run, reference, initial):
    np.testing.assert_allclose(run["loss"], reference["loss"], rtol=1e-5)
    for got, expected, start in zip(
        run["weights"], reference["weights"], initial
    ):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    # The step is a real one: the weights moved far beyond the tolerance.
    moves = [
        np.abs(np.subtract(w, s)).max() for w, s in zip(run["weights"], initial)
    ]
    assert max(moves) > 1e-2


@pytest.fixture(scope="module")
def jax_results():
    return run_script(
        "distributed_jax_step.py",
        KERAS_BACKEND="jax",
        JAX_PLATFORMS="cpu",
        XLA_FLAGS=cpu_devices_xla_flags(8),
    )


@pytest.mark.backends("jax")
def test_jax_data_and_model_parallel_match_one_device(jax_results):
    r = jax_results
    assert r["devices"] == 8
    # The one-process "cluster" went through jax.distributed.initialize.
    assert r["multi_host"] is True and r["process_count"] == 1
    assert [
        (r[k]["kind"], r[k]["num_replicas"])
        for k in ("single", "data_parallel", "model_parallel")
    ] == [("default", 1), ("data_parallel", 8), ("model_parallel", 2)]
    for kind in ("data_parallel", "model_parallel"):
        assert_same_step(r[kind], r["single"], r["initial_weights"])


@pytest.mark.backends("jax")
def test_jax_variable_layouts_and_inputs(jax_results):
    r = jax_results
    # DataParallel replicates the gate's kernel on all 8 devices;
    # ModelParallel splits its output columns over the "model" axis.
    assert r["data_parallel"]["dv_kernel_sharding"] in (
        "PartitionSpec(None, None)",
        "P(None, None)",
    )
    assert r["data_parallel"]["dv_kernel_devices"] == 8
    assert r["model_parallel"]["dv_kernel_sharding"] in (
        "PartitionSpec(None, 'model')",
        "P(None, 'model')",
    )
    assert r["model_parallel"]["dv_kernel_devices"] == 8
    # One process: one input pipeline with the whole global batch.
    for kind in ("single", "data_parallel", "model_parallel"):
        assert r[kind]["input_context"] == {"pipelines": 1, "batch": 8}
        assert r[kind]["first_batch"] == 8


@pytest.mark.backends("tensorflow")
def test_tf_mirrored_matches_one_device():
    r = run_script("distributed_tf_step.py", KERAS_BACKEND="tensorflow")
    assert (r["default"]["kind"], r["default"]["num_replicas"]) == (
        "default",
        1,
    )
    assert (r["mirrored"]["kind"], r["mirrored"]["num_replicas"]) == (
        "mirrored",
        2,
    )
    # The task's own `fit` on `distribute_dataset`: global batches of 8,
    # split over the 2 replicas by Keras.
    assert r["mirrored"]["input_batch"] == 8
    assert_same_step(r["mirrored"], r["default"], r["initial_weights"])
    # The multi-worker input path: per-replica batches of 4 from
    # `distribute_datasets_from_function`, the same global batch (same
    # first-step loss), and BiGSAdamW's 0.1x SSM rate holds for mirrored
    # variables (Adam's first step is ~lr per entry).
    worker = r["multi_worker_input"]
    assert worker["distributed"] is True
    assert worker["per_replica_batch"] == 4
    np.testing.assert_allclose(worker["loss"], r["default"]["loss"], rtol=1e-5)
    moves = worker["max_moves"]
    assert 0.9e-2 < moves["bigs_layer_0/dv/kernel"] <= 1.0001e-2
    for ssm in ("bigs_layer_0/fs4/A_re", "bigs_layer_0/fs4/log_step"):
        assert 0.9e-3 < moves[ssm] <= 1.0001e-3, ssm


@pytest.mark.backends("tensorflow")
def test_tpu_that_cannot_be_reached_fails_with_a_clear_error(monkeypatch):
    monkeypatch.delenv("TPU_NAME", raising=False)
    # Nothing listens on port 1: refused at once by the TCP pre-check.
    with pytest.raises(
        TPUNotFoundError,
        match=(
            r"No TPU found at tpu='grpc://127.0.0.1:1': cannot connect to "
            r"127.0.0.1:1"
        ),
    ):
        setup_distribution("tpu", tpu="grpc://127.0.0.1:1")
    # A TPU name is looked up through the GCE metadata server, whose host
    # does not resolve off Google Cloud: the resolver fails immediately.
    with pytest.raises(
        TPUNotFoundError, match=r"No TPU found at tpu='bigs-no-such-tpu'"
    ):
        setup_distribution("tpu", tpu="bigs-no-such-tpu")
    with pytest.raises(TPUNotFoundError, match="No TPU found: pass `tpu=`"):
        setup_distribution("tpu")


@pytest.mark.backends("tensorflow")
def test_several_tensorflow_workers_are_refused_before_connecting(
    monkeypatch,
):
    # Keras 3's fit fails under a multi-worker MultiWorkerMirroredStrategy
    # (keras-team/keras#20585); refused before the strategy would wait for
    # the other worker.
    cluster = {"worker": ["localhost:1", "localhost:2"]}
    monkeypatch.setenv(
        "TF_CONFIG",
        json.dumps(
            {"cluster": cluster, "task": {"type": "worker", "index": 0}}
        ),
    )
    for strategy in ("multi_worker", "auto"):
        with pytest.raises(
            ValueError,
            match=r"TF_CONFIG names 2 workers, and Keras 3's fit cannot "
            r"train under MultiWorkerMirroredStrategy with several workers"
            r".*KERAS_BACKEND=jax and --coordinator-address",
        ):
            setup_distribution(strategy)


@pytest.mark.backends("jax")
def test_jax_tpu_strategy_needs_tpu_devices():
    with pytest.raises(TPUNotFoundError, match="JAX sees no TPU devices"):
        setup_distribution("tpu")


def test_unknown_and_other_backend_strategies():
    backend = keras.backend.backend()
    if backend == "torch":
        with pytest.raises(
            NotImplementedError,
            match="Strategy 'mirrored' is not available on the torch backend",
        ):
            setup_distribution("mirrored")
        return
    other = {"jax": "mirrored", "tensorflow": "data_parallel"}[backend]
    owner = {"jax": "tensorflow", "tensorflow": "jax"}[backend]
    with pytest.raises(
        ValueError,
        match=(
            f"Unknown strategy '{other}' for the {backend} backend "
            f"\\('{other}' is a {owner} strategy\\)"
        ),
    ):
        setup_distribution(other)
    with pytest.raises(ValueError, match="Unknown strategy 'bogus'"):
        setup_distribution("bogus")


def test_default_setup_on_one_device(monkeypatch):
    for name in MULTI_HOST_VARIABLES + ("TF_CONFIG",):
        monkeypatch.delenv(name, raising=False)
    setup = setup_distribution("auto")
    assert (setup.kind, setup.num_replicas) == ("default", 1)
    with setup.scope():
        pass
    contexts = []

    def dataset_fn(input_context):
        contexts.append(input_context)
        return "dataset"

    assert setup.distribute_dataset(dataset_fn) == "dataset"
    assert (
        contexts[0].num_input_pipelines,
        contexts[0].input_pipeline_id,
        contexts[0].get_per_replica_batch_size(32),
    ) == (1, 0, 32)
    assert initialize_multi_host() is False


@pytest.mark.backends("jax")
def test_layout_map_covers_the_real_variable_paths():
    mesh = keras.distribution.DeviceMesh(
        shape=(1, 1), axis_names=("batch", "model"), devices=["cpu:0"]
    )
    layout_map = bigs_layout_map(mesh)

    def layouts(model):
        # A path matching two keys would raise here.
        return {
            v.path: (
                None
                if layout_map[v.path] is None
                else tuple(layout_map[v.path].axes)
            )
            for v in model.weights
        }

    masked_lm = keras_bigs.BiGSMaskedLM(keras_bigs.BiGSBackbone(**TINY))
    got = layouts(masked_lm)
    sharded = {path: axes for path, axes in got.items() if axes}
    block = "bigs_layer_0/"
    assert sharded == {
        "token_embedding/embeddings": (None, "model"),
        **{
            block + f"{name}/kernel": (None, "model")
            for name in ("dv", "du_forward", "du_backward", "gated_ffn/dol")
        },
        **{
            block + f"{name}/bias": ("model",)
            for name in ("dv", "du_forward", "du_backward", "gated_ffn/dol")
        },
        **{
            block + f"{name}/kernel": ("model", None)
            for name in ("duc_forward", "duc_backward", "gated_ffn/do")
        },
        "mlm_head/intermediate_dense/kernel": (None, "model"),
        "mlm_head/intermediate_dense/bias": ("model",),
    }
    assert got["bigs_layer_0/fs4/A_re"] is None
    assert got["position_embedding/embeddings"] is None
    assert got["mlm_head/output_bias"] is None

    stack = keras_bigs.BiGSBackbone(block_type="stack", **TINY)
    got = layouts(stack)
    assert got["stack_layer_0/ffn_in/kernel"] == (None, "model")
    assert got["stack_layer_0/ffn_out/kernel"] == ("model", None)
    assert got["stack_layer_0/bissm_1/out/kernel"] == ("model", None)


def test_initialize_multi_host_follows_the_environment(monkeypatch):
    for name in MULTI_HOST_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert initialize_multi_host() is False
    monkeypatch.setenv("TPU_WORKER_HOSTNAMES", "only-this-host")
    assert initialize_multi_host() is False
    if keras.backend.backend() == "torch":
        monkeypatch.setenv("SLURM_NTASKS", "4")
        with pytest.raises(
            NotImplementedError,
            match="Multi-host training is not available on the torch backend",
        ):
            initialize_multi_host()


def test_a_multi_process_job_needs_its_three_arguments_and_jax():
    with pytest.raises(
        ValueError,
        match=r"needs all three of the coordinator address \(got "
        r"'localhost:1234'\), the number of processes \(got 2\) and this "
        r"process's id \(got None\)",
    ):
        initialize_multi_host("localhost:1234", 2, None)
    with pytest.raises(
        ValueError, match=r"process id must be in \[0, 2\) for 2 processes"
    ):
        initialize_multi_host("localhost:1234", 2, 2)
    if keras.backend.backend() == "tensorflow":
        with pytest.raises(
            ValueError,
            match="start a JAX multi-process job; the tensorflow backend "
            "cannot join one.*TF_CONFIG",
        ):
            initialize_multi_host("localhost:1234", 2, 1)


# === Mixed precision ===


def test_set_mixed_precision_validates():
    with pytest.raises(
        ValueError,
        match=(
            r"Unknown precision policy 'float16'; expected None or one of "
            r"\('float32', 'mixed_bfloat16', 'mixed_float16'\)"
        ),
    ):
        set_mixed_precision("float16")
    assert set_mixed_precision("mixed_float16").name == "mixed_float16"
    assert set_mixed_precision(None).name == "float32"
    assert keras.config.dtype_policy().name == "float32"


def test_mixed_bfloat16_computes_dense_layers_in_bfloat16_and_trains():
    set_mixed_precision("mixed_bfloat16")
    try:
        keras.utils.set_random_seed(0)
        backbone = keras_bigs.BiGSBackbone(dropout=0.0, **TINY)
        classifier = keras_bigs.BiGSClassifier(backbone, num_classes=3)
    finally:
        set_mixed_precision(None)
    block = backbone.bigs_layers[0]
    for dense in (
        block.dv,
        block.du_forward,
        block.gated_ffn.do,
        backbone.pooled_dense,
    ):
        assert dense.compute_dtype == "bfloat16"
        assert dense.kernel.dtype == "float32"
    for ssm in (block.fs4, block.bs4):
        assert {v.dtype for v in ssm.weights} == {"float32"}
    outputs = backbone.output
    assert outputs["sequence_output"].dtype == "bfloat16"
    rng = np.random.default_rng(0)
    x = {
        "token_ids": rng.integers(1, 100, (4, 16)).astype("int32"),
        "segment_ids": np.zeros((4, 16), "int32"),
        "padding_mask": np.ones((4, 16), "int32"),
    }
    before = [
        keras.ops.convert_to_numpy(v) for v in classifier.trainable_variables
    ]
    classifier.compile(
        optimizer=keras.optimizers.SGD(0.5),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[],
    )
    loss = classifier.train_on_batch(x, np.array([0, 1, 2, 0]))
    loss = loss[0] if isinstance(loss, (list, tuple)) else loss
    assert np.isfinite(float(loss))
    after = [
        keras.ops.convert_to_numpy(v) for v in classifier.trainable_variables
    ]
    assert all(a.dtype == np.float32 for a in after)
    assert max(np.abs(a - b).max() for a, b in zip(after, before)) > 0
