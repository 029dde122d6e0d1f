"""The serving signatures: strings -> token ids -> model -> outputs.

The tokenizer, the packer and everything after the model's logits (softmax,
argmax, mask search, top-k) are TF ops in the graph. The model itself is
converted by Keras' own `keras.export.ExportArchive`: a TF graph under the
TensorFlow backend, a jax2tf-converted (StableHLO, `XlaCallModule`) function
under JAX.
"""

import keras
import tensorflow as tf
from keras import ops

from keras_bigs.data.length_buckets import SEQUENCE_INPUTS
from keras_bigs.data.length_buckets import batch_bucket_index
from keras_bigs.data.length_buckets import fit_to_length
from keras_bigs.serving.destination import write

DEFAULT_SIGNATURE = "serving_default"
TOKENS_SIGNATURE = "serve_tokens"
TOKEN_INPUTS = ("token_ids", "segment_ids", "padding_mask")


# === The model: token ids -> logits (converted by Keras' export) ===


def call_task(task):
    """`call_model` running `task` on its own variables."""

    def call_model(inputs):
        return task(inputs, training=False)

    return call_model


def convert_model(weights, call_model, lengths, max_masks, platforms):
    """`call_model`, its outputs cast to float32, as tf.functions over int32
    `[batch, length]` token inputs (and `[batch, max_masks]` mask
    positions for masked LMs), one per length in `lengths`, through Keras'
    export path: a traced TF function under TensorFlow; under JAX, jax2tf
    (StableHLO in an `XlaCallModule` op, the variables of `weights` passed
    in as tf.Variables, once for all lengths).

    Returns `{length: function}`.

    This archive is only the converter; it is never written. The serving
    archive saves the variables that the functions calling it use.

    Only the model runs in this function. Everything after the logits (mask
    search, softmax, top-k) is TF ops: JAX 0.10 serialises `top_k` as a
    StableHLO composite that TF 2.21's `XlaCallModule` cannot deserialise.
    """

    def numeric(inputs):
        return ops.cast(call_model(inputs), "float32")

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

    def spec(length):
        spec = {
            name: tf.TensorSpec([None, length], tf.int32, name=name)
            for name in TOKEN_INPUTS
        }
        if max_masks:
            spec["mask_positions"] = tf.TensorSpec(
                [None, max_masks], tf.int32, name="mask_positions"
            )
        return spec

    return {
        length: converter.add_endpoint(
            f"numeric_{length}",
            numeric,
            input_signature=[spec(length)],
            **kwargs,
        )
        for length in lengths
    }


def model_function(
    weights, call_model, lengths, max_masks, platforms, any_length=False
):
    """The served model as one function over token inputs: converted at
    the one length of `lengths` (inputs must have it), or at each of
    several, or with `any_length` (a padding-invariant model) at one or
    more: inputs of any length up to the longest (`bucketed`)."""
    numerics = convert_model(weights, call_model, lengths, max_masks, platforms)
    if len(numerics) == 1 and not any_length:
        return empty_batch_safe(numerics[lengths[0]])
    return empty_batch_safe(bucketed(numerics))


def empty_batch_safe(numeric):
    """`numeric` that also takes an empty batch: a JAX-converted function
    requires at least one row, so an empty batch runs one row of padding
    and returns none of its outputs."""

    def safe(inputs):
        def empty():
            row = {
                key: tf.zeros(
                    tf.concat([[1], tf.shape(value)[1:]], axis=0), value.dtype
                )
                for key, value in inputs.items()
            }
            return tf.nest.map_structure(lambda t: t[:0], numeric(row))

        batch = tf.shape(inputs["token_ids"])[0]
        return tf.cond(batch > 0, lambda: numeric(inputs), empty)

    return safe


def bucketed(numerics):
    """One function over token inputs of any length up to the longest of
    `numerics` (`{length: function}` from `convert_model`): each batch is
    padded (or cut: only padding) to the smallest length that holds its
    longest row and runs that length's function. Only for padding-invariant
    models, whose outputs do not depend on the padded length."""
    lengths = tuple(sorted(numerics))

    def numeric(inputs):
        index = batch_bucket_index(inputs["padding_mask"], lengths)

        def run(length):
            def branch():
                fitted = {
                    key: (
                        tf.ensure_shape(
                            fit_to_length(value, length), [None, length]
                        )
                        if key in SEQUENCE_INPUTS
                        else value
                    )
                    for key, value in inputs.items()
                }
                return numerics[length](fitted)

            return branch

        return tf.switch_case(index, [run(length) for length in lengths])

    return numeric


def check_token_ids(inputs, vocabulary_size, max_length):
    """`inputs` once their token ids lie in `[0, vocabulary_size)` and they
    are at most `max_length` long; otherwise the call fails with an error
    naming the first bad id (or the length). The embedding lookup does not
    check ids: on some backends an id outside gives NaN outputs."""
    token_ids = inputs["token_ids"]
    outside = tf.logical_or(token_ids < 0, token_ids >= vocabulary_size)
    checks = [
        tf.debugging.Assert(
            tf.logical_not(tf.reduce_any(outside)),
            [
                "Token id",
                tf.boolean_mask(token_ids, outside)[:1],
                f"is outside the vocabulary [0, {vocabulary_size}) of the "
                "model.",
            ],
        ),
        tf.debugging.Assert(
            tf.shape(token_ids)[-1] <= max_length,
            [
                "Token inputs of length",
                tf.shape(token_ids)[-1],
                f"are longer than the maximum length {max_length} of the "
                "model.",
            ],
        ),
    ]
    with tf.control_dependencies(checks):
        return {key: tf.identity(value) for key, value in inputs.items()}


