import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras_hub.layers import MultiSegmentPacker

from keras_bigs import BiGSTokenizer
from tests.conftest import shared_dir


def reference_rows():
    path = shared_dir() / "fixtures" / "tokenization_reference.jsonl"
    return [json.loads(line) for line in path.open(encoding="utf-8")]


def packer(length):
    # Round robin gives each segment the same share as the reference's
    # longest-first truncation of pairs.
    return MultiSegmentPacker(
        sequence_length=length,
        start_value=101,
        end_value=102,
        pad_value=0,
        truncate="round_robin",
    )


def test_special_token_ids_come_from_the_vocabulary():
    tokenizer = BiGSTokenizer()
    assert tokenizer.vocabulary_size() == 30522
    assert (
        tokenizer.pad_token_id,
        tokenizer.unk_token_id,
        tokenizer.cls_token_id,
        tokenizer.sep_token_id,
        tokenizer.mask_token_id,
    ) == (0, 100, 101, 102, 103)


def test_vocabulary_without_special_tokens_is_refused():
    with pytest.raises(ValueError, match=r"lacks the special tokens.*\[MASK\]"):
        BiGSTokenizer(vocabulary=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "a"])


def test_wordpiece_parity_python_and_tf_paths():
    rows = [r for r in reference_rows() if "tokens" in r]
    tokenizer = BiGSTokenizer()
    vocab = tokenizer.get_vocabulary()
    eager = [
        [vocab[i] for i in np.asarray(tokenizer.tokenize(r["text_a"]))]
        for r in rows
    ]
    dataset = (
        tf.data.Dataset.from_tensor_slices([r["text_a"] for r in rows])
        .batch(64)
        .map(tokenizer)
    )
    in_graph = [
        [vocab[i] for i in ids] for batch in dataset for ids in batch.to_list()
    ]
    expected = [r["tokens"] for r in rows]
    assert eager == expected
    assert in_graph == expected


@pytest.mark.parametrize("length", [16, 128])
@pytest.mark.parametrize("pairs", [False, True], ids=["single", "pair"])
def test_packed_encoding_parity_python_and_tf_paths(length, pairs):
    rows = [
        r
        for r in reference_rows()
        if "token_ids" in r
        and r["sequence_length"] == length
        and (r["text_b"] is not None) == pairs
    ]
    assert rows
    tokenizer = BiGSTokenizer()
    pack = packer(length)
    for r in rows:
        texts = [r["text_a"]] + ([r["text_b"]] if pairs else [])
        token_ids, segment_ids = pack(
            tuple(tokenizer.tokenize(t) for t in texts)
        )
        assert np.asarray(token_ids).tolist() == r["token_ids"], texts
        assert np.asarray(segment_ids).tolist() == r["segment_ids"], texts
        mask = (np.asarray(token_ids) != 0).astype(int).tolist()
        assert mask == r["padding_mask"]

    columns = [[r["text_a"] for r in rows]]
    if pairs:
        columns.append([r["text_b"] for r in rows])
    dataset = tf.data.Dataset.from_tensor_slices(tuple(columns)).batch(256)
    dataset = dataset.map(
        lambda *texts: pack(tuple(tokenizer(t) for t in texts))
    )
    got_ids, got_segments = [], []
    for token_ids, segment_ids in dataset:
        got_ids += token_ids.numpy().tolist()
        got_segments += segment_ids.numpy().tolist()
    assert got_ids == [r["token_ids"] for r in rows]
    assert got_segments == [r["segment_ids"] for r in rows]


def test_config_round_trip_keeps_the_vocabulary():
    tokenizer = BiGSTokenizer(sequence_length=8)
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(tokenizer)
    )
    restored.set_vocabulary(tokenizer.get_vocabulary())
    assert restored.get_config() == tokenizer.get_config()
    np.testing.assert_array_equal(
        np.asarray(restored.tokenize("Ça va? [MASK]")),
        np.asarray(tokenizer.tokenize("Ça va? [MASK]")),
    )


INVALID_UTF8 = [
    (b"good \xff\xfe movie", "good movie"),
    (b"caf\xc3", "caf"),
    (b"\xed\xa0\x80 surrogate", "surrogate"),
]


def test_invalid_utf8_is_dropped_the_same_way_on_every_path():
    tokenizer = BiGSTokenizer()
    invalid = [raw for raw, _ in INVALID_UTF8]
    expected = tokenizer.tokenize([clean for _, clean in INVALID_UTF8])
    eager = tokenizer.tokenize(invalid)
    graph = tf.function(tokenizer.tokenize)(tf.constant(invalid))
    in_dataset = next(
        iter(
            tf.data.Dataset.from_tensor_slices(invalid)
            .map(tokenizer.tokenize)
            .ragged_batch(len(invalid))
        )
    )
    for row, want in enumerate(expected):
        want = np.asarray(want).tolist()
        assert np.asarray(eager[row]).tolist() == want
        assert graph[row].numpy().tolist() == want
        assert in_dataset[row].numpy().tolist() == want


def test_graph_tokenization_follows_settings_and_vocabulary_changed_after_use():
    # Graph tokenization is traced once and reused by every pipeline; a
    # setting or vocabulary changed later must not reuse the old graph.
    tokenizer = BiGSTokenizer()
    texts = tf.constant(["the cat sat", "a dog"])

    def in_dataset():
        dataset = tf.data.Dataset.from_tensors(texts).map(tokenizer)
        return next(iter(dataset))

    first = in_dataset()
    assert isinstance(first, tf.RaggedTensor)
    assert in_dataset().to_list() == first.to_list()
    tokenizer.sequence_length = 2
    assert in_dataset().numpy().tolist() == [row[:2] for row in first.to_list()]
    tokenizer.sequence_length = None
    vocabulary = tokenizer.get_vocabulary()
    swapped = vocabulary.index("cat"), vocabulary.index("dog")
    vocabulary[swapped[0]], vocabulary[swapped[1]] = "dog", "cat"
    tokenizer.set_vocabulary(vocabulary)
    rows = in_dataset().to_list()
    assert rows[0][1] == swapped[1] and rows[1][1] == swapped[0]
