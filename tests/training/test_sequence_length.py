import keras
import numpy as np
import pytest

import keras_bigs
from keras_bigs.training import extend_sequence_length

TINY = dict(
    vocabulary_size=30522,
    num_layers=1,
    hidden_dim=8,
    intermediate_dim=16,
    state_dim=4,
    max_sequence_length=16,
)


def numpy_weights(model):
    return [keras.ops.convert_to_numpy(w) for w in model.weights]


def inputs(length, batch=2):
    rng = np.random.default_rng(0)
    return {
        "token_ids": rng.integers(1, 1000, (batch, length)).astype("int32"),
        "segment_ids": np.zeros((batch, length), "int32"),
        "padding_mask": np.ones((batch, length), "int32"),
    }


def check_extended(old, new, old_length, new_length):
    """Old positions kept, new ones the learned block repeated, the rest
    equal; returns the number of weights compared."""
    old_table = keras.ops.convert_to_numpy(
        old.position_embedding.position_embeddings
    )
    new_table = keras.ops.convert_to_numpy(
        new.position_embedding.position_embeddings
    )
    assert new_table.shape == (new_length, old_table.shape[1])
    np.testing.assert_array_equal(new_table[:old_length], old_table)
    for i in range(old_length, new_length):
        np.testing.assert_array_equal(new_table[i], old_table[i % old_length])
    position = old.position_embedding.position_embeddings.path
    compared = 0
    for a, b in zip(old.weights, new.weights):
        assert a.path.rsplit("/", 1)[-1] == b.path.rsplit("/", 1)[-1]
        if a.path != position:
            np.testing.assert_array_equal(
                keras.ops.convert_to_numpy(a),
                keras.ops.convert_to_numpy(b),
                err_msg=a.path,
            )
            compared += 1
    return compared


def test_extend_backbone():
    keras.utils.set_random_seed(0)
    backbone = keras_bigs.BiGSBackbone(**TINY)
    before = numpy_weights(backbone)
    longer = extend_sequence_length(backbone, 40)  # not a multiple of 16
    assert isinstance(longer, keras_bigs.BiGSBackbone)
    assert longer.max_sequence_length == 40
    assert longer.get_config()["max_sequence_length"] == 40
    assert check_extended(backbone, longer, 16, 40) == len(backbone.weights) - 1
    # The original is untouched and still limited to 16 tokens.
    for got, expected in zip(numpy_weights(backbone), before):
        np.testing.assert_array_equal(got, expected)
    with pytest.raises(
        ValueError, match="longer than the model's max_sequence_length 16"
    ):
        backbone(inputs(40))


def test_extend_classifier_with_preprocessor():
    keras.utils.set_random_seed(1)
    backbone = keras_bigs.BiGSBackbone(**TINY)
    preprocessor = keras_bigs.BiGSTextClassifierPreprocessor(
        keras_bigs.BiGSTokenizer(), sequence_length=16
    )
    classifier = keras_bigs.BiGSClassifier(
        backbone, num_classes=3, preprocessor=preprocessor
    )
    longer = extend_sequence_length(classifier, 64)
    assert isinstance(longer, keras_bigs.BiGSClassifier)
    assert longer.num_classes == 3
    assert longer.backbone.max_sequence_length == 64
    assert longer.preprocessor.sequence_length == 64
    assert longer.preprocessor.tokenizer is preprocessor.tokenizer
    assert classifier.preprocessor.sequence_length == 16
    check_extended(classifier.backbone, longer.backbone, 16, 64)
    for a, b in zip(
        classifier.output_dense.weights, longer.output_dense.weights
    ):
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b)
        )
    # Raw strings go through the new preprocessor, and the model runs, at
    # the new length.
    x = longer.preprocessor(["a sentence long enough to see"])
    assert keras.ops.shape(x["token_ids"]) == (1, 64)
    logits = longer.predict(["a raw sentence"], verbose=0)
    assert logits.shape == (1, 3) and np.isfinite(logits).all()


def test_extend_masked_lm_keeps_the_tied_decoder():
    keras.utils.set_random_seed(2)
    masked_lm = keras_bigs.BiGSMaskedLM(keras_bigs.BiGSBackbone(**TINY))
    longer = extend_sequence_length(masked_lm, 32)
    assert isinstance(longer, keras_bigs.BiGSMaskedLM)
    assert longer.preprocessor is None
    assert check_extended(masked_lm.backbone, longer.backbone, 16, 32) > 0
    for a, b in zip(
        masked_lm.masked_lm_head.weights, longer.masked_lm_head.weights
    ):
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b)
        )
    # Still tied: the head decodes with the new backbone's embedding.
    assert (
        longer.masked_lm_head.token_embedding is longer.backbone.token_embedding
    )
    assert longer.output.shape == (None, None, 30522)


def test_masked_lm_preprocessor_mask_budget_follows_the_length():
    keras.utils.set_random_seed(3)
    preprocessor = keras_bigs.BiGSMaskedLMPreprocessor(
        keras_bigs.BiGSTokenizer(), sequence_length=16
    )
    masked_lm = keras_bigs.BiGSMaskedLM(
        keras_bigs.BiGSBackbone(**TINY), preprocessor=preprocessor
    )
    longer = extend_sequence_length(masked_lm, 64)
    assert preprocessor.mask_selection_length == 3  # ceil(0.15 * 16)
    assert longer.preprocessor.mask_selection_length == 10  # ceil(0.15*64)
    assert longer.preprocessor.sequence_length == 64


def test_errors():
    backbone = keras_bigs.BiGSBackbone(**TINY)
    with pytest.raises(
        ValueError, match="Cannot shrink the position table from 16 to 8 tokens"
    ):
        extend_sequence_length(backbone, 8)
    with pytest.raises(
        ValueError,
        match="needs a `BiGSBackbone` or a task built on one; received Dense",
    ):
        extend_sequence_length(keras.layers.Dense(2), 32)


def test_a_training_run_longer_than_its_preset_extends_it(tmp_path, capsys):
    from keras_bigs.data.glue_tasks import get_glue_task
    from keras_bigs.training import GlueRun
    from keras_bigs.training import fit_to_sequence_length
    from keras_bigs.training.glue_finetuning import build_classifier

    sst2 = get_glue_task("sst2")
    preset = str(tmp_path / "preset")
    build_classifier(GlueRun("sst2", sequence_length=32), sst2).save_to_preset(
        preset
    )
    same = keras_bigs.BiGSClassifier.from_preset(preset)
    for length in (None, 16, 32):
        assert fit_to_sequence_length(same, length, preset) is same
    assert capsys.readouterr().out == ""
    longer = build_classifier(
        GlueRun("sst2", preset=preset, sequence_length=48), sst2
    )
    assert f"{preset} from 32 to 48 tokens" in capsys.readouterr().out
    assert longer.backbone.max_sequence_length == 48
    assert longer.preprocessor.sequence_length == 48
    table = keras.ops.convert_to_numpy(
        longer.backbone.position_embedding.position_embeddings
    )
    learned = keras.ops.convert_to_numpy(
        same.backbone.position_embedding.position_embeddings
    )
    np.testing.assert_array_equal(table[:32], learned)
    np.testing.assert_array_equal(table[32:], learned[:16])
