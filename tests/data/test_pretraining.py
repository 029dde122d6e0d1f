import collections

import h5py
import numpy as np
import pytest
import tensorflow as tf

import keras_bigs
from keras_bigs.data import dataset_fn_for_input_context
from keras_bigs.data import hdf5_shard_dataset
from keras_bigs.data import masked_lm_dataset
from keras_bigs.data import pack_documents
from keras_bigs.data import pretraining
from keras_bigs.data import shard_for_host
from keras_bigs.data import text_corpus_dataset
from keras_bigs.data import tfds_text_dataset

CLS, SEP, PAD, MASK = 101, 102, 0, 103
SEQUENCE_LENGTH = 32
MAX_PREDICTIONS = 5  # ceil(0.15 * 32), as masked_lm_dataset's default


@pytest.fixture(scope="module")
def tokenizer():
    return keras_bigs.BiGSTokenizer()


def strings(dataset):
    return [s.decode() for s in dataset.as_numpy_iterator()]


def write_text(path, text):
    path.write_text(text, encoding="utf-8")
    return path


# === Documents from text ===


def test_one_document_per_line_in_sorted_file_order(tmp_path):
    write_text(tmp_path / "b.txt", "third doc\n\n   \nfourth doc  \n")
    write_text(tmp_path / "a.txt", "first doc\r\n  second doc\r\n")
    documents = text_corpus_dataset(str(tmp_path / "*.txt"))
    assert documents.element_spec == tf.TensorSpec([], tf.string)
    assert strings(documents) == ["first doc", "second doc", "third doc",
                                  "fourth doc"]
    explicit = text_corpus_dataset([tmp_path / "b.txt", tmp_path / "a.txt"])
    assert strings(explicit) == ["third doc", "fourth doc", "first doc",
                                 "second doc"]


def test_blank_line_documents_join_paragraph_lines(tmp_path):
    write_text(tmp_path / "1.txt",
               "\n\nTitle one\nLine two of doc one.\n\n\n  \n"
               "Doc two, one line.\n\nDoc three\nends the file")
    write_text(tmp_path / "2.txt", "Doc four starts file two.\n")
    documents = text_corpus_dataset(str(tmp_path / "*.txt"), "blank_line")
    assert strings(documents) == [
        "Title one Line two of doc one.",
        "Doc two, one line.",
        # A paragraph ends with its file.
        "Doc three ends the file",
        "Doc four starts file two.",
    ]


def test_corpus_errors_name_the_file(tmp_path):
    write_text(tmp_path / "good.txt", "A document.\n")
    write_text(tmp_path / "empty.txt", "")
    write_text(tmp_path / "blank.txt", "\n  \n\t\n")
    with pytest.raises(ValueError, match=r"empty\.txt is empty"):
        text_corpus_dataset([tmp_path / "good.txt", tmp_path / "empty.txt"])
    with pytest.raises(ValueError, match=r"blank\.txt is empty"):
        text_corpus_dataset(str(tmp_path / "blank.txt"), "blank_line")
    with pytest.raises(FileNotFoundError, match=r"No file matches .*nothing"):
        text_corpus_dataset(str(tmp_path / "nothing*.txt"))
    with pytest.raises(ValueError, match=r"'line' or 'blank_line', not "
                                         r"'paragraph'"):
        text_corpus_dataset(tmp_path / "good.txt", "paragraph")