# === Strings -> token ids (TF ops, in the graph) ===


def _int32_inputs(x):
    return {name: tf.cast(x[name], tf.int32) for name in TOKEN_INPUTS}


def classifier_preprocess(preprocessor):
    """The classifier's own preprocessor, as `predict` runs it."""

    def preprocess(segments):
        return _int32_inputs(preprocessor(x=tuple(segments)))

    return preprocess


def packer_preprocess(preprocessor):
    """A masked-LM preprocessor without its random masking: tokenize and
    pack as its `call` does; the user's `[MASK]` tokens stay."""
    if not preprocessor.built:
        preprocessor.build(None)  # creates the packer
    tokenizer = preprocessor.tokenizer

    def preprocess(segments):
        token_ids, segment_ids = preprocessor.packer(
            tuple(tokenizer(segment) for segment in segments)
        )
        return _int32_inputs(
            {
                "token_ids": token_ids,
                "segment_ids": segment_ids,
                "padding_mask": token_ids != tokenizer.pad_token_id,
            }
        )

    return preprocess


# === Logits -> outputs (TF ops, in the graph) ===


def classifier_outputs(regression):
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


def embedder_outputs(numeric, inputs):
    return {"embedding": numeric(inputs)}


def fill_mask_outputs(tokenizer, top_k, max_masks):
    """`outputs(numeric, inputs, with_tokens)`: the `top_k` tokens of the
    first `max_masks` `[MASK]` tokens of each row; unused slots hold
    position -1, id -1, token `""` and score 0."""
    mask_id = tokenizer.mask_token_id
    vocabulary = tf.constant(tokenizer.get_vocabulary())

    def outputs(numeric, inputs, with_tokens):
        # The first `max_masks` masks of each row, in order: rank them so
        # the first scores highest and non-masks score 0, then top-k (a
        # static output shape, unlike `tf.where`).
        token_ids = inputs["token_ids"]
        length = tf.shape(token_ids)[1]
        rank = tf.where(
            token_ids == mask_id, length - tf.range(length, dtype=tf.int32), 0
        )
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
                found_k, tf.gather(vocabulary, tf.maximum(ids, 0)), ""
            )
        return result

    return outputs


# === The signatures ===


def serving_functions(
    numeric, task_outputs, sequence_length, pairs, vocabulary_size, any_length
):
    """`(serve_text, serve_tokens)`: the two signatures' functions, traced,
    around the model `numeric` with the `preprocess`, `text_outputs` and
    `token_outputs` of `task_outputs` (a `pipeline.TaskOutputs`).

    `serve_tokens` takes `[batch, sequence_length]` inputs, or with
    `any_length` (a padding-invariant model) any length up to
    `sequence_length`, and checks the token ids it is given (the string
    signature's come from the tokenizer, whose vocabulary the model was
    checked to hold)."""
    tokens_length = None if any_length else sequence_length

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, tokens_length], tf.int32, name=name)
            for name in TOKEN_INPUTS
        ],
        autograph=False,
    )
    def serve_tokens(token_ids, segment_ids, padding_mask):
        inputs = {
            "token_ids": token_ids,
            "segment_ids": segment_ids,
            "padding_mask": padding_mask,
        }
        return task_outputs.token_outputs(
            numeric, check_token_ids(inputs, vocabulary_size, sequence_length)
        )

    def serve(*segments):
        inputs = task_outputs.preprocess(segments)
        return task_outputs.text_outputs(numeric, inputs)

    if pairs:

        @tf.function(
            input_signature=[
                tf.TensorSpec([None], tf.string, name="text_a"),
                tf.TensorSpec([None], tf.string, name="text_b"),
            ],
            autograph=False,
        )
        def serve_text(text_a, text_b):
            return serve(text_a, text_b)
    else:

        @tf.function(
            input_signature=[tf.TensorSpec([None], tf.string, name="text")],
            autograph=False,
        )
        def serve_text(text):
            return serve(text)

    serve_text.get_concrete_function()
    serve_tokens.get_concrete_function()
    return serve_text, serve_tokens


def save_signatures(path, serve_text, serve_tokens, preprocessor):
    """Write the two signatures as a SavedModel at `path`
    (`serving_default` and `serve_tokens`), with the preprocessor's lookup
    tables."""
    archive = keras.export.ExportArchive()
    # Endpoints that are traced tf.functions are added as they are (they
    # call the converted model, whose variables Keras tracks): the first
    # one added becomes `serving_default`.
    archive.add_endpoint(DEFAULT_SIGNATURE, serve_text)
    archive.add_endpoint(TOKENS_SIGNATURE, serve_tokens)
    archive.track(preprocessor)
    write(archive, path)


def describe(function):
    """The inputs and outputs of a traced signature function: `{"inputs":
    {name: {"dtype", "shape"}}, "outputs": {...}}`, outputs sorted."""
    concrete = function.get_concrete_function()

    def spec(tensor):
        return {"dtype": tensor.dtype.name, "shape": tensor.shape.as_list()}

    return {
        "inputs": {s.name: spec(s) for s in function.input_signature},
        "outputs": {
            name: spec(tensor)
            for name, tensor in sorted(concrete.structured_outputs.items())
        },
    }
