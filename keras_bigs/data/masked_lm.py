"""Masked-LM examples from documents: packing tokens into full-length
examples, and masking them online as `BiGSMaskedLMPreprocessor` does."""

import dataclasses
import math

import tensorflow as tf


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


@dataclasses.dataclass(frozen=True)
class MaskingRule:
    """BERT's masking, as keras-hub's `MaskedLMMaskGenerator` applies it:
    per row, `min(ceil(selection_rate * n), selection_length)` of the `n`
    tokens that are not `unselectable_ids` are chosen uniformly at
    random; each chosen token becomes `[MASK]` with probability
    `mask_token_rate`, a uniformly random token with probability
    `random_token_rate`, and stays otherwise."""

    unselectable_ids: tuple
    mask_token_id: int
    vocabulary_size: int
    selection_rate: float
    selection_length: int
    mask_token_rate: float
    random_token_rate: float


def selected_positions(selectable, selection_count, scores, width):
    """The `selection_count` selectable positions of lowest score per row,
    in increasing order, then zeros to `width`; and which slots are used.

    With i.i.d. uniform `scores` this is a uniformly random subset, the
    same draw as tf-text's shuffle-and-trim.
    """
    # Unselectable positions sort after every selectable one (scores < 1).
    order = tf.argsort(tf.where(selectable, scores, 2.0), axis=-1)
    lowest = order[:, :width]
    lowest = tf.pad(lowest, [[0, 0], [0, width - tf.shape(lowest)[1]]])
    used = tf.range(width) < selection_count[:, None]
    # Unused slots sort last, so the used ones stay a prefix.
    length = tf.shape(selectable)[1]
    positions = tf.sort(tf.where(used, lowest, length), axis=-1)
    return tf.where(used, positions, 0), used


def mask_tokens(token_ids, seed, rule):
    """Mask a `[batch, length]` batch of token ids by `rule`: a pure
    function of `seed` (`[2]` ints), unlike keras-hub's generator, whose
    stateful random ops make masks depend on tf.data's scheduling.

    Returns:
        Dict `token_ids` (masked), `mask_positions` (int64, `[batch,
        rule.selection_length]`), `mask_ids` (the original tokens there),
        `mask_weights` (float32, 1 for used slots): what
        `MaskedLMMaskGenerator` returns.
    """
    selection_seed, value_seed, token_seed = tf.unstack(
        tf.random.experimental.stateless_split(seed, 3)
    )
    width = rule.selection_length
    selectable = tf.reduce_all(
        token_ids[..., None]
        != tf.constant(rule.unselectable_ids, token_ids.dtype),
        axis=-1,
    )
    # n_b = min(ceil(rate * |selectable_b|), selection_length)
    count = tf.reduce_sum(tf.cast(selectable, tf.float32), axis=-1)
    selection_count = tf.minimum(
        tf.cast(tf.math.ceil(count * rule.selection_rate), tf.int32), width
    )
    scores = tf.random.stateless_uniform(tf.shape(token_ids), selection_seed)
    positions, used = selected_positions(
        selectable, selection_count, scores, width
    )
    original = tf.where(used, tf.gather(token_ids, positions, batch_dims=1), 0)
    # u < mask rate: [MASK]; then random_token_rate more: a random token.
    u = tf.random.stateless_uniform(tf.shape(positions), value_seed)
    random_ids = tf.random.stateless_uniform(
        tf.shape(positions),
        token_seed,
        maxval=rule.vocabulary_size,
        dtype=tf.int32,
    )
    random_ids = tf.cast(random_ids, token_ids.dtype)
    values = tf.where(
        u < rule.mask_token_rate,
        tf.cast(rule.mask_token_id, token_ids.dtype),
        tf.where(
            u < rule.mask_token_rate + rule.random_token_rate,
            random_ids,
            original,
        ),
    )
    rows = tf.broadcast_to(
        tf.range(tf.shape(positions)[0])[:, None], tf.shape(positions)
    )
    indices = tf.stack([rows, positions], axis=-1)
    masked = tf.tensor_scatter_nd_update(
        token_ids,
        tf.boolean_mask(indices, used),
        tf.boolean_mask(values, used),
    )
    return {
        "token_ids": masked,
        "mask_positions": tf.cast(positions, tf.int64),
        "mask_ids": original,
        "mask_weights": tf.cast(used, tf.float32),
    }


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

    In each row a share `mask_selection_rate` of the non-special tokens
    (rounded up, at most `mask_selection_length`) is selected at random
    (`MaskingRule`); a selected token becomes `[MASK]` 80% of the time, a
    random token 10%, and stays 10%. Elements
    may be single examples or batches (masking batches is faster). The
    masks of the n-th element are a pure function of `seed` and n
    (`mask_tokens`), so a seeded pipeline is reproducible however tf.data
    schedules it, and a run that skips the elements it has seen resumes
    with the masks of an uninterrupted one.

    Args:
        token_dataset: a `tf.data.Dataset` of dicts `token_ids`,
            `segment_ids`, `padding_mask` (as from `pack_documents`).
        tokenizer: the `BiGSTokenizer` of the tokens.
        mask_selection_rate: float. Share of the tokens selected.
        mask_selection_length: int. Masked positions per example (unused
            slots have weight 0); default
            `default_mask_selection_length(sequence_length)`.
        mask_token_rate: float. Share of selected tokens set to `[MASK]`.
        random_token_rate: float. Share set to a random token.
        seed: int or `None`. An int fixes the masks: every pass over
            `token_dataset` masks its n-th element alike (static masking
            of a finite dataset; new masks in every epoch when the
            dataset `.repeat()`s before masking, as pretraining's input
            does). `None` draws new masks on every pass (dynamic
            masking).
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
    rule = MaskingRule(
        unselectable_ids=tuple(tokenizer.special_token_ids),
        mask_token_id=tokenizer.token_to_id("[MASK]"),
        vocabulary_size=tokenizer.vocabulary_size(),
        selection_rate=mask_selection_rate,
        selection_length=mask_selection_length,
        mask_token_rate=mask_token_rate,
        random_token_rate=random_token_rate,
    )

    def mask(features, element_seed):
        token_ids = features["token_ids"]
        single = token_ids.shape.rank == 1
        masked = mask_tokens(
            token_ids[None] if single else token_ids, element_seed, rule
        )
        if single:
            masked = {key: value[0] for key, value in masked.items()}
        x = {
            "token_ids": masked["token_ids"],
            "segment_ids": features["segment_ids"],
            "padding_mask": features["padding_mask"],
            "mask_positions": masked["mask_positions"],
        }
        return x, masked["mask_ids"], masked["mask_weights"]

    # The n-th element's seed: the n-th pair of a random stream.
    element_seeds = tf.data.Dataset.random(
        seed=seed, rerandomize_each_iteration=seed is None
    ).batch(2)
    return tf.data.Dataset.zip(token_dataset, element_seeds).map(
        mask, num_parallel_calls=tf.data.AUTOTUNE
    )