def test_tfds_text_dataset_reads_the_text_feature(monkeypatch):
    tfds = pytest.importorskip("tensorflow_datasets")
    calls = []

    def load(name, split, data_dir=None, shuffle_files=False):
        calls.append((name, split, data_dir))
        return tf.data.Dataset.from_tensor_slices(
            {"title": ["T1", "T2"], "text": ["Body one.", "Body two."]})

    monkeypatch.setattr(tfds, "load", load)
    documents = tfds_text_dataset("wikipedia/20230601.en", "train[:2]",
                                  data_dir="/tfds")
    assert calls == [("wikipedia/20230601.en", "train[:2]", "/tfds")]
    assert strings(documents) == ["Body one.", "Body two."]
    with pytest.raises(ValueError, match=r"no feature 'content'; its "
                                         r"features are \['text', 'title'\]"):
        tfds_text_dataset("wikipedia/20230601.en", text_key="content")


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
    packed = list(pack_documents(documents, tokenizer, SEQUENCE_LENGTH,
                                 documents_per_batch=2).as_numpy_iterator())
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
            example["padding_mask"], np.arange(SEQUENCE_LENGTH) < length)
        np.testing.assert_array_equal(example["segment_ids"], 0)
        assert token_ids[0] == CLS and token_ids[length - 1] == SEP
        assert np.all(token_ids[length:] == PAD)
        if i < len(packed) - 1:
            assert length == SEQUENCE_LENGTH  # only the last is padded
        stream += token_ids[1:length - 1].tolist()
    assert stream == expected
    assert PAD in stream  # the literal "[PAD]" is kept, and unmasked


def test_packing_rejects_bad_lengths(tokenizer):
    documents = tf.data.Dataset.from_tensor_slices(["A document."])
    with pytest.raises(ValueError, match=r"at least 3 .*not 2"):
        pack_documents(documents, tokenizer, 2)
    with pytest.raises(ValueError, match=r"without sequence_length \(it has "
                                         r"16\)"):
        pack_documents(documents, keras_bigs.BiGSTokenizer(
            sequence_length=16), 32)


# === Masking ===


@pytest.fixture(scope="module")
def packed_batches(tokenizer):
    """Packed examples of a small corpus, in batches of 4 (cached: passes
    over it re-run only what is built on top)."""
    documents = tf.data.Dataset.from_tensor_slices([
        f"Document number {i} is about the weather in city {i}, which "
        "was sunny and warm." for i in range(12)])
    packed = pack_documents(documents, tokenizer, SEQUENCE_LENGTH)
    return packed.batch(4, drop_remainder=True).cache()


def test_masking_matches_the_masked_lm_preprocessor(tokenizer,
                                                    packed_batches):
    packed = packed_batches
    masked = masked_lm_dataset(packed, tokenizer)
    preprocessor = keras_bigs.BiGSMaskedLMPreprocessor(
        tokenizer, sequence_length=SEQUENCE_LENGTH)
    reference = tf.data.Dataset.from_tensor_slices(
        ["a raw string", "another"]).batch(2).map(preprocessor)
    x, y, sample_weight = masked.element_spec
    ref_x, ref_y, ref_sample_weight = reference.element_spec
    assert sorted(x) == sorted(ref_x) == [
        "mask_positions", "padding_mask", "segment_ids", "token_ids"]
    for key in x:
        assert x[key].dtype == ref_x[key].dtype, key
        assert x[key].shape[1:] == ref_x[key].shape[1:], key
    assert (y.dtype, y.shape[1:]) == (ref_y.dtype, ref_y.shape[1:])
    assert sample_weight.dtype == ref_sample_weight.dtype
    assert x["mask_positions"].shape[1:] == (MAX_PREDICTIONS,)

    special = set(tokenizer.special_token_ids)
    selected = 0
    for (x, y, weight), original in zip(masked.as_numpy_iterator(),
                                        packed.as_numpy_iterator()):
        np.testing.assert_array_equal(x["padding_mask"],
                                      original["padding_mask"])
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
        return [x["mask_positions"].tolist()
                for x, _, _ in dataset.as_numpy_iterator()]

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
    with pytest.raises(ValueError, match=r"dicts with \['token_ids', "
                                         r"'segment_ids', 'padding_mask'\]"):
        masked_lm_dataset(tf.data.Dataset.range(3), tokenizer)


# === The original HDF5 shards ===


