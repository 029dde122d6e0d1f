"""Export a BiGS task as a TensorFlow SavedModel that TF Serving loads.

The SavedModel takes raw UTF-8 strings: the tokenizer and the packer run
inside the graph (tensorflow-text ops), so a server needs only TensorFlow and
tensorflow-text, not Keras or keras_bigs. The model itself is exported
through Keras' own `keras.export.ExportArchive`: a TF graph under the
TensorFlow backend, a jax2tf-converted (StableHLO, `XlaCallModule`) function
under JAX.
"""

import functools
import os
import shutil
import tempfile
import time
import warnings

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_bigs.layers.s4d import S4DConv
from keras_bigs.models.bigs_classifier import BiGSClassifier
from keras_bigs.models.bigs_masked_lm import BiGSMaskedLM

SUPPORTED_TASKS = (BiGSClassifier, BiGSMaskedLM)
WEIGHTS_DTYPES = ("float32", "bfloat16", "float16")
DEFAULT_SIGNATURE = "serving_default"
TOKENS_SIGNATURE = "serve_tokens"
TOKEN_INPUTS = ("token_ids", "segment_ids", "padding_mask")

# The fixed batch on which a 16-bit export is compared with float32. Masked
# LMs get the third word of each replaced by [MASK]; pair models pair each
# sentence with the next.
COMPARISON_TEXTS = (
    "a gripping, beautifully acted film.",
    "the plot is thin and the jokes fall flat.",
    "I would not watch it again, not even for free.",
    "an uneven but often very funny comedy.",
    "It was written by Ada Lovelace in 1843.",
    "The quick brown fox jumps over the lazy dog.",
    "Nobody expected the ending to work, but it does.",
    "The weather in Paris was cold and rainy all week.",
    "A man is playing a guitar on the street.",
    "The committee approved the new budget on Monday.",
    "She forgot her umbrella at the train station.",
    "Two dogs run across a snowy field.",
    "the soundtrack is the best thing about this movie.",
    "This restaurant serves the worst pizza in town.",
    "Scientists discovered a new species of frog.",
    "He said the meeting had been moved to Friday.",
)


# === Public entry points ===


def check_destination(path, overwrite=False):
    """Refuse to export over existing files, or with `overwrite=True` over
    anything but an earlier export (a folder with `saved_model.pb`).

    Tools that export at the end of a long run (`tools/run_glue.py
    --export`) call this first, so a bad destination fails before training.

    Args:
        path: str. The folder the SavedModel will be written to.
        overwrite: bool. Allow replacing an earlier export.

    Example:
    ```python
    import tempfile
    from keras_bigs.serving import check_destination

    check_destination(tempfile.mkdtemp())  # an empty folder is fine
    ```
    """
    path = os.fspath(path)
    if os.path.exists(path) and not os.path.isdir(path):
        raise FileExistsError(
            f"The export destination {path} is a file, not a folder.")
    if os.path.isdir(path) and os.listdir(path):
        if not overwrite:
            raise FileExistsError(
                f"The export destination {path} exists and is not empty. "
                "Pass overwrite=True (--overwrite) to replace it, or choose "
                "another folder.")
        # Deleting a folder by mistake costs more than a refused export.
        if not os.path.isfile(os.path.join(path, "saved_model.pb")):
            raise FileExistsError(
                f"The export destination {path} is not empty and holds no "
                "SavedModel (saved_model.pb): overwrite=True replaces an "
                "earlier export only.")


