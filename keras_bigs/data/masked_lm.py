"""Masked-LM examples from documents: packing tokens into full-length
examples, and masking them online as `BiGSMaskedLMPreprocessor` does."""

import math

import tensorflow as tf
from keras_hub.layers import MaskedLMMaskGenerator


def pack_documents(
    documents, tokenizer, sequence_length, documents_per_batch=256
):
    """Tokenize documents and pack them into full-length examples.

    The documents' tokens form one stream, consecutive documents separated
    by `[SEP]`; the stream is cut into examples
    `[CLS] <sequence_length - 2 tokens> [SEP]`, so long documents continue
    in the next example and short ones share one. Only the last example is
    padded. Documents with no tokens are dropped. The order of the
    documents is kept.

    Args:
        documents: a `tf.data.Dataset` of scalar strings.
        tokenizer: a `BiGSTokenizer` without a `sequence_length`.
        sequence_length: int. Length of every example.
        documents_per_batch: int. Documents tokenized per call (speed
            only).

    Returns:
        A `tf.data.Dataset` of dicts `token_ids` (int32), `segment_ids`
        (int32, all 0) and `padding_mask` (bool), each of shape
        `(sequence_length,)`: the inputs of `masked_lm_dataset`.

    Example:
    ```python
    import tensorflow as tf
    import keras_bigs
    from keras_bigs.data import pack_documents

    documents = tf.data.Dataset.from_tensor_slices(["One doc.", "Another."])
    packed = pack_documents(documents, keras_bigs.BiGSTokenizer(), 128)
    ```
    """
    if sequence_length < 3:
        raise ValueError(
            f"sequence_length must be at least 3 ([CLS] token [SEP]), not "
            f"{sequence_length}."
        )
    if getattr(tokenizer, "sequence_length", None):
        raise ValueError(
            "pack_documents needs a tokenizer without sequence_length "
            f"(it has {tokenizer.sequence_length}): packing decides the "
            "lengths."
        )
    cls_id = tokenizer.token_to_id("[CLS]")
    sep_id = tokenizer.token_to_id("[SEP]")
    pad_id = tokenizer.token_to_id("[PAD]")
    content_length = sequence_length - 2

    def tokens_with_separators(batch):
        tokens = tokenizer(batch)
        tokens = tf.ragged.boolean_mask(tokens, tokens.row_lengths() > 0)
        separators = tf.RaggedTensor.from_tensor(
            tf.fill([tokens.nrows(), 1], tf.cast(sep_id, tokens.dtype))
        )
        # `[SEP]` in front of every document; the one in front of the very
        # first is removed below.
        return tf.cast(
            tf.concat([separators, tokens], axis=1).flat_values, tf.int32
        )

    def drop_first_separator(started, tokens):
        drop = tf.logical_and(tf.logical_not(started), tf.size(tokens) > 0)
        tokens = tf.cond(drop, lambda: tokens[1:], lambda: tokens)
        return tf.logical_or(started, drop), tokens

    stream = (
        documents.batch(documents_per_batch)
        .map(tokens_with_separators, num_parallel_calls=tf.data.AUTOTUNE)
        .scan(tf.constant(False), drop_first_separator)
    )

    def to_example(content):
        num_content = tf.shape(content)[0]
        token_ids = tf.concat(
            [
                [cls_id],
                content,
                [sep_id],
                tf.fill([content_length - num_content], pad_id),
            ],
            axis=0,
        )
        return {
            "token_ids": tf.ensure_shape(token_ids, [sequence_length]),
            "segment_ids": tf.zeros([sequence_length], tf.int32),
            # From the length, not `token_ids != [PAD]`: a document may
            # contain the literal text "[PAD]".
            "padding_mask": tf.range(sequence_length) < num_content + 2,
        }

    # `rebatch(n)` is `unbatch().batch(n)` with one copy: the stream, cut
    # into pieces of `content_length` tokens.
    return stream.rebatch(content_length).map(
        to_example, num_parallel_calls=tf.data.AUTOTUNE
    )


def _masked_lm_mask_generator(
    tokenizer,
    mask_selection_rate,
    mask_selection_length,
    mask_token_rate,
    random_token_rate,
):
    return MaskedLMMaskGenerator(
        vocabulary_size=tokenizer.vocabulary_size(),
        mask_selection_rate=mask_selection_rate,
        mask_token_id=tokenizer.token_to_id("[MASK]"),
        mask_selection_length=mask_selection_length,
        unselectable_token_ids=tokenizer.special_token_ids,
        mask_token_rate=mask_token_rate,
        random_token_rate=random_token_rate,
    )


def default_mask_selection_length(sequence_length, mask_selection_rate=0.15):
    """Masked positions per example of `sequence_length` tokens:
    `ceil(mask_selection_rate * sequence_length)` (20 at 128 tokens, as
    BERT's `max_predictions_per_seq`)."""
    return math.ceil(mask_selection_rate * sequence_length)


