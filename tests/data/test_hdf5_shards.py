import h5py
import numpy as np
import pytest
import tensorflow as tf

import keras_bigs
from keras_bigs.data import hdf5_shard_dataset
from keras_bigs.data import hdf5_shards
from keras_bigs.data import masked_lm_dataset
from tests.conftest import tiny_backbone
from tests.data.conftest import CLS
from tests.data.conftest import MASK
from tests.data.conftest import MAX_PREDICTIONS
from tests.data.conftest import SEP
from tests.data.conftest import SEQUENCE_LENGTH
from tests.data.conftest import write_text


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
    dtypes = {
        "input_ids": "i4",
        "input_mask": "i1",
        "segment_ids": "i1",
        "masked_lm_positions": "i4",
        "masked_lm_ids": "i4",
    }
    with h5py.File(path, "w") as file:
        for key, array in arrays.items():
            file.create_dataset(
                key, data=array, dtype=dtypes.get(key, "i4"), compression="gzip"
            )
        num_examples = len(arrays["input_ids"])
        file.create_dataset(
            "next_sentence_labels", data=np.zeros(num_examples), dtype="i1"
        )
    return path


def test_hdf5_shards_read_as_premasked_examples(tmp_path, monkeypatch):
    # Small read blocks, so that a small shard spans several.
    monkeypatch.setattr(hdf5_shards, "_HDF5_BLOCK_SIZE", 4)
    first = make_shard_arrays(10, seed=0)
    # A 0 ends the positions, as in the original loader: 9 is ignored.
    first["masked_lm_positions"][0] = [4, 0, 9, 0, 0]
    write_shard(tmp_path / "train_shard_0.hdf5", first)
    second = make_shard_arrays(7, seed=1, max_predictions=3)
    write_shard(tmp_path / "train_shard_1.hdf5", second)

    with pytest.raises(ValueError, match=r"different numbers of predictions"):
        hdf5_shard_dataset(str(tmp_path / "*.hdf5"), SEQUENCE_LENGTH)
    dataset = hdf5_shard_dataset(
        str(tmp_path / "*.hdf5"),
        SEQUENCE_LENGTH,
        max_predictions=MAX_PREDICTIONS,
        shuffle_files=False,
    )
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
        np.testing.assert_array_equal(
            x["padding_mask"], arrays["input_mask"][row] == 1
        )
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
        dataset = hdf5_shard_dataset(
            str(tmp_path / "*.hdf5"),
            SEQUENCE_LENGTH,
            MAX_PREDICTIONS,
            shuffle_files=True,
            seed=seed,
        )
        return [
            int(x["token_ids"][1]) for x, _, _ in dataset.as_numpy_iterator()
        ]

    shuffled = first_tokens(5)
    assert shuffled == first_tokens(5)
    assert sorted(shuffled) == sorted(int(x["token_ids"][1]) for x, _, _ in got)


def test_bad_shards_are_errors_naming_the_file(tmp_path):
    arrays = make_shard_arrays(4, seed=0)
    missing = dict(arrays)
    del missing["masked_lm_ids"]
    write_shard(tmp_path / "missing.hdf5", missing)
    with pytest.raises(
        ValueError,
        match=r"missing\.hdf5 is not a BiGS "
        r"pretraining shard: it lacks "
        r"\['masked_lm_ids'\]",
    ):
        hdf5_shard_dataset(str(tmp_path / "missing.hdf5"), SEQUENCE_LENGTH)
    # The "(5, N)" of the README read literally: one stacked array.
    with h5py.File(tmp_path / "stacked.hdf5", "w") as file:
        file.create_dataset("input_ids", data=np.zeros((5, 4)))
    with pytest.raises(
        ValueError,
        match=r"stacked\.hdf5 is not a BiGS "
        r"pretraining shard",
    ):
        hdf5_shard_dataset(tmp_path / "stacked.hdf5", SEQUENCE_LENGTH)
    flat = dict(arrays, input_mask=arrays["input_mask"].ravel())
    write_shard(tmp_path / "flat.hdf5", flat)
    with pytest.raises(
        ValueError,
        match=r"flat\.hdf5 is not a valid BiGS "
        r"pretraining shard: input_mask has "
        r"shape \(128,\)",
    ):
        hdf5_shard_dataset(tmp_path / "flat.hdf5", SEQUENCE_LENGTH)
    write_shard(tmp_path / "good.hdf5", arrays)
    with pytest.raises(
        ValueError,
        match=r"good\.hdf5 .*input_ids has length "
        r"32, not the sequence_length 128",
    ):
        hdf5_shard_dataset(tmp_path / "good.hdf5", 128)
    with pytest.raises(
        ValueError,
        match=r"more than max_predictions=3 .*"
        r"good\.hdf5",
    ):
        hdf5_shard_dataset(tmp_path / "good.hdf5", SEQUENCE_LENGTH, 3)
    write_text(tmp_path / "text.hdf5", "not hdf5")
    with pytest.raises(ValueError, match=r"text\.hdf5 is not an HDF5 file"):
        hdf5_shard_dataset(tmp_path / "text.hdf5", SEQUENCE_LENGTH)


# The pooler is not part of the masked-LM loss.
@pytest.mark.filterwarnings("ignore:Gradients do not exist:UserWarning")
def test_masked_lm_trains_on_both_pipelines(
    tokenizer, packed_batches, tmp_path
):
    backbone = tiny_backbone(SEQUENCE_LENGTH)
    masked_lm = keras_bigs.BiGSMaskedLM(backbone, preprocessor=None)
    online = masked_lm_dataset(packed_batches, tokenizer)
    history = masked_lm.fit(online, steps_per_epoch=2, shuffle=False, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    write_shard(tmp_path / "shard.hdf5", make_shard_arrays(8, seed=2))
    shards = hdf5_shard_dataset(tmp_path / "shard.hdf5", SEQUENCE_LENGTH)
    history = masked_lm.fit(
        shards.batch(4, drop_remainder=True),
        steps_per_epoch=2,
        shuffle=False,
        verbose=0,
    )
    assert np.isfinite(history.history["loss"]).all()