def export_for_serving(task, path, *, pairs=False, weights_dtype="float32",
                       top_k=5, max_masks=5, overwrite=False, platforms=None):
    """Write a SavedModel of `task` for TF Serving, strings in.

    The `serving_default` signature takes a batch (any size) of raw UTF-8
    strings: `text`, or `text_a` and `text_b` with `pairs=True`. It cleans
    invalid UTF-8 (replaced by U+FFFD, which the tokenizer drops), then
    tokenizes and packs them to the task's `sequence_length` with the task's
    own preprocessor, in the graph. A second signature, `serve_tokens`,
    takes `token_ids`, `segment_ids` and `padding_mask` (int32,
    `[batch, sequence_length]`) for clients that tokenize themselves.

    Outputs:
    - `BiGSClassifier`: `logits` (float32 `[batch, num_classes]`, what
      `predict` returns), `probabilities` (their softmax) and `label_id`
      (int64 `[batch]`, the argmax); with `num_classes=1` (regression) only
      `score` (float32 `[batch]`).
    - `BiGSMaskedLM` (fill-mask): the first `max_masks` `[MASK]` tokens of
      each row are predicted. `top_k_tokens` (string), `top_k_token_ids`
      (int32) and `top_k_scores` (float32 probabilities), each
      `[batch, max_masks, top_k]` best first; `mask_positions` (int32
      `[batch, max_masks]`, token index of each predicted mask) and
      `num_masks` (int32 `[batch]`). Unused slots hold position -1, id -1,
      token `""` and score 0. `serve_tokens` returns the same without
      `top_k_tokens`.

    Args:
        task: a `BiGSClassifier` or `BiGSMaskedLM` with its preprocessor.
        path: str. Folder to write; must be empty or absent.
        pairs: bool. Serve sentence pairs (`text_a`, `text_b`) instead of
            single texts (`text`).
        weights_dtype: `"float32"` (default), `"bfloat16"` or `"float16"`.
            The 16-bit options store the embeddings and dense kernels
            (variables of 2+ dimensions and `MIN_16_BIT_SIZE`+ numbers:
            nearly all the bytes) in 16 bits, halving the artefact, and cast
            them back to float32 as the model reads them: the model computes
            in float32 as before, only the stored values are rounded.
            Biases, LayerNorm and SSM parameters stay float32. The outputs
            are compared with float32 on `COMPARISON_TEXTS`; the differences
            are returned under `"comparison"`.
        top_k: int. Tokens returned per mask (masked LM only).
        max_masks: int. Masks predicted per row (masked LM only).
        overwrite: bool. Replace an earlier export at `path` (a folder
            with `saved_model.pb`; any other non-empty folder is refused).
        platforms: JAX only: the platforms the converted model runs on,
            e.g. `("cpu", "cuda")`; default, the platform exporting it.

    Returns:
        A dict: `path`, `task`, `backend`, `weights_dtype`, `pairs`,
        `sequence_length`, `signatures` (inputs and outputs of each, with
        dtypes and shapes), `variables_bytes`, `total_bytes`,
        `export_seconds` and, for 16-bit weights, `comparison`.

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
    report["signatures"]["serving_default"]["inputs"]
    # {'text': {'dtype': 'string', 'shape': [None]}}

    # A server needs only tensorflow and tensorflow_text:
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (registers the tokenizer's ops)

    serving = tf.saved_model.load(path).signatures["serving_default"]
    serving(text=tf.constant(["a raw sentence", ""]))["label_id"].shape
    # TensorShape([2])
    ```
    """
    start = time.perf_counter()
    path = os.fspath(path)
    _check_arguments(task, weights_dtype, top_k, max_masks, platforms)
    check_destination(path, overwrite)
    preprocessor = task.preprocessor
    sequence_length = preprocessor.sequence_length

    # What the exported function reads its weights from: the task's own
    # variables, or their 16-bit copies.
    weights, call_model = task, _call_float32(task)
    if weights_dtype != "float32":
        weights, call_model = _with_stored_weights(task, weights_dtype)

    if isinstance(task, BiGSMaskedLM):
        preprocess = _packer_preprocess(preprocessor)
        mask_inputs = max_masks
        fill_mask = _fill_mask(preprocessor.tokenizer, top_k, max_masks)
        text_outputs = functools.partial(fill_mask, with_tokens=True)
        # `serve_tokens` returns ids: a client that tokenizes has the
        # vocabulary.
        token_outputs = functools.partial(fill_mask, with_tokens=False)
    else:
        preprocess = _classifier_preprocess(preprocessor)
        mask_inputs = fill_mask = None
        text_outputs = token_outputs = _classifier_outputs(
            task.num_classes == 1)

    with warnings.catch_warnings():
        # Keras passes jax2tf's deprecated `native_serialization` flag
        # (serialization is always native now); nothing to act on.
        warnings.filterwarnings(
            "ignore", message=".*native_serialization.*",
            category=DeprecationWarning)
        numeric = _convert(weights, _numeric(call_model), sequence_length,
                           mask_inputs, platforms)
        serve_text, serve_tokens = _serving_functions(
            numeric, preprocess, text_outputs, token_outputs,
            sequence_length, pairs)
        archive = keras.export.ExportArchive()
        # Endpoints that are traced tf.functions are added as they are
        # (they call `numeric`, whose variables Keras tracks): the first one
        # added becomes `serving_default`.
        archive.add_endpoint(DEFAULT_SIGNATURE, serve_text)
        archive.add_endpoint(TOKENS_SIGNATURE, serve_tokens)
        # Any lookup tables of the tokenizer and packer must be saved too.
        archive.track(preprocessor)
        _write(archive, path)
        comparison = None
        if weights_dtype != "float32":
            comparison = _compare_with_float32(
                task, numeric, preprocess, pairs, mask_inputs, fill_mask,
                platforms)

    report = {
        "path": path,
        "task": type(task).__name__,
        "backend": keras.backend.backend(),
        "weights_dtype": weights_dtype,
        "pairs": pairs,
        "sequence_length": sequence_length,
        "signatures": {
            DEFAULT_SIGNATURE: _describe(serve_text),
            TOKENS_SIGNATURE: _describe(serve_tokens),
        },
        "variables_bytes": _folder_bytes(os.path.join(path, "variables")),
        "total_bytes": _folder_bytes(path),
    }
    if comparison is not None:
        report["comparison"] = comparison
    report["export_seconds"] = round(time.perf_counter() - start, 1)
    return report


