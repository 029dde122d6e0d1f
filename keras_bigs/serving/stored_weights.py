"""16-bit stored weights: which variables a 16-bit export rounds, the model
called on them, and how far its outputs move from float32."""

import functools

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_bigs.keras_hub_internals import flatten_layers
from keras_bigs.layers.s4d import S4DConv
from keras_bigs.models.bigs_text_embedder import BiGSTextEmbedder
from keras_bigs.serving.signatures import call_task
from keras_bigs.serving.signatures import model_function

# Variables with at least this many numbers, and two or more dimensions
# (embeddings, dense kernels: nearly all the bytes), are stored in 16 bits
# by a 16-bit export; biases and LayerNorm parameters stay float32, and so
# do the SSM parameters, whatever their size (see `_ssm_parameters`).
MIN_16_BIT_SIZE = 1024

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


def _ssm_parameters(task):
    """The `S4DConv` variables of `task` (by id). `S4DConv` keeps them
    float32 even under a 16-bit policy: the kernel exponentiates `A` and
    `log_step` over the whole sequence, where 16-bit rounding grows."""
    return {
        id(variable)
        for layer in flatten_layers(task)
        if isinstance(layer, S4DConv)
        for variable in layer.weights
    }


def _stored_in_16_bits(variable, keep_float32):
    return (
        keras.backend.is_float_dtype(variable.dtype)
        and id(variable) not in keep_float32
        and len(variable.shape) >= 2
        and int(np.prod(variable.shape)) >= MIN_16_BIT_SIZE
    )


class _StoredWeights(keras.layers.Layer):
    """Copies of `variables` as a 16-bit export stores them: in
    `weights_dtype` where `_stored_in_16_bits`, as they are otherwise."""

    def __init__(self, variables, weights_dtype, keep_float32, **kwargs):
        super().__init__(name="stored_weights", **kwargs)
        self.stored = []
        for index, variable in enumerate(variables):
            value = ops.convert_to_numpy(variable)
            in_16_bits = _stored_in_16_bits(variable, keep_float32)
            self.stored.append(
                self.add_weight(
                    name=f"w{index}_{variable.name}",
                    shape=variable.shape,
                    dtype=weights_dtype if in_16_bits else variable.dtype,
                    initializer=lambda shape, dtype, value=value: ops.cast(
                        value, dtype
                    ),
                    # Trainable: Keras' JAX export writes non-trainable
                    # variables back after every call; these never change.
                    trainable=keras.backend.is_float_dtype(variable.dtype),
                    autocast=False,
                )
            )
        self.built = True


def with_stored_weights(task, weights_dtype):
    """`(stored weights, call_model)`: `call_model` runs `task` on the
    stored values cast back to the task's dtypes (`stateless_call`), so the
    model computes as before and only the stored values are rounded.

    Keras' export saves the variables its endpoint reads: the stored copies,
    not the task's own variables.
    """
    variables = task.trainable_variables + task.non_trainable_variables
    num_trainable = len(task.trainable_variables)
    weights = _StoredWeights(variables, weights_dtype, _ssm_parameters(task))

    def call_model(inputs):
        values = [
            ops.cast(stored, variable.dtype)
            for stored, variable in zip(weights.stored, variables)
        ]
        outputs, _ = task.stateless_call(
            values[:num_trainable],
            values[num_trainable:],
            inputs,
            training=False,
        )
        return outputs

    return weights, call_model


def _logits(numeric, inputs):
    return numeric(inputs)


def compare_with_float32(task, pipeline, pairs, platforms, lengths):
    """How far the model of `pipeline` (a `pipeline.ServingPipeline` with
    16-bit weights) is from the float32 `task` on the fixed batch
    `COMPARISON_TEXTS`; both run as converted by Keras' export (the float32
    one converted for this, at `lengths`, for `platforms`)."""
    fill_mask = pipeline.outputs.fill_mask
    texts = list(COMPARISON_TEXTS)
    if fill_mask is not None:
        texts = [
            " ".join(t.split()[:2] + ["[MASK]"] + t.split()[3:]) for t in texts
        ]
    segments = (texts, texts[1:] + texts[:1]) if pairs else (texts,)
    float32 = model_function(
        task, call_task(task), lengths, pipeline.outputs.mask_inputs, platforms
    )
    outputs = (
        _logits
        if fill_mask is None
        else functools.partial(fill_mask, with_tokens=False)
    )

    @tf.function(autograph=False)
    def both(segments):
        inputs = pipeline.outputs.preprocess(segments)
        return outputs(float32, inputs), outputs(pipeline.numeric, inputs)

    reference, candidate = tf.nest.map_structure(
        lambda t: t.numpy(), both(tuple(tf.constant(s) for s in segments))
    )
    if fill_mask is not None:
        found = reference["mask_positions"] >= 0
        return {
            "num_texts": len(texts),
            "num_masks": int(found.sum()),
            "top1_agreement": float(
                np.mean(
                    reference["top_k_token_ids"][found][:, 0]
                    == candidate["top_k_token_ids"][found][:, 0]
                )
            ),
            "max_abs_top_k_score_difference": float(
                np.abs(
                    reference["top_k_scores"] - candidate["top_k_scores"]
                ).max()
            ),
        }
    difference = float(np.abs(reference - candidate).max())
    if isinstance(task, BiGSTextEmbedder):
        return {
            "num_texts": len(texts),
            "max_abs_embedding_difference": difference,
        }
    if task.num_classes == 1:
        return {"num_texts": len(texts), "max_abs_score_difference": difference}
    return {
        "num_texts": len(texts),
        "max_abs_logits_difference": difference,
        "label_agreement": float(
            np.mean(reference.argmax(-1) == candidate.argmax(-1))
        ),
    }