def make_shard_arrays(num_examples, seed, max_predictions=MAX_PREDICTIONS):
    """A shard's arrays, masked as the original data: positions sorted,
    padded with 0, `[MASK]` in `input_ids` at some of them."""
    rng = np.random.default_rng(seed)
    input_ids = np.zeros((num_examples, SEQUENCE_LENGTH), np.int32)
    input_mask = np.zeros_like(input_ids)
    positions = np.zeros((num_examples, max_predictions), np.int32)
    ids = np.zeros_like(positions)
    for row in range(num_examples):
        length = int(rng.integers(8, SEQUENCE_LENGTH + 1))
        tokens = rng.integers(1000, 30000, length)
        tokens[0], tokens[-1] = CLS, SEP
        count = int(rng.integers(1, max_predictions + 1))
        chosen = np.sort(rng.choice(np.arange(1, length - 1), count, False))
        positions[row, :count] = chosen
        ids[row, :count] = tokens[chosen]
        tokens[chosen] = MASK
        input_ids[row, :length] = tokens
        input_mask[row, :length] = 1
    return {
        "input_ids": input_ids,
        "input_mask": input_mask,
        "segment_ids": np.zeros_like(input_ids),
        "masked_lm_positions": positions,
        "masked_lm_ids": ids,
    }


def write_shard(path, arrays):
    """Write with the original's dtypes (academic-budget-bert / NVIDIA)."""
    dtypes = {"input_ids": "i4", "input_mask": "i1", "segment_ids": "i1",
              "masked_lm_positions": "i4", "masked_lm_ids": "i4"}
    with h5py.File(path, "w") as file:
        for key, array in arrays.items():
            file.create_dataset(key, data=array, dtype=dtypes.get(key, "i4"),
                                compression="gzip")
        num_examples = len(arrays["input_ids"])
        file.create_dataset("next_sentence_labels",
                            data=np.zeros(num_examples), dtype="i1")
    return path


def test_hdf5_shards_read_as_premasked_examples(tmp_path, monkeypatch):
    # Small read blocks, so that a small shard spans several.
    monkeypatch.setattr(pretraining, "_HDF5_BLOCK_SIZE", 4)
    first = make_shard_arrays(10, seed=0)
    # A 0 ends the positions, as in the original loader: 9 is ignored.
    first["masked_lm_positions"][0] = [4, 0, 9, 0, 0]
    write_shard(tmp_path / "train_shard_0.hdf5", first)
    second = make_shard_arrays(7, seed=1, max_predictions=3)
    write_shard(tmp_path / "train_shard_1.hdf5", second)

    with pytest.raises(ValueError, match=r"different numbers of predictions"):
        hdf5_shard_dataset(str(tmp_path / "*.hdf5"), SEQUENCE_LENGTH)
    dataset = hdf5_shard_dataset(str(tmp_path / "*.hdf5"), SEQUENCE_LENGTH,
                                 max_predictions=MAX_PREDICTIONS,
                                 shuffle_files=False)
    x_spec, y_spec, weight_spec = dataset.element_spec
    assert x_spec["token_ids"].shape == (SEQUENCE_LENGTH,)
    assert x_spec["mask_positions"].shape == (MAX_PREDICTIONS,)
    assert x_spec["padding_mask"].dtype == tf.bool
    assert weight_spec.dtype == tf.float32
    got = list(dataset.as_numpy_iterator())
    assert len(got) == 17

    def expected(arrays, row):
        positions = np.zeros(MAX_PREDICTIONS, np.int64)
        width = arrays["masked_lm_positions"].shape[1]
        positions[:width] = arrays["masked_lm_positions"][row]
        weights = np.cumprod(positions != 0).astype(np.float32)
        ids = np.zeros(MAX_PREDICTIONS, np.int32)
        ids[:width] = arrays["masked_lm_ids"][row]
        return positions * weights.astype(np.int64), ids * weights, weights

    rows = [(first, r) for r in range(10)] + [(second, r) for r in range(7)]
    for (x, y, weight), (arrays, row) in zip(got, rows):
        np.testing.assert_array_equal(x["token_ids"], arrays["input_ids"][row])
        np.testing.assert_array_equal(x["padding_mask"],
                                      arrays["input_mask"][row] == 1)
        np.testing.assert_array_equal(x["segment_ids"], 0)
        positions, ids, weights = expected(arrays, row)
        np.testing.assert_array_equal(x["mask_positions"], positions)
        np.testing.assert_array_equal(y, ids)
        np.testing.assert_array_equal(weight, weights)
    assert got[0][0]["mask_positions"].tolist() == [4, 0, 0, 0, 0]
    assert got[0][2].tolist() == [1, 0, 0, 0, 0]
    assert got[10][2].sum() == (second["masked_lm_positions"][0] > 0).sum()

    # Files in a random order, the same for the same seed.
    def first_tokens(seed):
        dataset = hdf5_shard_dataset(str(tmp_path / "*.hdf5"),
                                     SEQUENCE_LENGTH, MAX_PREDICTIONS,
                                     shuffle_files=True, seed=seed)
        return [int(x["token_ids"][1]) for x, _, _ in
                dataset.as_numpy_iterator()]

    shuffled = first_tokens(5)
    assert shuffled == first_tokens(5)
    assert sorted(shuffled) == sorted(int(x["token_ids"][1])
                                      for x, _, _ in got)