# === Argument checks ===


def _check_arguments(task, weights_dtype, top_k, max_masks, platforms):
    backend = keras.backend.backend()
    if backend not in ("jax", "tensorflow"):
        raise RuntimeError(
            f"export_for_serving needs the JAX or TensorFlow backend; this "
            f"process runs Keras on {backend!r} (Keras exports TF "
            "SavedModels with a dynamic batch size from JAX and TensorFlow "
            "only). Save the task (`task.save_to_preset(folder)`) and "
            "export it with KERAS_BACKEND=jax: the SavedModel does not "
            "depend on the backend it was exported from.")
    if not isinstance(task, SUPPORTED_TASKS):
        raise TypeError(
            f"export_for_serving exports "
            f"{' and '.join(cls.__name__ for cls in SUPPORTED_TASKS)}; got "
            f"{type(task).__name__}.")
    if task.preprocessor is None:
        expected = type(task).preprocessor_cls.__name__
        raise ValueError(
            f"The {type(task).__name__} has no preprocessor (it was built or "
            f"loaded with preprocessor=None), but the SavedModel tokenizes "
            f"its string inputs in the graph. Set `task.preprocessor` to a "
            f"{expected} with a BiGSTokenizer, e.g. "
            f"`task.preprocessor = keras_bigs.{expected}(keras_bigs."
            f"BiGSTokenizer(), sequence_length=...)`, at the length the "
            "model was trained at.")
    if isinstance(task, BiGSClassifier) and task.num_classes > 1:
        activation = keras.activations.serialize(task.activation)
        if activation != "linear":
            raise ValueError(
                f"The classifier's output activation is {activation!r}; the "
                "exported `logits` and `probabilities` assume a classifier "
                "that outputs logits (activation=None).")
    if weights_dtype not in WEIGHTS_DTYPES:
        raise ValueError(
            f"weights_dtype={weights_dtype!r}; expected one of "
            f"{WEIGHTS_DTYPES}.")
    if isinstance(task, BiGSMaskedLM):
        vocabulary_size = task.backbone.vocabulary_size
        if not 1 <= top_k <= vocabulary_size:
            raise ValueError(
                f"top_k={top_k}; expected 1 to {vocabulary_size} (the "
                "vocabulary size).")
        length = task.preprocessor.sequence_length
        if not 1 <= max_masks <= length:
            raise ValueError(
                f"max_masks={max_masks}; expected 1 to {length} (the "
                "sequence length).")
    if platforms is not None and backend != "jax":
        raise ValueError(
            "`platforms` applies to the JAX backend only (it picks the "
            "platforms jax2tf compiles for); a TensorFlow graph runs on any "
            "device.")


