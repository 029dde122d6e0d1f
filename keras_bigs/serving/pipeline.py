"""`serving_pipeline`: a text task's two serving signatures, assembled from
its preprocessor, its model (converted once per served length) and the
outputs of its kind.

`export_for_serving` writes what this assembles for a BiGS task;
`keras_bigs.performance.padding` assembles keras-hub's BERT the same way.
"""

import contextlib
import functools
import warnings
from typing import Callable
from typing import NamedTuple
from typing import Optional

from keras_bigs.models.bigs_masked_lm import BiGSMaskedLM
from keras_bigs.models.bigs_text_embedder import BiGSTextEmbedder
from keras_bigs.serving.signatures import call_task
from keras_bigs.serving.signatures import classifier_outputs
from keras_bigs.serving.signatures import classifier_preprocess
from keras_bigs.serving.signatures import embedder_outputs
from keras_bigs.serving.signatures import fill_mask_outputs
from keras_bigs.serving.signatures import model_function
from keras_bigs.serving.signatures import packer_preprocess
from keras_bigs.serving.signatures import save_signatures
from keras_bigs.serving.signatures import serving_functions
from keras_bigs.serving.stored_weights import with_stored_weights


class TaskOutputs(NamedTuple):
    """What a kind of task puts around its model in the graph.

    `preprocess` maps string segments to int32 token inputs;
    `text_outputs` and `token_outputs` map `(numeric, inputs)` to the
    outputs of `serving_default` and `serve_tokens`; `mask_inputs` is the
    number of mask positions the model takes (masked LMs, else `None`) and
    `fill_mask` the masked LM's `outputs(numeric, inputs, with_tokens)`.
    """

    preprocess: Callable
    text_outputs: Callable
    token_outputs: Callable
    mask_inputs: Optional[int] = None
    fill_mask: Optional[Callable] = None


class ServingPipeline(NamedTuple):
    """The assembled signatures: `numeric`, the converted model over token
    inputs; `serve_text` and `serve_tokens`, the traced signature
    functions; `outputs`, the task's `TaskOutputs`."""

    numeric: Callable
    serve_text: Callable
    serve_tokens: Callable
    outputs: TaskOutputs


def task_outputs(task, top_k=5, max_masks=5):
    """The `TaskOutputs` of `task`: fill-mask for a `BiGSMaskedLM`, the
    embedding for a `BiGSTextEmbedder`, and otherwise a text classifier's
    (regression when `task.num_classes == 1`) with `task.preprocessor`
    run as `predict` runs it."""
    preprocessor = task.preprocessor
    if isinstance(task, BiGSMaskedLM):
        fill_mask = fill_mask_outputs(preprocessor.tokenizer, top_k, max_masks)
        return TaskOutputs(
            preprocess=packer_preprocess(preprocessor),
            text_outputs=functools.partial(fill_mask, with_tokens=True),
            # `serve_tokens` returns ids: a client that tokenizes has the
            # vocabulary.
            token_outputs=functools.partial(fill_mask, with_tokens=False),
            mask_inputs=max_masks,
            fill_mask=fill_mask,
        )
    if isinstance(task, BiGSTextEmbedder):
        outputs = embedder_outputs
    else:
        outputs = classifier_outputs(regression=task.num_classes == 1)
    return TaskOutputs(classifier_preprocess(preprocessor), outputs, outputs)


@contextlib.contextmanager
def converting():
    """The context in which Keras converts a model for serving: Keras passes
    jax2tf's deprecated `native_serialization` flag, which has no effect
    (serialization is always native), so its warning is not shown."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore",
            message=".*native_serialization.*",
            category=DeprecationWarning,
        )
        yield


def stored_model(task, weights_dtype="float32"):
    """`(weights, call_model)`: what the served model reads its weights
    from (the task's own variables, or their 16-bit copies) and the
    function running the task on them."""
    if weights_dtype == "float32":
        return task, call_task(task)
    return with_stored_weights(task, weights_dtype)


def serving_pipeline(
    task,
    lengths,
    *,
    any_length=False,
    pairs=False,
    weights_dtype="float32",
    top_k=5,
    max_masks=5,
    platforms=None,
):
    """Assemble the serving signatures of a text task.

    The model is converted once per length in `lengths` (the weights are
    shared); with `any_length` (a model whose outputs do not depend on
    padding) both signatures pad each batch to the smallest of `lengths`
    that holds its longest row, otherwise inputs have the preprocessor's
    `sequence_length`.

    Args:
        task: a text task with a preprocessor: a BiGS classifier, text
            embedder or masked LM, or a keras-hub text classifier.
        lengths: tuple of ints. The lengths the model is converted at.
        any_length: bool. Serve any length up to the longest of `lengths`.
        pairs: bool. `serving_default` takes `text_a` and `text_b`.
        weights_dtype: `"float32"`, `"bfloat16"` or `"float16"`: the dtype
            the embeddings and dense kernels are stored in.
        top_k: int. Tokens returned per mask (masked LM only).
        max_masks: int. Masks predicted per row (masked LM only).
        platforms: JAX only: the platforms the converted model runs on.

    Returns:
        A `ServingPipeline`; `save_pipeline` writes it.
    """
    outputs = task_outputs(task, top_k, max_masks)
    weights, call_model = stored_model(task, weights_dtype)
    with converting():
        numeric = model_function(
            weights,
            call_model,
            lengths,
            outputs.mask_inputs,
            platforms,
            any_length=any_length,
        )
        serve_text, serve_tokens = serving_functions(
            numeric,
            outputs,
            task.preprocessor.sequence_length,
            pairs,
            task.backbone.vocabulary_size,
            any_length=any_length,
        )
    return ServingPipeline(numeric, serve_text, serve_tokens, outputs)


def save_pipeline(pipeline, path, preprocessor):
    """Write `pipeline` as a SavedModel at `path` (`serving_default` and
    `serve_tokens`), with `preprocessor`'s lookup tables."""
    with converting():
        save_signatures(
            path, pipeline.serve_text, pipeline.serve_tokens, preprocessor
        )
