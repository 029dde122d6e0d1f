"""Setting up the hardware: distribution strategy, multi-host, precision.

`setup_distribution` picks the strategy for the Keras backend and returns a
`DistributionSetup` to build the model under (`.scope()`) and to feed it
data (`.distribute_dataset`); `initialize_multi_host` joins a multi-host
JAX job; `set_mixed_precision` sets the dtype policy; `bigs_layout_map`
shards BiGS for model parallelism. README.md ("Training") lists the
strategies per backend and how to launch multi-host jobs.
"""

import contextlib
import json
import os
import socket
from urllib.parse import urlparse

import keras
import tensorflow as tf

STRATEGIES = {
    "tensorflow": ("auto", "default", "mirrored", "multi_worker", "tpu"),
    "jax": ("auto", "default", "data_parallel", "model_parallel", "tpu"),
    "torch": ("auto", "default"),
}
MIXED_PRECISION_POLICIES = ("float32", "mixed_bfloat16", "mixed_float16")
# How long to wait for a TCP connection to a `grpc://` TPU address before
# declaring it unreachable.
TPU_CONNECT_TIMEOUT_S = 10.0


class TPUNotFoundError(RuntimeError):
    """No TPU could be reached at the given name or address."""


def set_mixed_precision(policy):
    """Set the global Keras dtype policy for models built afterwards.

    Under `"mixed_bfloat16"` (TPUs, recent GPUs) or `"mixed_float16"`
    (GPUs; `compile()` then adds loss scaling) the dense layers and
    embeddings compute in 16 bits with float32 weights, while the S4D
    kernel and FFT convolution of BiGS stay float32 (`S4DConv`).

    Args:
        policy: `None` or `"float32"` (full precision), `"mixed_bfloat16"`
            or `"mixed_float16"`.

    Returns:
        The `keras.DTypePolicy` now in effect.

    Example:
    ```python
    from keras_bigs.training import set_mixed_precision

    set_mixed_precision("mixed_bfloat16")
    # ... build and train ...
    set_mixed_precision(None)  # back to float32
    ```
    """
    name = "float32" if policy is None else policy
    if name not in MIXED_PRECISION_POLICIES:
        raise ValueError(
            f"Unknown precision policy {policy!r}; expected None or one of "
            f"{MIXED_PRECISION_POLICIES}."
        )
    keras.config.set_dtype_policy(name)
    return keras.config.dtype_policy()


def bigs_layout_map(device_mesh, model_axis="model"):
    """Variable layouts that shard BiGS's dense layers over `model_axis`.

    Megatron style: the layers that widen or enter a path (`dv`,
    `du_forward`, `du_backward`, `dol`; `ffn_in` of the STACK ablation;
    the masked-LM head's `intermediate_dense`) are split by output column,
    the layers that project back (`duc_forward`, `duc_backward`, `do`;
    `ffn_out`, `bissm_*/out`) by input row. The activations in between
    stay sharded without communication (the SSMs and the gating act
    channel by channel), and each projection ends in one all-reduce. The
    token embedding is split along the hidden axis
    (vocabulary sizes like 30522 rarely divide by the mesh), which also
    shards the tied masked-LM decoder. Everything else (SSM parameters,
    LayerNorms, position and segment embeddings, heads, attention of the
    routing ablation) is replicated.

    `hidden_dim` and `intermediate_dim` must be divisible by the size of
    `model_axis`. Keys are regexes over `variable.path`, with any prefix.

    Args:
        device_mesh: a `keras.distribution.DeviceMesh` with a `model_axis`.
        model_axis: str. Name of the mesh axis to shard over.

    Returns:
        A `keras.distribution.LayoutMap`.

    Example:
    ```python
    import keras
    from keras_bigs.training import bigs_layout_map

    # 8 TPU chips (jax backend): 2-way data x 4-way model parallelism.
    mesh = keras.distribution.DeviceMesh(
        shape=(2, 4), axis_names=("batch", "model"),
        devices=[f"tpu:{i}" for i in range(8)])
    distribution = keras.distribution.ModelParallel(
        layout_map=bigs_layout_map(mesh), batch_dim_name="batch")
    # Then `keras.distribution.set_distribution(distribution)` and build
    # the model (or use `setup_distribution("model_parallel", ...)`).
    ```
    """
    m = model_axis
    prefix = r"(.*/)?"
    bigs = prefix + r"bigs_layer_\d+/"
    stack = prefix + r"stack_layer_\d+/"
    layout_map = keras.distribution.LayoutMap(device_mesh)
    layout_map[prefix + r"token_embedding/embeddings"] = (None, m)
    # Column-parallel: split the output features.
    for widening in (
        bigs + r"(dv|du_forward|du_backward|gated_ffn/dol)",
        stack + r"ffn_in",
        prefix + r"mlm_head/intermediate_dense",
    ):
        layout_map[widening + "/kernel"] = (None, m)
        layout_map[widening + "/bias"] = (m,)
    # Row-parallel: split the input features; the bias is added after the
    # reduction, so it stays whole.
    for projecting in (
        bigs + r"(duc_forward|duc_backward|gated_ffn/do)",
        stack + r"(ffn_out|bissm_\d+/out)",
    ):
        layout_map[projecting + "/kernel"] = (m, None)
    return layout_map