# === 16-bit weights ===

# Variables with at least this many numbers, and two or more dimensions
# (embeddings, dense kernels: nearly all the bytes), are stored in 16 bits
# by a 16-bit export; biases and LayerNorm parameters stay float32, and so
# do the SSM parameters, whatever their size (see `_ssm_parameters`).
MIN_16_BIT_SIZE = 1024


def _ssm_parameters(task):
    """The `S4DConv` variables of `task` (by id). `S4DConv` keeps them
    float32 even under a 16-bit policy: the kernel exponentiates `A` and
    `log_step` over the whole sequence, where 16-bit rounding grows."""
    return {id(variable) for layer in task._flatten_layers()
            if isinstance(layer, S4DConv) for variable in layer.weights}


def _stored_in_16_bits(variable, keep_float32):
    return (keras.backend.is_float_dtype(variable.dtype)
            and id(variable) not in keep_float32
            and len(variable.shape) >= 2
            and int(np.prod(variable.shape)) >= MIN_16_BIT_SIZE)


class _StoredWeights(keras.layers.Layer):
    """Copies of `variables` as a 16-bit export stores them: in
    `weights_dtype` where `_stored_in_16_bits`, as they are otherwise."""

    def __init__(self, variables, weights_dtype, keep_float32, **kwargs):
        super().__init__(name="stored_weights", **kwargs)
        self.stored = []
        for index, variable in enumerate(variables):
            value = ops.convert_to_numpy(variable)
            in_16_bits = _stored_in_16_bits(variable, keep_float32)
            self.stored.append(self.add_weight(
                name=f"w{index}_{variable.name}",
                shape=variable.shape,
                dtype=weights_dtype if in_16_bits else variable.dtype,
                initializer=lambda shape, dtype, value=value: ops.cast(
                    value, dtype),
                # Trainable: Keras' JAX export writes non-trainable
                # variables back after every call; these never change.
                trainable=keras.backend.is_float_dtype(variable.dtype),
                autocast=False,
            ))
        self.built = True


def _with_stored_weights(task, weights_dtype):
    """`(stored weights, call_model)`: `call_model` runs `task` on the
    stored values cast back to the task's dtypes (`stateless_call`), so the
    model computes as before and only the stored values are rounded.

    Keras' export saves the variables its endpoint reads: the stored copies,
    not the task's own variables.
    """
    variables = task.trainable_variables + task.non_trainable_variables
    num_trainable = len(task.trainable_variables)
    weights = _StoredWeights(variables, weights_dtype,
                             _ssm_parameters(task))

    def call_model(inputs):
        values = [ops.cast(stored, variable.dtype)
                  for stored, variable in zip(weights.stored, variables)]
        outputs, _ = task.stateless_call(
            values[:num_trainable], values[num_trainable:], inputs,
            training=False)
        return outputs

    return weights, call_model


def _compare_with_float32(task, numeric, preprocess, pairs, mask_inputs,
                          fill_mask, platforms):
    """How far the exported model with 16-bit weights (`numeric`) is from
    the float32 `task` on the fixed batch `COMPARISON_TEXTS`; both run as
    converted by Keras' export (the float32 one converted for this)."""
    texts = list(COMPARISON_TEXTS)
    if fill_mask is not None:
        texts = [" ".join(t.split()[:2] + ["[MASK]"] + t.split()[3:])
                 for t in texts]
    segments = (texts, texts[1:] + texts[:1]) if pairs else (texts,)
    float32 = _convert(task, _numeric(_call_float32(task)),
                       task.preprocessor.sequence_length, mask_inputs,
                       platforms)
    outputs = _numeric_outputs if fill_mask is None else functools.partial(
        fill_mask, with_tokens=False)

    @tf.function(autograph=False)
    def both(segments):
        inputs = preprocess(segments)
        return outputs(float32, inputs), outputs(numeric, inputs)

    reference, candidate = tf.nest.map_structure(
        lambda t: t.numpy(), both(tuple(tf.constant(s) for s in segments)))
    if fill_mask is not None:
        found = reference["mask_positions"] >= 0
        return {
            "num_texts": len(texts),
            "num_masks": int(found.sum()),
            "top1_agreement": float(np.mean(
                reference["top_k_token_ids"][found][:, 0]
                == candidate["top_k_token_ids"][found][:, 0])),
            "max_abs_top_k_score_difference": float(np.abs(
                reference["top_k_scores"] - candidate["top_k_scores"]).max()),
        }
    difference = float(np.abs(reference - candidate).max())
    if task.num_classes == 1:
        return {"num_texts": len(texts),
                "max_abs_score_difference": difference}
    return {
        "num_texts": len(texts),
        "max_abs_logits_difference": difference,
        "label_agreement": float(np.mean(
            reference.argmax(-1) == candidate.argmax(-1))),
    }


