import numpy as np
import pytest
import tensorflow as tf

import keras_bigs
from keras_bigs.data import masked_lm_dataset
from keras_bigs.data import pack_documents
from tests.data.conftest import CLS
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


def test_masking_seed(tokenizer, packed_batches):
    packed = packed_batches

    def positions(dataset):
        return [
            x["mask_positions"].tolist()
            for x, _, _ in dataset.as_numpy_iterator()
        ]

    seeded = masked_lm_dataset(packed, tokenizer, seed=3)
    first = positions(seeded)
    # Static masks: every pass alike (rows masked in a fixed order).
    assert positions(seeded) == first and positions(seeded) == first
    assert positions(masked_lm_dataset(packed, tokenizer, seed=3)) == first
    # Dynamic masks: each new iterator draws anew, as long as no global TF
    # seed is set (an earlier test's `keras.utils.set_random_seed` sets one,
    # and then every new iterator repeats the same draws).
    tf.random.set_seed(None)
    dynamic = masked_lm_dataset(packed, tokenizer)
    assert positions(dynamic) != positions(dynamic)
    with pytest.raises(
        ValueError,
        match=r"dicts with \['token_ids', "
        r"'segment_ids', 'padding_mask'\]",
    ):
        masked_lm_dataset(tf.data.Dataset.range(3), tokenizer)
