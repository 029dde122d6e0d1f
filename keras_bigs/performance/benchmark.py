"""Side-by-side speed and memory of BiGS and keras-hub's BERT.

Both models are timed in the same process, their steps interleaved (BiGS
step, BERT step, BiGS step, ...), so that a noisy shared machine slows both
alike and the ratio stays meaningful. Every step is a compiled Keras step
(`train_on_batch` / `predict_on_batch` with `jit_compile=True`): what
`model.fit` and `model.predict` run. `tools/benchmark.py` is the command
line over this module.
"""

import json
import os
import platform
import statistics
import time

import keras
import keras_hub
import numpy as np

from keras_bigs.keras_hub_internals import jax_state
from keras_bigs.layers.devices import device_kind
from keras_bigs.layers.s4d import CONV_PATHS
from keras_bigs.layers.s4d import S4DConv
from keras_bigs.layers.s4d import resolve_conv_mode
from keras_bigs.models import BiGSBackbone

MODEL_NAMES = ("bigs", "bert")


# === Models and data ===


def matched_backbones(
    length,
    hidden_dim=256,
    num_layers=4,
    bigs_intermediate_dim=None,
    bert_intermediate_dim=None,
    num_heads=None,
    state_dim=64,
    vocabulary_size=30522,
    dtype=None,
    conv_mode="auto",
    dropout=0.1,
    remat=False,
):
    """A `BiGSBackbone` and a keras-hub `BertBackbone` of equal depth and
    width, with the paper's intermediate widths (BiGS `3H`, BERT `4H`).

    A BiGS layer then has `13 H²` weights and a BERT layer `12 H²`; with the
    shared-size embeddings the whole models differ by about 2% at hidden 256
    (the paper's 23-vs-24-layer match is 4%).

    `dropout` is each model's training dropout rate, 0.1 by default as both
    are trained. Where it applies is each model's own design, and part of
    what a training step costs: BERT drops out after the embeddings, on the
    attention probabilities (a `(batch, heads, L, L)` mask per layer) and
    after each sublayer; BiGS, as the original, only after the embeddings.
    `dropout=0.0` times the bare math. `remat` rematerializes BiGS's
    layers (`BiGSBackbone(remat=True)`).
    """
    common = dict(
        vocabulary_size=vocabulary_size,
        num_layers=num_layers,
        hidden_dim=hidden_dim,
        max_sequence_length=length,
        dropout=dropout,
        dtype=dtype,
    )
    bigs = BiGSBackbone(
        intermediate_dim=bigs_intermediate_dim or 3 * hidden_dim,
        state_dim=state_dim,
        conv_mode=conv_mode,
        remat=remat,
        **common,
    )
    bert = keras_hub.models.BertBackbone(
        intermediate_dim=bert_intermediate_dim or 4 * hidden_dim,
        num_heads=num_heads or max(1, hidden_dim // 64),
        **common,
    )
    return {"bigs": bigs, "bert": bert}


def classification_model(backbone, num_classes=2, jit_compile=True):
    """`backbone` -> pooled output -> dense logits, compiled with AdamW and
    (`jit_compile`) XLA: the fine-tuning step of a text classifier."""
    inputs = backbone.input
    pooled = backbone(inputs)["pooled_output"]
    logits = keras.layers.Dense(num_classes, dtype="float32")(pooled)
    model = keras.Model(inputs, logits)
    model.compile(
        optimizer=keras.optimizers.AdamW(1e-4),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=jit_compile,
    )
    return model


def random_batch(batch_size, length, vocabulary_size=30522, seed=0):
    """Token ids, segment ids, a full padding mask and binary labels."""
    rng = np.random.default_rng(seed)
    x = {
        "token_ids": rng.integers(
            0, vocabulary_size, (batch_size, length)
        ).astype("int32"),
        "segment_ids": np.zeros((batch_size, length), "int32"),
        "padding_mask": np.ones((batch_size, length), "int32"),
    }
    y = rng.integers(0, 2, (batch_size,)).astype("int32")
    return keras.tree.map_structure(keras.ops.convert_to_tensor, x), y


# === Timing ===


def _block(value):
    """Wait for asynchronous backends (JAX dispatches before computing)."""
    keras.tree.map_structure(
        lambda t: keras.ops.convert_to_numpy(t) if t is not None else t, value
    )


def interleaved_seconds(steps, repeats=5, warmup=2, untimed_per_turn=1):
    """Median wall seconds of each callable in `steps` (a dict), measured
    in turns so that background load hits every entry alike. The first
    `warmup` calls (compilation) are not counted, nor the first
    `untimed_per_turn` calls of each turn: the step that follows another
    model's step pays for that model's memory churn (BERT frees and
    re-allocates gigabytes of attention scores at long lengths, and the
    next step faults its pages back in), which is not its own cost."""
    for _ in range(warmup):
        for step in steps.values():
            _block(step())
    seconds = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            for _ in range(untimed_per_turn):
                _block(step())
            start = time.perf_counter()
            _block(step())
            seconds[name].append(time.perf_counter() - start)
    return {name: statistics.median(s) for name, s in seconds.items()}


# === Memory ===


def xla_step_memory_mb(model, x, y):
    """Peak memory of one compiled training step by XLA's buffer plan
    (JAX only): arguments + outputs - donated aliases + temporaries, i.e.
    weights, optimizer state, the batch and every activation kept for the
    backward pass."""
    if keras.backend.backend() != "jax":
        raise ValueError(
            "XLA's buffer plan is read through JAX; this is "
            f"the {keras.backend.backend()} backend."
        )
    import jax

    # The optimizer's state, without running a step: the plan of a step
    # that would not fit this machine can still be read.
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    state = jax_state(
        model,
        trainable_variables=True,
        non_trainable_variables=True,
        optimizer_variables=True,
        metrics_variables=True,
        purge_model_variables=False,
    )
    compiled = (
        jax.jit(model.train_step)
        .lower(state, (x, keras.ops.convert_to_tensor(y), None))
        .compile()
    )
    memory = compiled.memory_analysis()
    total = (
        memory.argument_size_in_bytes
        + memory.output_size_in_bytes
        - memory.alias_size_in_bytes
        + memory.temp_size_in_bytes
    )
    return total / 2**20


def peak_rss_mb():
    """This process's peak resident memory so far, in MiB.

    On Linux it is the memory map's high-water mark (`VmHWM`), which
    starts afresh in a new program; `getrusage`'s `ru_maxrss`, the
    fallback elsewhere, carries the parent's resident memory at the fork
    into a subprocess, so a fresh process started by a large one would
    report at least the parent's size.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_step_memory_mb(
    name, length, tokens_per_batch=8192, jit_compile=True, **model_kwargs
):
    """Peak memory of training `name` ("bigs" or "bert") at `length`, as the
    growth of this process's peak resident memory over building the model,
    compiling and running two steps; any backend. Run it in a fresh process
    (`tools/benchmark.py` does): the peak is per process.

    Returns:
        `(megabytes, seconds of the second step)`.
    """
    before = peak_rss_mb()
    backbone = matched_backbones(length, **model_kwargs)[name]
    model = classification_model(backbone, jit_compile=jit_compile)
    x, y = random_batch(
        max(1, tokens_per_batch // length),
        length,
        model_kwargs.get("vocabulary_size", 30522),
    )
    _block(model.train_on_batch(x, y))
    start = time.perf_counter()
    _block(model.train_on_batch(x, y))
    seconds = time.perf_counter() - start
    return peak_rss_mb() - before, seconds


# === The benchmark ===


def machine_description():
    """Where the numbers come from: CPU, cores, memory, library versions."""
    info = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "keras": keras.__version__,
        "keras_hub": keras_hub.__version__,
        "backend": keras.backend.backend(),
        "device": device_kind(),
    }
    try:
        with open("/proc/meminfo") as f:
            total_kb = int(f.readline().split()[1])
        info["memory_gb"] = round(total_kb / 2**20, 1)
    except OSError:
        pass
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["processor"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    if keras.backend.backend() == "jax":
        import jax

        info["jax"] = jax.__version__
    elif keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        info["tensorflow"] = tf.__version__
    return info


def write_results(path, results):
    """Write a benchmark's `results` to `path` as indented JSON, creating
    its folder; with `path` `None` (no `--json` given) write nothing.

    Example:
    ```python
    import json
    import pathlib
    import tempfile
    from keras_bigs.performance.benchmark import write_results

    path = pathlib.Path(tempfile.mkdtemp()) / "results.json"
    write_results(path, {"speedup": 2.5})
    json.loads(path.read_text())["speedup"]  # 2.5
    ```
    """
    if path:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w") as f:
            json.dump(results, f, indent=2)


def benchmark_length(
    length,
    tokens_per_batch=8192,
    repeats=5,
    warmup=2,
    memory=True,
    inference=True,
    untimed_per_turn=1,
    bert_max_length=None,
    **model_kwargs,
):
    """Train (and inference) tokens/s of BiGS and BERT at one length.

    A step holds `tokens_per_batch` tokens, or one sequence where `length`
    is longer. BERT runs only up to `bert_max_length` (its attention
    matrices outgrow the machine's memory first); above it the row has
    BiGS alone.

    Returns a dict with `batch_size`, `tokens_per_step`,
    `bigs_train_tokens_per_s`, `bert_train_tokens_per_s`, `train_ratio`
    (BiGS / BERT), the same for inference, parameter counts and, on JAX,
    `*_peak_memory_mb`.
    """
    batch_size, remainder = divmod(tokens_per_batch, length)
    if batch_size and remainder:
        raise ValueError(
            f"tokens_per_batch={tokens_per_batch} is not a "
            f"multiple of the sequence length {length}."
        )
    batch_size = max(batch_size, 1)
    tokens_per_step = batch_size * length
    backbones = matched_backbones(length, **model_kwargs)
    if bert_max_length is not None and length > bert_max_length:
        del backbones["bert"]
    models = {name: classification_model(b) for name, b in backbones.items()}
    x, y = random_batch(
        batch_size, length, model_kwargs.get("vocabulary_size", 30522)
    )
    row = {
        "length": length,
        "batch_size": batch_size,
        "tokens_per_step": tokens_per_step,
        "conv_mode": resolve_conv_mode(
            model_kwargs.get("conv_mode", "auto"), length
        ),
    }
    for name, backbone in backbones.items():
        row[f"{name}_parameters"] = backbone.count_params()

    train = interleaved_seconds(
        {
            name: (lambda m=m: m.train_on_batch(x, y))
            for name, m in models.items()
        },
        repeats,
        warmup,
        untimed_per_turn,
    )
    for name, seconds in train.items():
        row[f"{name}_train_step_s"] = seconds
        row[f"{name}_train_tokens_per_s"] = tokens_per_step / seconds
    if "bert" in train:
        row["train_ratio"] = train["bert"] / train["bigs"]

    if inference:
        infer = interleaved_seconds(
            {
                name: (lambda m=m: m.predict_on_batch(x))
                for name, m in models.items()
            },
            repeats,
            warmup,
            untimed_per_turn,
        )
        for name, seconds in infer.items():
            row[f"{name}_inference_tokens_per_s"] = tokens_per_step / seconds
        if "bert" in infer:
            row["inference_ratio"] = infer["bert"] / infer["bigs"]

    if memory and keras.backend.backend() == "jax":
        for name, model in models.items():
            row[f"{name}_peak_memory_mb"] = xla_step_memory_mb(model, x, y)
        if "bert" in models:
            row["memory_ratio"] = (
                row["bert_peak_memory_mb"] / row["bigs_peak_memory_mb"]
            )
    return row


def benchmark_convolution(
    lengths,
    tokens_per_batch=8192,
    channels=256,
    repeats=5,
    warmup=2,
    conv_modes=CONV_PATHS,
):
    """Forward + backward seconds of one `S4DConv` per convolution path and
    length (the numbers behind `TOEPLITZ_MAX_LENGTH`)."""
    rows = []
    for length in lengths:
        batch_size = max(1, tokens_per_batch // length)
        u = (
            np.random.default_rng(0)
            .normal(size=(batch_size, length, channels))
            .astype("float32")
        )
        u = keras.ops.convert_to_tensor(u)
        steps = {}
        for conv_mode in conv_modes:
            inputs = keras.Input((length, channels), batch_size=batch_size)
            model = keras.Model(inputs, S4DConv(conv_mode=conv_mode)(inputs))
            model.compile(optimizer="sgd", loss="mse", jit_compile=True)
            steps[conv_mode] = lambda m=model: m.train_on_batch(u, u)
        seconds = interleaved_seconds(steps, repeats, warmup)
        row = {
            "length": length,
            "batch_size": batch_size,
            "auto": resolve_conv_mode("auto", length),
        }
        for conv_mode, s in seconds.items():
            row[f"{conv_mode}_ms"] = 1000 * s
        rows.append(row)
    return rows


def format_table(rows, columns):
    """A benchmark's rows as a right-aligned text table.

    Args:
        rows: list of dicts.
        columns: `(header, key, format spec)` triples; a row without the
            key, or with `None` there, prints "-".

    Example:
    ```python
    from keras_bigs.performance.benchmark import format_table

    table = format_table([{"length": 128, "ms": 1.25}, {"length": 4096}],
                         [("length", "length", "d"), ("ms", "ms", ".1f")])
    table.splitlines()[2]  # '  4096    -'
    ```
    """
    header = [c[0] for c in columns]
    lines = []
    for row in rows:
        cells = []
        for _, key, fmt in columns:
            value = row.get(key)
            cells.append("-" if value is None else format(value, fmt))
        lines.append(cells)
    widths = [
        max(len(h), *(len(line[i]) for line in lines))
        for i, h in enumerate(header)
    ]
    out = ["  ".join(h.rjust(w) for h, w in zip(header, widths))]
    out += [
        "  ".join(c.rjust(w) for c, w in zip(line, widths)) for line in lines
    ]
    return "\n".join(out)