class DistributionSetup:
    """What `setup_distribution` set up.

    Attributes:
        kind: str. The strategy in effect (`"default"`, `"mirrored"`,
            `"multi_worker"`, `"tpu"`, `"data_parallel"`,
            `"model_parallel"`).
        num_replicas: int. Number of data-parallel model replicas (the
            global batch is split this many ways).
        strategy: the `tf.distribute.Strategy` (TensorFlow) or `None`.
        distribution: the `keras.distribution.Distribution` (JAX) or
            `None`.
    """

    def __init__(self, kind, num_replicas, strategy=None, distribution=None):
        self.kind = kind
        self.num_replicas = num_replicas
        self.strategy = strategy
        self.distribution = distribution

    def scope(self):
        """Context to build and compile the model in: the TF strategy's
        scope; on JAX and torch a null context (the Keras distribution is
        already set globally)."""
        if self.strategy is not None:
            return self.strategy.scope()
        return contextlib.nullcontext()

    def _input_context(self):
        if keras.backend.backend() == "jax":
            # Imported here: only the jax backend runs this, and other
            # backends need not load jax.
            import jax

            # Each process feeds its own share of the global batch, and
            # Keras assembles the global batch from the processes: one
            # input pipeline, and one "replica" to size batches for, per
            # process.
            processes = jax.process_count()
            return tf.distribute.InputContext(
                num_input_pipelines=processes,
                input_pipeline_id=jax.process_index(),
                num_replicas_in_sync=processes,
            )
        # One pipeline of global batches; Keras splits them over the
        # replicas of a one-host strategy.
        return tf.distribute.InputContext()

    def distribute_dataset(self, dataset_fn):
        """Build the input pipeline(s) the strategy wants.

        `dataset_fn(input_context)` returns a `tf.data.Dataset` batched at
        `input_context.get_per_replica_batch_size(global_batch_size)` and
        sharded with `dataset.shard(input_context.num_input_pipelines,
        input_context.input_pipeline_id)`. Written so, it is right for every
        strategy: on one host it is called once with a one-pipeline context
        (global batches, which Keras splits over the replicas); on
        multi-host JAX once per process (that process's share); under
        `"multi_worker"` by `strategy.distribute_datasets_from_function`,
        once per worker with per-replica batches.

        Args:
            dataset_fn: callable `tf.distribute.InputContext` -> dataset.

        Returns:
            What to pass to `model.fit` / `evaluate`: a `tf.data.Dataset`,
            or under `"multi_worker"` a distributed dataset, which
            `keras.Model.fit` takes but keras-hub tasks' `fit` does not (it
            maps the preprocessor over a `tf.data.Dataset`): fit
            `keras.Model(task.input, task.output)`, built under the scope,
            instead.

        Example:
        ```python
        import numpy as np
        import tensorflow as tf
        from keras_bigs.training import setup_distribution

        setup = setup_distribution("default")

        def dataset_fn(input_context):
            batch = input_context.get_per_replica_batch_size(32)
            dataset = tf.data.Dataset.from_tensor_slices(np.arange(256))
            dataset = dataset.shard(input_context.num_input_pipelines,
                                    input_context.input_pipeline_id)
            return dataset.batch(batch, drop_remainder=True)

        train = setup.distribute_dataset(dataset_fn)  # batches of 32
        ```
        """
        if self.kind == "multi_worker":
            return self.strategy.distribute_datasets_from_function(dataset_fn)
        return dataset_fn(self._input_context())

    def __repr__(self):
        return (
            f"<DistributionSetup kind={self.kind!r} "
            f"num_replicas={self.num_replicas}>"
        )


