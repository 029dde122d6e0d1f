"""`export_for_serving`: a BiGS task as a TensorFlow SavedModel that TF
Serving loads, strings in.

The SavedModel tokenizes in the graph (tensorflow-text ops), so a server
needs only TensorFlow and tensorflow-text, not Keras or keras_bigs. This
module checks the arguments, writes the signatures that `pipeline`
assembles (from `signatures` and, for 16-bit weights, `stored_weights`)
where `destination` allows, and reports what it wrote.
"""

import os
import time

import keras

from keras_bigs.models.bigs_classifier import BiGSClassifier
from keras_bigs.models.bigs_masked_lm import BiGSMaskedLM
from keras_bigs.models.bigs_text_embedder import BiGSTextEmbedder
from keras_bigs.serving.destination import check_destination
from keras_bigs.serving.destination import folder_bytes
from keras_bigs.serving.pipeline import converting
from keras_bigs.serving.pipeline import save_pipeline
from keras_bigs.serving.pipeline import serving_pipeline
from keras_bigs.serving.signatures import DEFAULT_SIGNATURE
from keras_bigs.serving.signatures import TOKENS_SIGNATURE
from keras_bigs.serving.signatures import describe
from keras_bigs.serving.stored_weights import compare_with_float32

SUPPORTED_TASKS = (BiGSClassifier, BiGSMaskedLM, BiGSTextEmbedder)
WEIGHTS_DTYPES = ("float32", "bfloat16", "float16")


def export_for_serving(
    task,
    path,
    *,
    pairs=False,
    weights_dtype="float32",
    top_k=5,
    max_masks=5,
    overwrite=False,
    platforms=None,
):
    """Write a SavedModel of `task` for TF Serving that takes raw strings.

    The `serving_default` signature takes a batch of UTF-8 strings (`text`,
    or `text_a` and `text_b` with `pairs=True`) and tokenizes them in the
    graph with the task's own preprocessor; `serve_tokens` takes int32
    `token_ids`, `segment_ids` and `padding_mask` of shape
    `[batch, sequence_length]`. For a `padding_invariant` backbone
    `serve_tokens` takes any length up to `sequence_length`, and both
    signatures pad each batch to the smallest of the preprocessor's
    buckets that holds its longest row; the model is converted once per
    bucket (the weights are stored once). Token ids outside the vocabulary
    are an error naming the id. A classifier returns `logits`,
    `probabilities` and `label_id` (regression: `score`); a text embedder
    its `embedding`; a masked LM the `top_k` tokens for each of the first
    `max_masks` `[MASK]` tokens of a row. docs/export_and_serving.md lists
    every output.

    Args:
        task: a `BiGSClassifier`, `BiGSTextEmbedder` or `BiGSMaskedLM`
            with its preprocessor.
        path: str. Folder to write; must be empty or absent.
        pairs: bool. Serve sentence pairs (`text_a`, `text_b`) instead of
            single texts (`text`).
        weights_dtype: `"float32"` (default), `"bfloat16"` or `"float16"`:
            the dtype the embeddings and dense kernels are stored in.
        top_k: int. Tokens returned per mask (masked LM only).
        max_masks: int. Masks predicted per row (masked LM only).
        overwrite: bool. Replace an earlier export at `path` (a folder
            with `saved_model.pb`; any other non-empty folder is refused).
        platforms: JAX only: the platforms the converted model runs on,
            e.g. `("cpu", "cuda")`; default, the platform exporting it.

    Returns:
        A dict: `path`, `task`, `backend`, `weights_dtype`, `pairs`,
        `sequence_length`, `buckets` (the lengths served, `None` when only
        `sequence_length`), `signatures` (inputs and outputs of each, with
        dtypes and shapes), `variables_bytes`, `total_bytes`,
        `export_seconds` and, with 16-bit weights, `comparison` (the
        differences from float32 on `COMPARISON_TEXTS`).

    Example:
    ```python
    import os
    import tempfile
    import keras_bigs

    backbone = keras_bigs.BiGSBackbone(
        vocabulary_size=30522, num_layers=1, hidden_dim=16,
        intermediate_dim=32, state_dim=4, max_sequence_length=32)
    preprocessor = keras_bigs.BiGSTextClassifierPreprocessor(
        keras_bigs.BiGSTokenizer(), sequence_length=32)
    classifier = keras_bigs.BiGSClassifier(backbone, num_classes=2,
                                           preprocessor=preprocessor)
    path = os.path.join(tempfile.mkdtemp(), "classifier")
    report = keras_bigs.export_for_serving(classifier, path)
    signature = report["signatures"]["serving_default"]
    signature["inputs"]  # {'text': {'dtype': 'string', 'shape': [None]}}
    signature["outputs"]["logits"]  # {'dtype': 'float32', 'shape': [None, 2]}

    # A server needs only tensorflow and tensorflow_text:
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (registers the tokenizer's ops)

    serving = tf.saved_model.load(path).signatures["serving_default"]
    outputs = serving(text=tf.constant(["a raw sentence", ""]))
    sorted(outputs)  # ['label_id', 'logits', 'probabilities']
    outputs["label_id"].shape.as_list()  # [2]
    ```
    """
    start = time.perf_counter()
    path = os.fspath(path)
    _check_backend()
    _check_task(task)
    _check_options(task, weights_dtype, top_k, max_masks, platforms)
    check_destination(path, overwrite)
    lengths = served_lengths(task)
    pipeline = serving_pipeline(
        task,
        lengths,
        any_length=task.backbone.padding_invariant,
        pairs=pairs,
        weights_dtype=weights_dtype,
        top_k=top_k,
        max_masks=max_masks,
        platforms=platforms,
    )
    save_pipeline(pipeline, path, task.preprocessor)
    report = _report(task, path, pipeline, weights_dtype, pairs, lengths)
    if weights_dtype != "float32":
        with converting():
            report["comparison"] = compare_with_float32(
                task, pipeline, pairs, platforms, lengths
            )
    report["export_seconds"] = round(time.perf_counter() - start, 1)
    return report