# === The model: token ids -> logits (converted by Keras' export) ===


def _call_float32(task):
    def call_model(inputs):
        return task(inputs, training=False)

    return call_model


def _numeric(call_model):
    def numeric(inputs):
        return ops.cast(call_model(inputs), "float32")

    return numeric


def _convert(weights, numeric_fn, sequence_length, max_masks, platforms):
    """`numeric_fn` as a tf.function over int32 `[batch, sequence_length]`
    token inputs (and `[batch, max_masks]` mask positions for masked LMs),
    through Keras' export path: a traced TF function under TensorFlow;
    under JAX, jax2tf (StableHLO in an `XlaCallModule` op, the variables of
    `weights` passed in as tf.Variables).

    This archive is only the converter; it is never written. The serving
    archive saves the variables that the functions calling it use.

    Only the model runs in this function. Everything after the logits (mask
    search, softmax, top-k) is TF ops: JAX 0.10 serialises `top_k` as a
    StableHLO composite that TF 2.21's `XlaCallModule` cannot deserialise.
    """
    converter = keras.export.ExportArchive()
    converter.track(weights)
    kwargs = {}
    if keras.backend.backend() == "jax":
        # No gradients are served; without them the SavedModel is smaller
        # and loads without "unsaved custom gradients" warnings.
        jax2tf_kwargs = {"with_gradient": False}
        if platforms:
            jax2tf_kwargs["native_serialization_platforms"] = tuple(platforms)
        kwargs["jax2tf_kwargs"] = jax2tf_kwargs
    spec = {name: tf.TensorSpec([None, sequence_length], tf.int32, name=name)
            for name in TOKEN_INPUTS}
    if max_masks:
        spec["mask_positions"] = tf.TensorSpec(
            [None, max_masks], tf.int32, name="mask_positions")
    return converter.add_endpoint("numeric", numeric_fn,
                                  input_signature=[spec], **kwargs)


# === Strings -> token ids, logits -> outputs (TF ops, in the graph) ===


def _numeric_outputs(numeric, inputs):
    return numeric(inputs)


def _valid_utf8(text):
    """Invalid UTF-8 bytes -> U+FFFD (which the tokenizer deletes): the
    normalisation ops fail on invalid UTF-8, a server must not."""
    return tf.strings.unicode_transcode(
        text, input_encoding="UTF-8", output_encoding="UTF-8",
        errors="replace", replacement_char=0xFFFD)


def _int32_inputs(x):
    return {name: tf.cast(x[name], tf.int32) for name in TOKEN_INPUTS}


def _classifier_preprocess(preprocessor):
    """The classifier's own preprocessor, as `predict` runs it."""

    def preprocess(segments):
        return _int32_inputs(preprocessor(x=tuple(segments)))

    return preprocess


def _packer_preprocess(preprocessor):
    """A masked-LM preprocessor without its random masking: tokenize and
    pack as its `call` does; the user's `[MASK]` tokens stay."""
    if not preprocessor.built:
        preprocessor.build(None)  # creates the packer
    tokenizer = preprocessor.tokenizer

    def preprocess(segments):
        token_ids, segment_ids = preprocessor.packer(
            tuple(tokenizer(segment) for segment in segments))
        return _int32_inputs({
            "token_ids": token_ids,
            "segment_ids": segment_ids,
            "padding_mask": token_ids != tokenizer.pad_token_id,
        })

    return preprocess


