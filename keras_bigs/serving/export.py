"""`export_for_serving`: a BiGS task as a TensorFlow SavedModel that TF
Serving loads, strings in.

The SavedModel tokenizes in the graph (tensorflow-text ops), so a server
needs only TensorFlow and tensorflow-text, not Keras or keras_bigs. This
module checks the arguments and puts the parts together: the signatures
(`signatures`), 16-bit stored weights (`stored_weights`) and the write
(`destination`).
"""

import functools
import os
import time
import warnings

import keras

from keras_bigs.models.bigs_classifier import BiGSClassifier
from keras_bigs.models.bigs_masked_lm import BiGSMaskedLM
from keras_bigs.models.bigs_text_embedder import BiGSTextEmbedder
from keras_bigs.serving.destination import check_destination
from keras_bigs.serving.destination import folder_bytes
from keras_bigs.serving.signatures import DEFAULT_SIGNATURE
from keras_bigs.serving.signatures import TOKENS_SIGNATURE
from keras_bigs.serving.signatures import call_task
from keras_bigs.serving.signatures import classifier_outputs
from keras_bigs.serving.signatures import classifier_preprocess
from keras_bigs.serving.signatures import describe
from keras_bigs.serving.signatures import embedder_outputs
from keras_bigs.serving.signatures import fill_mask_outputs
from keras_bigs.serving.signatures import model_function
from keras_bigs.serving.signatures import packer_preprocess
from keras_bigs.serving.signatures import save_signatures
from keras_bigs.serving.signatures import serving_functions
from keras_bigs.serving.stored_weights import compare_with_float32
from keras_bigs.serving.stored_weights import with_stored_weights

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
    `max_masks` `[MASK]` tokens of a row. README.md, "Serving (TF
    Serving)", lists every output.

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
    _check_arguments(task, weights_dtype, top_k, max_masks, platforms)
    check_destination(path, overwrite)
    preprocessor = task.preprocessor
    sequence_length = preprocessor.sequence_length
    # A padding-invariant model serves any length up to the maximum, run at
    # the smallest of its preprocessor's buckets that holds the batch.
    any_length = task.backbone.padding_invariant
    lengths = (sequence_length,)
    if any_length:
        lengths = preprocessor.padding_lengths or lengths

    # What the exported function reads its weights from: the task's own
    # variables, or their 16-bit copies.
    weights, call_model = task, call_task(task)
    if weights_dtype != "float32":
        weights, call_model = with_stored_weights(task, weights_dtype)

    if isinstance(task, BiGSMaskedLM):
        preprocess = packer_preprocess(preprocessor)
        mask_inputs = max_masks
        fill_mask = fill_mask_outputs(preprocessor.tokenizer, top_k, max_masks)
        text_outputs = functools.partial(fill_mask, with_tokens=True)
        # `serve_tokens` returns ids: a client that tokenizes has the
        # vocabulary.
        token_outputs = functools.partial(fill_mask, with_tokens=False)
    else:
        preprocess = classifier_preprocess(preprocessor)
        mask_inputs = fill_mask = None
        if isinstance(task, BiGSTextEmbedder):
            text_outputs = token_outputs = embedder_outputs
        else:
            regression = task.num_classes == 1
            text_outputs = token_outputs = classifier_outputs(regression)

    with warnings.catch_warnings():
        # Keras passes jax2tf's deprecated `native_serialization` flag,
        # which has no effect (serialization is always native): nothing to
        # act on.
        warnings.filterwarnings(
            "ignore",
            message=".*native_serialization.*",
            category=DeprecationWarning,
        )
        numeric = model_function(
            weights, call_model, lengths, mask_inputs, platforms
        )
        serve_text, serve_tokens = serving_functions(
            numeric,
            preprocess,
            text_outputs,
            token_outputs,
            sequence_length,
            pairs,
            task.backbone.vocabulary_size,
            any_length=any_length,
        )
        save_signatures(path, serve_text, serve_tokens, preprocessor)
        comparison = None
        if weights_dtype != "float32":
            comparison = compare_with_float32(
                task,
                numeric,
                preprocess,
                pairs,
                mask_inputs,
                fill_mask,
                platforms,
                lengths,
            )

    report = {
        "path": path,
        "task": type(task).__name__,
        "backend": keras.backend.backend(),
        "weights_dtype": weights_dtype,
        "pairs": pairs,
        "sequence_length": sequence_length,
        "buckets": list(lengths) if any_length else None,
        "signatures": {
            DEFAULT_SIGNATURE: describe(serve_text),
            TOKENS_SIGNATURE: describe(serve_tokens),
        },
        "variables_bytes": folder_bytes(os.path.join(path, "variables")),
        "total_bytes": folder_bytes(path),
    }
    if comparison is not None:
        report["comparison"] = comparison
    report["export_seconds"] = round(time.perf_counter() - start, 1)
    return report


def _check_arguments(task, weights_dtype, top_k, max_masks, platforms):
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
    if platforms is not None and backend != "jax":
        raise ValueError(
            "`platforms` applies to the JAX backend only (it picks the "
            "platforms jax2tf compiles for); a TensorFlow graph runs on any "
            "device."
        )