def _tf_config_num_workers():
    try:
        cluster = json.loads(os.environ.get("TF_CONFIG", "{}")).get(
            "cluster", {}
        )
    except ValueError:
        return 0
    return len(cluster.get("worker", [])) + len(cluster.get("chief", []))


def _check_grpc_reachable(tpu):
    address = urlparse(tpu)
    host, port = address.hostname, address.port or 8470
    try:
        with socket.create_connection(
            (host, port), timeout=TPU_CONNECT_TIMEOUT_S
        ):
            pass
    except OSError as error:
        raise TPUNotFoundError(
            f"No TPU found at tpu={tpu!r}: cannot connect to {host}:{port} "
            f"({error}). Check the address, or pass the TPU's name (or "
            "'local' on a TPU VM)."
        ) from error


def _connect_tpu(tpu):
    tpu = tpu or os.environ.get("TPU_NAME")
    if not tpu:
        raise TPUNotFoundError(
            "No TPU found: pass `tpu=` (a Cloud TPU name, a grpc:// "
            "address, or 'local' on a TPU VM) or set $TPU_NAME."
        )
    # Where nothing answers, TF would wait on gRPC's connection retries; a
    # TCP connect bounded by TPU_CONNECT_TIMEOUT_S fails first, and before
    # TF's eager context is pointed at the remote cluster.
    if tpu.startswith("grpc://"):
        _check_grpc_reachable(tpu)
    try:
        # A name is resolved through the GCE metadata server: off Google
        # Cloud the lookup fails at once (the host does not resolve).
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
        if tpu != "local":
            tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (OSError, ValueError, RuntimeError, tf.errors.OpError) as error:
        raise TPUNotFoundError(
            f"No TPU found at tpu={tpu!r}: {type(error).__name__}: "
            f"{(str(error).strip().splitlines() or [''])[0]}"
        ) from error
    return tf.distribute.TPUStrategy(resolver)


def _setup_tensorflow(strategy, tpu, model_parallel, devices):
    if model_parallel != 1:
        raise ValueError(
            "Model parallelism is available on the jax backend only "
            f"(received model_parallel={model_parallel}); use "
            "KERAS_BACKEND=jax."
        )
    if strategy == "auto":
        if tpu or os.environ.get("TPU_NAME"):
            strategy = "tpu"
        elif _tf_config_num_workers() > 1:
            strategy = "multi_worker"
        elif devices or len(tf.config.list_logical_devices("GPU")) > 1:
            strategy = "mirrored"
        else:
            strategy = "default"
    if strategy == "tpu":
        tf_strategy = _connect_tpu(tpu)
    elif strategy == "multi_worker":
        tf_strategy = tf.distribute.MultiWorkerMirroredStrategy()
    elif strategy == "mirrored":
        if devices is None and not tf.config.list_logical_devices("GPU"):
            # MirroredStrategy() alone takes one CPU even when the CPU is
            # split into several logical devices.
            devices = [d.name for d in tf.config.list_logical_devices("CPU")]
        tf_strategy = tf.distribute.MirroredStrategy(devices=devices)
    else:
        tf_strategy = tf.distribute.get_strategy()
    return DistributionSetup(
        strategy, tf_strategy.num_replicas_in_sync, strategy=tf_strategy
    )