def masked_lm_dataset(
    token_dataset,
    tokenizer,
    mask_selection_rate=0.15,
    mask_selection_length=None,
    mask_token_rate=0.8,
    random_token_rate=0.1,
    seed=None,
    sequence_length=None,
):
    """Mask packed token dicts online, as `BiGSMaskedLMPreprocessor` does.

    keras-hub's `MaskedLMMaskGenerator` selects each non-special token with
    probability `mask_selection_rate`; a selected token becomes `[MASK]`
    80% of the time, a random token 10%, and stays 10%. Elements may be
    single examples or batches (masking batches is faster).

    Args:
        token_dataset: a `tf.data.Dataset` of dicts `token_ids`,
            `segment_ids`, `padding_mask` (as from `pack_documents`).
        tokenizer: the `BiGSTokenizer` of the tokens.
        mask_selection_rate: float. Probability of selecting a token.
        mask_selection_length: int. Masked positions per example (unused
            slots have weight 0); default
            `default_mask_selection_length(sequence_length)`.
        mask_token_rate: float. Share of selected tokens set to `[MASK]`.
        random_token_rate: float. Share set to a random token.
        seed: int or `None`. `None` draws new masks on every pass over the
            data (dynamic masking). With a global TF seed set (e.g. by
            `keras.utils.set_random_seed`), every new iterator repeats the
            same masks: `.repeat()` the dataset so that one iterator serves
            all epochs, as `tools/pretrain.py` does. An int makes the
            masks reproducible: every pass, and every run, masks the same
            way (static masking); masking then runs sequentially, one
            example at a time, which is slower.
        sequence_length: int. The longest example, for the default
            `mask_selection_length`; default the static length of the
            `token_ids` (batches grouped by length have none).

    Returns:
        A `tf.data.Dataset` of `(x, y, sample_weight)`: `x` the dict
        `token_ids, segment_ids, padding_mask, mask_positions`, `y` the
        original ids at `mask_positions`, `sample_weight` 1 for used slots,
        0 for padding slots. `BiGSMaskedLM(..., preprocessor=None)` trains
        on it.

    Example:
    ```python
    import keras_bigs
    from keras_bigs.data import masked_lm_dataset
    from keras_bigs.data import pack_documents
    from keras_bigs.data import text_corpus_dataset

    tokenizer = keras_bigs.BiGSTokenizer()
    packed = pack_documents(text_corpus_dataset("../shared/corpus/*.txt"),
                            tokenizer, sequence_length=128)
    batches = masked_lm_dataset(packed.shuffle(1_000).batch(256), tokenizer)
    x, y, sample_weight = next(iter(batches))
    x["token_ids"].shape, y.shape  # (256, 128), (256, 20)
    ```
    """
    spec = token_dataset.element_spec
    needed = ("token_ids", "segment_ids", "padding_mask")
    if not isinstance(spec, dict) or any(key not in spec for key in needed):
        raise ValueError(
            f"masked_lm_dataset needs elements that are dicts with "
            f"{list(needed)} (as from pack_documents); got {spec}."
        )
    if mask_selection_length is None:
        sequence_length = sequence_length or spec["token_ids"].shape[-1]
        if sequence_length is None:
            raise ValueError(
                "The token_ids have no static length: pass "
                "sequence_length or mask_selection_length."
            )
        mask_selection_length = default_mask_selection_length(
            sequence_length, mask_selection_rate
        )
    masker = _masked_lm_mask_generator(
        tokenizer,
        mask_selection_rate,
        mask_selection_length,
        mask_token_rate,
        random_token_rate,
    )

    def mask_rows_in_order(token_ids):
        # tf-text draws each row's random numbers in a parallel loop, in no
        # fixed order; masking one row at a time keeps a seed reproducible.
        length = token_ids.shape[-1]
        spec = {
            "token_ids": tf.TensorSpec([length], token_ids.dtype),
            "mask_positions": tf.TensorSpec([mask_selection_length], tf.int64),
            "mask_ids": tf.TensorSpec([mask_selection_length], token_ids.dtype),
            "mask_weights": tf.TensorSpec(
                [mask_selection_length], masker.compute_dtype
            ),
        }
        return tf.map_fn(
            masker, token_ids, fn_output_signature=spec, parallel_iterations=1
        )

    def mask(features):
        token_ids = features["token_ids"]
        if seed is None:
            masked = masker(token_ids)
        else:
            # Inside a traced function this sets the seed of this
            # function's graph only, which fixes the masker's random ops.
            tf.random.set_seed(seed)
            masked = (
                masker(token_ids)
                if token_ids.shape.rank == 1
                else mask_rows_in_order(token_ids)
            )
        x = {
            "token_ids": masked["token_ids"],
            "segment_ids": features["segment_ids"],
            "padding_mask": features["padding_mask"],
            "mask_positions": masked["mask_positions"],
        }
        return x, masked["mask_ids"], masked["mask_weights"]

    # Stateful random ops in parallel calls draw in scheduling order, so a
    # seeded (reproducible) masking must run sequentially.
    parallel_calls = None if seed is not None else tf.data.AUTOTUNE
    return token_dataset.map(mask, num_parallel_calls=parallel_calls)