def _classifier_outputs(regression):
    def outputs(numeric, inputs):
        logits = numeric(inputs)
        if regression:
            return {"score": logits[:, 0]}
        return {
            "logits": logits,
            "probabilities": tf.nn.softmax(logits, axis=-1),
            "label_id": tf.argmax(logits, axis=-1, output_type=tf.int64),
        }

    return outputs


def _fill_mask(tokenizer, top_k, max_masks):
    mask_id = tokenizer.mask_token_id
    vocabulary = tf.constant(tokenizer.get_vocabulary())

    def outputs(numeric, inputs, with_tokens):
        # The first `max_masks` masks of each row, in order: rank them so
        # the first scores highest and non-masks score 0, then top-k (a
        # static output shape, unlike `tf.where`).
        token_ids = inputs["token_ids"]
        length = token_ids.shape[1]
        rank = tf.where(token_ids == mask_id,
                        length - tf.range(length, dtype=tf.int32), 0)
        rank = tf.math.top_k(rank, k=max_masks).values
        found = rank > 0
        positions = tf.where(found, length - rank, 0)
        logits = numeric({**inputs, "mask_positions": positions})
        scores, ids = tf.math.top_k(tf.nn.softmax(logits, axis=-1), k=top_k)
        found_k = found[..., tf.newaxis]
        ids = tf.where(found_k, ids, -1)
        result = {
            "top_k_token_ids": ids,
            "top_k_scores": tf.where(found_k, scores, 0.0),
            "mask_positions": tf.where(found, positions, -1),
            "num_masks": tf.reduce_sum(tf.cast(found, tf.int32), axis=-1),
        }
        if with_tokens:
            result["top_k_tokens"] = tf.where(
                found_k, tf.gather(vocabulary, tf.maximum(ids, 0)), "")
        return result

    return outputs


def _serving_functions(numeric, preprocess, text_outputs, token_outputs,
                       sequence_length, pairs):
    """The two signatures' functions, traced."""

    @tf.function(
        input_signature=[tf.TensorSpec([None, sequence_length], tf.int32,
                                       name=name) for name in TOKEN_INPUTS],
        autograph=False)
    def serve_tokens(token_ids, segment_ids, padding_mask):
        return token_outputs(numeric, {"token_ids": token_ids,
                                       "segment_ids": segment_ids,
                                       "padding_mask": padding_mask})

    def serve(*segments):
        segments = tuple(_valid_utf8(segment) for segment in segments)
        return text_outputs(numeric, preprocess(segments))

    if pairs:
        @tf.function(input_signature=[
            tf.TensorSpec([None], tf.string, name="text_a"),
            tf.TensorSpec([None], tf.string, name="text_b")],
            autograph=False)
        def serve_text(text_a, text_b):
            return serve(text_a, text_b)
    else:
        @tf.function(
            input_signature=[tf.TensorSpec([None], tf.string, name="text")],
            autograph=False)
        def serve_text(text):
            return serve(text)

    serve_text.get_concrete_function()
    serve_tokens.get_concrete_function()
    return serve_text, serve_tokens


# === Writing ===


def _write(archive, path):
    """Write next to `path`, then move into place: a failed export leaves
    an existing model untouched."""
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".export-", dir=parent)
    try:
        archive.write_out(staging, verbose=False)
        if os.path.isdir(path):
            shutil.rmtree(path)  # empty, or overwrite=True was checked
        os.replace(staging, path)
    finally:
        if os.path.isdir(staging):
            shutil.rmtree(staging)


def _describe(function):
    concrete = function.get_concrete_function()

    def spec(tensor):
        return {"dtype": tensor.dtype.name, "shape": tensor.shape.as_list()}

    return {
        "inputs": {s.name: spec(s) for s in function.input_signature},
        "outputs": {name: spec(tensor) for name, tensor
                    in sorted(concrete.structured_outputs.items())},
    }


def _folder_bytes(path):
    return sum(os.path.getsize(os.path.join(root, name))
               for root, _, names in os.walk(path) for name in names)