def test_bad_shards_are_errors_naming_the_file(tmp_path):
    arrays = make_shard_arrays(4, seed=0)
    missing = dict(arrays)
    del missing["masked_lm_ids"]
    write_shard(tmp_path / "missing.hdf5", missing)
    with pytest.raises(ValueError, match=r"missing\.hdf5 is not a BiGS "
                                         r"pretraining shard: it lacks "
                                         r"\['masked_lm_ids'\]"):
        hdf5_shard_dataset(str(tmp_path / "missing.hdf5"), SEQUENCE_LENGTH)
    # The "(5, N)" of the README read literally: one stacked array.
    with h5py.File(tmp_path / "stacked.hdf5", "w") as file:
        file.create_dataset("input_ids", data=np.zeros((5, 4)))
    with pytest.raises(ValueError, match=r"stacked\.hdf5 is not a BiGS "
                                         r"pretraining shard"):
        hdf5_shard_dataset(tmp_path / "stacked.hdf5", SEQUENCE_LENGTH)
    flat = dict(arrays, input_mask=arrays["input_mask"].ravel())
    write_shard(tmp_path / "flat.hdf5", flat)
    with pytest.raises(ValueError, match=r"flat\.hdf5 is not a valid BiGS "
                                         r"pretraining shard: input_mask has "
                                         r"shape \(128,\)"):
        hdf5_shard_dataset(tmp_path / "flat.hdf5", SEQUENCE_LENGTH)
    write_shard(tmp_path / "good.hdf5", arrays)
    with pytest.raises(ValueError, match=r"good\.hdf5 .*input_ids has length "
                                         r"32, not the sequence_length 128"):
        hdf5_shard_dataset(tmp_path / "good.hdf5", 128)
    with pytest.raises(ValueError, match=r"more than max_predictions=3 .*"
                                         r"good\.hdf5"):
        hdf5_shard_dataset(tmp_path / "good.hdf5", SEQUENCE_LENGTH, 3)
    write_text(tmp_path / "text.hdf5", "not hdf5")
    with pytest.raises(ValueError, match=r"text\.hdf5 is not an HDF5 file"):
        hdf5_shard_dataset(tmp_path / "text.hdf5", SEQUENCE_LENGTH)