def _setup_jax(strategy, tpu, model_parallel, devices):
    distribution_lib = keras.distribution
    if strategy == "tpu":
        try:
            tpu_devices = distribution_lib.list_devices("tpu")
        except RuntimeError:
            tpu_devices = []
        if not tpu_devices:
            raise TPUNotFoundError(
                "No TPU found: JAX sees no TPU devices (on the jax backend "
                "TPUs are found by JAX itself, not by name; `tpu=` is "
                "ignored). Run on a TPU VM with jax[tpu] installed."
            )
        devices = devices or tpu_devices
        strategy = "auto"
    devices = list(devices or distribution_lib.list_devices())
    if strategy == "auto":
        if model_parallel > 1:
            strategy = "model_parallel"
        elif len(devices) > 1:
            strategy = "data_parallel"
        else:
            strategy = "default"
    if strategy == "default":
        distribution_lib.set_distribution(None)
        return DistributionSetup("default", 1)
    if strategy == "data_parallel":
        if model_parallel != 1:
            raise ValueError(
                "`data_parallel` replicates the model; received "
                f"model_parallel={model_parallel}. Use `model_parallel`."
            )
        # Inputs are sharded per process by `distribute_dataset`, so Keras
        # must not shard them again.
        distribution = distribution_lib.DataParallel(
            devices=devices, auto_shard_dataset=False
        )
        num_replicas = len(devices)
    else:
        if model_parallel < 1 or len(devices) % model_parallel:
            raise ValueError(
                f"model_parallel={model_parallel} must divide the number "
                f"of devices ({len(devices)})."
            )
        mesh = distribution_lib.DeviceMesh(
            shape=(len(devices) // model_parallel, model_parallel),
            axis_names=("batch", "model"),
            devices=devices,
        )
        distribution = distribution_lib.ModelParallel(
            layout_map=bigs_layout_map(mesh),
            batch_dim_name="batch",
            auto_shard_dataset=False,
        )
        num_replicas = mesh.shape[0]
    distribution_lib.set_distribution(distribution)
    return DistributionSetup(strategy, num_replicas, distribution=distribution)


def setup_distribution(
    strategy="auto", tpu=None, model_parallel=1, devices=None
):
    """Pick and set up how to spread training over the available devices.

    Call it before building the model, and build and compile under
    `.scope()`. `"auto"` picks, on TensorFlow, `"tpu"` when a TPU is
    named, `"multi_worker"` when `TF_CONFIG` lists several workers,
    `"mirrored"` with several GPUs (or given `devices`), else
    `"default"`; on JAX
    `"model_parallel"` when `model_parallel > 1`, `"data_parallel"` with
    several devices, else `"default"`. On torch only `"auto"` and
    `"default"` (one device) exist.

    Args:
        strategy: `"auto"`, `"default"`, or a backend's strategy
            (TensorFlow: `"tpu"`, `"mirrored"`, `"multi_worker"`; JAX:
            `"data_parallel"`, `"model_parallel"`, `"tpu"`).
        tpu: str. TensorFlow: the Cloud TPU name, a `grpc://host:port`
            address or `"local"` (TPU VM); default `$TPU_NAME`. Ignored on
            JAX.
        model_parallel: int. JAX: size of the `"model"` mesh axis; the rest
            of the devices form the `"batch"` axis. More than 1 selects
            `"model_parallel"` under `"auto"`.
        devices: optional list of devices (TensorFlow device names for
            `"mirrored"`, or Keras device strings like `"cpu:0"` on JAX).

    Returns:
        A `DistributionSetup` with `.scope()`, `.num_replicas`, `.kind` and
        `.distribute_dataset(dataset_fn)`.

    Raises:
        TPUNotFoundError: `"tpu"` was asked for and none could be reached.
        NotImplementedError: a multi-device strategy on torch.

    Example:
    ```python
    from keras_bigs.training import setup_distribution

    setup = setup_distribution("auto")
    setup.kind, setup.num_replicas  # e.g. ("default", 1) on one CPU
    ```
    """
    backend = keras.backend.backend()
    allowed = STRATEGIES.get(backend, ("auto", "default"))
    if strategy not in allowed:
        if backend not in ("tensorflow", "jax"):
            raise NotImplementedError(
                f"Strategy {strategy!r} is not available on the {backend} "
                "backend: keras_bigs distributes training on the jax and "
                "tensorflow backends only; on torch use 'auto' or "
                "'default' (one device)."
            )
        elsewhere = [b for b, names in STRATEGIES.items() if strategy in names]
        hint = (
            f" ({strategy!r} is a {' / '.join(elsewhere)} strategy)"
            if elsewhere
            else ""
        )
        raise ValueError(
            f"Unknown strategy {strategy!r} for the {backend} backend"
            f"{hint}; expected one of {allowed}."
        )
    if backend == "tensorflow":
        return _setup_tensorflow(strategy, tpu, model_parallel, devices)
    if backend == "jax":
        return _setup_jax(strategy, tpu, model_parallel, devices)
    if model_parallel != 1:
        raise NotImplementedError(
            f"Model parallelism is not available on the {backend} backend; "
            "use KERAS_BACKEND=jax."
        )
    return DistributionSetup("default", 1)


def _multi_host_environment():
    env = os.environ
    if "KERAS_DISTRIBUTION_JOB_ADDRESSES" in env:
        return True
    if "JAX_COORDINATOR_ADDRESS" in env:
        return True
    # A multi-host TPU slice lists its hosts; SLURM counts its tasks.
    hosts = env.get("TPU_WORKER_HOSTNAMES", "")
    if len([h for h in hosts.split(",") if h]) > 1:
        return True
    return int(env.get("SLURM_NTASKS", "1") or 1) > 1


def initialize_multi_host(
    job_addresses=None, num_processes=None, process_id=None
):
    """Join this process to a multi-host JAX job, if it is one.

    On JAX, calls `keras.distribution.initialize()` (which calls
    `jax.distributed.initialize()`) when arguments are given or the
    environment describes a multi-process job (`KERAS_DISTRIBUTION_*` or
    `JAX_COORDINATOR_ADDRESS` variables, a TPU slice with several
    `TPU_WORKER_HOSTNAMES`, SLURM with several tasks); on one host it does
    nothing. Call it first, before JAX runs anything. On TensorFlow the
    cluster comes from `TF_CONFIG` or the TPU and this does nothing.

    Args:
        job_addresses: str. Coordinator address `host:port` (or all
            processes' addresses, comma-separated).
        num_processes: int. Number of processes.
        process_id: int. This process's index, 0 for the coordinator.

    Returns:
        bool. Whether a multi-host job was initialised.

    Example:
    ```python
    from keras_bigs.training import initialize_multi_host

    initialize_multi_host()  # False (on a single host)
    ```
    """
    explicit = any(
        arg is not None for arg in (job_addresses, num_processes, process_id)
    )
    if not (explicit or _multi_host_environment()):
        return False
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return False
    if backend != "jax":
        raise NotImplementedError(
            f"Multi-host training is not available on the {backend} "
            "backend; use KERAS_BACKEND=jax (or tensorflow with TF_CONFIG)."
        )
    keras.distribution.initialize(job_addresses, num_processes, process_id)
    return True
