import numpy as np
import pytest
import tensorflow as tf

import keras_bigs
from keras_bigs.data import masked_lm_dataset
from keras_bigs.data import pack_documents
from keras_bigs.data.masked_lm import MaskingRule
from keras_bigs.data.masked_lm import mask_tokens
from tests.data.conftest import CLS
from tests.data.conftest import MASK
from tests.data.conftest import MAX_PREDICTIONS
from tests.data.conftest import PAD
from tests.data.conftest import SEP
from tests.data.conftest import SEQUENCE_LENGTH

# === Packing ===

DOCUMENTS = [
    "The quick brown fox jumps over the lazy dog.",
    "",  # no tokens: dropped
    "Short one.",
    # Longer than one example: continues in the next.
    " ".join(f"word{i}" for i in range(40)),
    "A literal [PAD] in the text is a token, not padding.",
    "Last.",
]


def test_packing_keeps_every_token_once_in_order(tokenizer):
    documents = tf.data.Dataset.from_tensor_slices(DOCUMENTS)
    packed = list(
        pack_documents(
            documents, tokenizer, SEQUENCE_LENGTH, documents_per_batch=2
        ).as_numpy_iterator()
    )
    expected = []
    for text in DOCUMENTS:
        tokens = tokenizer.tokenize(text)
        tokens = [int(t) for t in np.asarray(tokens)]
        if tokens:
            expected += ([SEP] if expected else []) + tokens
    assert len(packed) == -(-len(expected) // (SEQUENCE_LENGTH - 2))

    stream = []
    for i, example in enumerate(packed):
        token_ids = example["token_ids"]
        assert token_ids.shape == (SEQUENCE_LENGTH,)
        assert token_ids.dtype == np.int32
        length = int(example["padding_mask"].sum())
        np.testing.assert_array_equal(
            example["padding_mask"], np.arange(SEQUENCE_LENGTH) < length
        )
        np.testing.assert_array_equal(example["segment_ids"], 0)
        assert token_ids[0] == CLS and token_ids[length - 1] == SEP
        assert np.all(token_ids[length:] == PAD)
        if i < len(packed) - 1:
            assert length == SEQUENCE_LENGTH  # only the last is padded
        stream += token_ids[1 : length - 1].tolist()
    assert stream == expected
    assert PAD in stream  # the literal "[PAD]" is kept, and unmasked


def test_packing_rejects_bad_lengths(tokenizer):
    documents = tf.data.Dataset.from_tensor_slices(["A document."])
    with pytest.raises(ValueError, match=r"at least 3 .*not 2"):
        pack_documents(documents, tokenizer, 2)
    with pytest.raises(
        ValueError,
        match=r"without sequence_length \(it has "
        r"16\)",
    ):
        pack_documents(
            documents, keras_bigs.BiGSTokenizer(sequence_length=16), 32
        )


# === Masking ===


def test_masking_matches_the_masked_lm_preprocessor(tokenizer, packed_batches):
    packed = packed_batches
    masked = masked_lm_dataset(packed, tokenizer)
    preprocessor = keras_bigs.BiGSMaskedLMPreprocessor(
        tokenizer, sequence_length=SEQUENCE_LENGTH
    )
    reference = (
        tf.data.Dataset.from_tensor_slices(["a raw string", "another"])
        .batch(2)
        .map(preprocessor)
    )
    x, y, sample_weight = masked.element_spec
    ref_x, ref_y, ref_sample_weight = reference.element_spec
    assert (
        sorted(x)
        == sorted(ref_x)
        == ["mask_positions", "padding_mask", "segment_ids", "token_ids"]
    )
    for key in x:
        assert x[key].dtype == ref_x[key].dtype, key
        assert x[key].shape[1:] == ref_x[key].shape[1:], key
    assert (y.dtype, y.shape[1:]) == (ref_y.dtype, ref_y.shape[1:])
    assert sample_weight.dtype == ref_sample_weight.dtype
    assert x["mask_positions"].shape[1:] == (MAX_PREDICTIONS,)

    special = set(tokenizer.special_token_ids)
    selected = 0
    for (x, y, weight), original in zip(
        masked.as_numpy_iterator(), packed.as_numpy_iterator()
    ):
        np.testing.assert_array_equal(
            x["padding_mask"], original["padding_mask"]
        )
        for row in range(len(y)):
            used = weight[row] == 1
            positions = x["mask_positions"][row][used]
            originals = original["token_ids"][row]
            assert not special & set(originals[positions].tolist())
            np.testing.assert_array_equal(y[row][used], originals[positions])
            # Nothing outside the selected positions changes.
            changed = np.flatnonzero(x["token_ids"][row] != originals)
            assert set(changed) <= set(positions)
            selected += used.sum()
    assert selected > 0


def positions_of(dataset):
    return [
        x["mask_positions"].tolist() for x, _, _ in dataset.as_numpy_iterator()
    ]


def test_seeded_masks_are_reproducible_and_new_each_epoch(
    tokenizer, packed_batches
):
    seeded = masked_lm_dataset(packed_batches, tokenizer, seed=3)
    first = positions_of(seeded)
    # Static masks of a finite dataset: every pass alike, every run alike.
    assert positions_of(seeded) == first
    assert (
        positions_of(masked_lm_dataset(packed_batches, tokenizer, seed=3))
        == first
    )
    assert (
        positions_of(masked_lm_dataset(packed_batches, tokenizer, seed=4))
        != first
    )
    # Repeated before masking: each epoch masks anew, reproducibly, and
    # skipping what was seen gives what an unbroken pass gives next.
    epochs = masked_lm_dataset(packed_batches.repeat(3), tokenizer, seed=3)
    every = positions_of(epochs)
    batches = len(first)
    assert every[:batches] == first and every[batches : 2 * batches] != first
    assert positions_of(epochs.skip(batches + 1)) == every[batches + 1 :]
    # Dynamic masks: each pass draws anew.
    dynamic = masked_lm_dataset(packed_batches, tokenizer)
    assert positions_of(dynamic) != positions_of(dynamic)
    with pytest.raises(
        ValueError,
        match=r"dicts with \['token_ids', "
        r"'segment_ids', 'padding_mask'\]",
    ):
        masked_lm_dataset(tf.data.Dataset.range(3), tokenizer)


def test_masks_follow_berts_rates():
    rows, length, width = 4000, 40, 5
    rng = np.random.default_rng(0)
    token_ids = rng.integers(1000, 2000, (rows, length)).astype(np.int32)
    # Half the rows full, the others of random lengths.
    lengths = np.where(
        rng.random(rows) < 0.5, length, rng.integers(3, length + 1, rows)
    )
    token_ids[np.arange(length) >= lengths[:, None]] = PAD
    token_ids[:, 0] = CLS
    rule = MaskingRule(
        unselectable_ids=(PAD, CLS, SEP, MASK),
        mask_token_id=MASK,
        vocabulary_size=30522,
        selection_rate=0.15,
        selection_length=width,
        mask_token_rate=0.8,
        random_token_rate=0.1,
    )
    masked = {
        key: np.asarray(value)
        for key, value in mask_tokens(
            tf.constant(token_ids), tf.constant([5, 6], tf.int64), rule
        ).items()
    }
    selectable = lengths - 1
    expected = np.minimum(np.ceil(0.15 * selectable), width)
    np.testing.assert_array_equal(masked["mask_weights"].sum(1), expected)
    kinds = {"mask": 0, "random": 0, "kept": 0}
    chosen_in_full_rows = np.zeros(length)
    for row in range(rows):
        used = masked["mask_weights"][row] == 1
        positions = masked["mask_positions"][row][used]
        assert np.all(np.diff(positions) > 0)  # distinct, increasing
        assert np.all((positions >= 1) & (positions < lengths[row]))
        np.testing.assert_array_equal(
            masked["mask_ids"][row][used], token_ids[row][positions]
        )
        unchosen = np.setdiff1d(np.arange(length), positions)
        np.testing.assert_array_equal(
            masked["token_ids"][row][unchosen], token_ids[row][unchosen]
        )
        values = masked["token_ids"][row][positions]
        kinds["mask"] += np.sum(values == MASK)
        kinds["kept"] += np.sum(values == token_ids[row][positions])
        kinds["random"] += np.sum(
            (values != MASK) & (values != token_ids[row][positions])
        )
        if lengths[row] == length:
            chosen_in_full_rows[positions] += 1
    total = sum(kinds.values())
    assert abs(kinds["mask"] / total - 0.8) < 0.02
    assert abs(kinds["random"] / total - 0.1) < 0.015
    assert abs(kinds["kept"] / total - 0.1) < 0.015
    # Every selectable position equally likely: full rows choose each of
    # positions 1..39 about as often (~260 times, 4 standard deviations).
    counts = chosen_in_full_rows[1:]
    assert np.all(np.abs(counts / counts.mean() - 1) < 0.25), counts