def served_lengths(task):
    """The lengths a BiGS task's model is converted at: its preprocessor's
    `sequence_length`; for a padding-invariant backbone the preprocessor's
    buckets, the smallest of which that holds a batch runs it."""
    preprocessor = task.preprocessor
    if task.backbone.padding_invariant and preprocessor.padding_lengths:
        return tuple(preprocessor.padding_lengths)
    return (preprocessor.sequence_length,)


def _report(task, path, pipeline, weights_dtype, pairs, lengths):
    """`export_for_serving`'s report of the SavedModel written at `path`,
    without the comparison and the time."""
    any_length = task.backbone.padding_invariant
    return {
        "path": path,
        "task": type(task).__name__,
        "backend": keras.backend.backend(),
        "weights_dtype": weights_dtype,
        "pairs": pairs,
        "sequence_length": task.preprocessor.sequence_length,
        "buckets": list(lengths) if any_length else None,
        "signatures": {
            DEFAULT_SIGNATURE: describe(pipeline.serve_text),
            TOKENS_SIGNATURE: describe(pipeline.serve_tokens),
        },
        "variables_bytes": folder_bytes(os.path.join(path, "variables")),
        "total_bytes": folder_bytes(path),
    }


def _check_backend():
    backend = keras.backend.backend()
    if backend not in ("jax", "tensorflow"):
        raise RuntimeError(
            f"export_for_serving needs the JAX or TensorFlow backend; this "
            f"process runs Keras on {backend!r} (Keras exports TF "
            "SavedModels with a dynamic batch size from JAX and TensorFlow "
            "only). Save the task (`task.save_to_preset(folder)`) and "
            "export it with KERAS_BACKEND=jax: the SavedModel does not "
            "depend on the backend it was exported from."
        )


def _check_task(task):
    if not isinstance(task, SUPPORTED_TASKS):
        raise TypeError(
            f"export_for_serving exports "
            f"{', '.join(cls.__name__ for cls in SUPPORTED_TASKS)}; got "
            f"{type(task).__name__}."
        )
    if task.preprocessor is None:
        expected = type(task).preprocessor_cls.__name__
        raise ValueError(
            f"The {type(task).__name__} has no preprocessor (it was built or "
            f"loaded with preprocessor=None), but the SavedModel tokenizes "
            f"its string inputs in the graph. Set `task.preprocessor` to a "
            f"{expected} with a BiGSTokenizer, e.g. "
            f"`task.preprocessor = keras_bigs.{expected}(keras_bigs."
            f"BiGSTokenizer(), sequence_length=...)`, at the length the "
            "model was trained at."
        )
    if isinstance(task, BiGSClassifier) and task.num_classes > 1:
        activation = keras.activations.serialize(task.activation)
        if activation != "linear":
            raise ValueError(
                f"The classifier's output activation is {activation!r}; the "
                "exported `logits` and `probabilities` assume a classifier "
                "that outputs logits (activation=None)."
            )


def _check_options(task, weights_dtype, top_k, max_masks, platforms):
    if weights_dtype not in WEIGHTS_DTYPES:
        raise ValueError(
            f"weights_dtype={weights_dtype!r}; expected one of "
            f"{WEIGHTS_DTYPES}."
        )
    if isinstance(task, BiGSMaskedLM):
        vocabulary_size = task.backbone.vocabulary_size
        if not 1 <= top_k <= vocabulary_size:
            raise ValueError(
                f"top_k={top_k}; expected 1 to {vocabulary_size} (the "
                "vocabulary size)."
            )
        length = task.preprocessor.sequence_length
        if not 1 <= max_masks <= length:
            raise ValueError(
                f"max_masks={max_masks}; expected 1 to {length} (the "
                "sequence length)."
            )
    if platforms is not None and keras.backend.backend() != "jax":
        raise ValueError(
            "`platforms` applies to the JAX backend only (it picks the "
            "platforms jax2tf compiles for); a TensorFlow graph runs on any "
            "device."
        )