# The pooler is not part of the masked-LM loss.
@pytest.mark.filterwarnings("ignore:Gradients do not exist:UserWarning")
def test_masked_lm_trains_on_both_pipelines(tokenizer, packed_batches,
                                            tmp_path):
    backbone = keras_bigs.BiGSBackbone(
        vocabulary_size=30522, num_layers=1, hidden_dim=16,
        intermediate_dim=32, state_dim=4, max_sequence_length=SEQUENCE_LENGTH)
    masked_lm = keras_bigs.BiGSMaskedLM(backbone, preprocessor=None)
    online = masked_lm_dataset(packed_batches, tokenizer)
    history = masked_lm.fit(online, steps_per_epoch=2, shuffle=False,
                            verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    write_shard(tmp_path / "shard.hdf5", make_shard_arrays(8, seed=2))
    shards = hdf5_shard_dataset(tmp_path / "shard.hdf5", SEQUENCE_LENGTH)
    history = masked_lm.fit(shards.batch(4, drop_remainder=True),
                            steps_per_epoch=2, shuffle=False, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


# === Sharding over hosts ===


@pytest.fixture
def corpus_files(tmp_path):
    """Four files of 5, 6, 7 and 8 one-line documents."""
    paths = []
    for f in range(4):
        lines = "".join(f"file{f} doc{d}\n" for d in range(5 + f))
        paths.append(str(write_text(tmp_path / f"part{f}.txt", lines)))
    return paths


@pytest.mark.parametrize("num_hosts", [1, 3, 4, 8])
@pytest.mark.parametrize("which", ["file_list", "single_file", "dataset"])
def test_every_example_is_read_once_across_hosts(corpus_files, num_hosts,
                                                 which):
    if which == "file_list":
        source, expected_files = corpus_files, corpus_files
    elif which == "single_file":
        source, expected_files = corpus_files[3], corpus_files[3:]
    else:
        source = text_corpus_dataset(corpus_files)
        expected_files = corpus_files
    seen = collections.Counter()
    for host in range(num_hosts):
        dataset = shard_for_host(source, num_hosts, host,
                                 make_dataset=text_corpus_dataset)
        seen.update(strings(dataset))
    lines = [line for path in expected_files
             for line in open(path, encoding="utf-8").read().splitlines()]
    assert seen == collections.Counter(lines)
    assert set(seen.values()) == {1}


def test_files_go_to_hosts_whole_when_there_are_enough(corpus_files):
    for host in range(3):
        read = []
        shard_for_host(corpus_files, 3, host,
                       make_dataset=lambda files: read.extend(files) or
                       text_corpus_dataset(files))
        assert read == corpus_files[host::3]
    with pytest.raises(ValueError, match=r"host_index must be in \[0, 3\), "
                                         r"not 3"):
        shard_for_host(corpus_files, 3, 3, text_corpus_dataset)
    with pytest.raises(ValueError, match=r"needs make_dataset"):
        shard_for_host(corpus_files, 2, 0)


def test_input_context_adapter(corpus_files):
    calls = []

    def make_dataset(num_hosts, host_index, batch_size):
        calls.append((num_hosts, host_index, batch_size))
        return shard_for_host(corpus_files, num_hosts, host_index,
                              text_corpus_dataset).batch(batch_size)

    dataset_fn = dataset_fn_for_input_context(make_dataset,
                                              global_batch_size=12)
    seen = collections.Counter()
    for pipeline in range(3):
        context = tf.distribute.InputContext(
            num_input_pipelines=3, input_pipeline_id=pipeline,
            num_replicas_in_sync=6)
        for batch in dataset_fn(context).as_numpy_iterator():
            assert len(batch) <= 2
            seen.update(s.decode() for s in batch)
    assert calls == [(3, 0, 2), (3, 1, 2), (3, 2, 2)]
    assert set(seen.values()) == {1} and len(seen) == 5 + 6 + 7 + 8

    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    distributed = strategy.distribute_datasets_from_function(dataset_fn)
    count = sum(int(tf.size(batch)) for batch in distributed)
    assert count == 26 and calls[-1] == (1, 0, 12)
