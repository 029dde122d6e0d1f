import os
import shutil

import numpy as np
import pytest

import keras_bigs
from tests.conftest import fixture_dir

TASKS = [keras_bigs.BiGSBackbone, keras_bigs.BiGSClassifier,
         keras_bigs.BiGSMaskedLM, keras_bigs.BiGSQuestionAnswerer,
         keras_bigs.BiGSMultipleChoice, keras_bigs.BiGSTokenizer,
         keras_bigs.BiGSTextClassifierPreprocessor,
         keras_bigs.BiGSMaskedLMPreprocessor]


def test_registry_lists_the_published_checkpoints():
    assert set(keras_bigs.BIGS_PRESETS) == {
        "bigs_128_en", "bigs_512_en", "bigs_1024_en", "bigs_4096_en",
        "bigs_128_en_mnli", "bigs_512_en_mnli"}
    for name, preset in keras_bigs.BIGS_PRESETS.items():
        metadata = preset["metadata"]
        length = metadata["sequence_length"]
        assert f"_{length}_" in name
        assert preset["kaggle_handle"].startswith("hf://JunxiongWang/BiGS_")
        assert metadata["source"].startswith("https://huggingface.co/")
        assert metadata["params"] and metadata["training_tokens"]
    assert set(keras_bigs.BIGS_PRESETS) <= set(keras_bigs.BiGSClassifier.presets)


@pytest.mark.parametrize("cls", TASKS, ids=lambda c: c.__name__)
def test_unknown_name_lists_the_available_presets(cls):
    with pytest.raises(ValueError, match="Unknown preset 'bigs_base_en'") as e:
        cls.from_preset("bigs_base_en")
    for name in keras_bigs.BIGS_PRESETS:
        assert name in str(e.value)


@pytest.fixture
def empty_offline_cache(tmp_path, monkeypatch):
    from huggingface_hub import constants

    cache = tmp_path / "hf_cache"
    cache.mkdir()
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return cache


def test_registered_name_offline_says_what_it_tried(empty_offline_cache):
    with pytest.raises(ConnectionError) as e:
        keras_bigs.BiGSClassifier.from_preset("bigs_512_en_mnli")
    message = str(e.value)
    assert "hf://JunxiongWang/BiGS_512_MNLI" in message
    assert "huggingface-cli download JunxiongWang/BiGS_512_MNLI" in message
    assert "tools/convert_checkpoint.py" in message


def test_registered_name_loads_from_the_hugging_face_cache(
        empty_offline_cache):
    # The layout huggingface_hub writes: refs/main names the snapshot.
    source = fixture_dir("torch_classifier")
    repo = empty_offline_cache / "models--JunxiongWang--BiGS_128_MNLI"
    snapshot = repo / "snapshots" / "0123abcd"
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123abcd")
    for name in ("config.json", "model.safetensors"):
        os.symlink(source / name, snapshot / name)
    with pytest.warns(UserWarning, match="preprocessor=None"):
        cached = keras_bigs.BiGSClassifier.from_preset("bigs_128_en_mnli")
    direct = keras_bigs.BiGSClassifier.from_preset(str(source),
                                                   preprocessor=None)
    for a, b in zip(cached.weights, direct.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_preprocessing_of_a_registered_name_needs_no_download(
        empty_offline_cache):
    preprocessor = keras_bigs.BiGSTextClassifierPreprocessor.from_preset(
        "bigs_4096_en")
    assert preprocessor.sequence_length == 4096
    tokenizer = keras_bigs.BiGSTokenizer.from_preset("bigs_128_en")
    assert tokenizer.vocabulary_size() == 30522
    masked_lm = keras_bigs.BiGSMaskedLMPreprocessor.from_preset("bigs_128_en")
    assert masked_lm.mask_selection_length == 20


def small_backbone():
    return keras_bigs.BiGSBackbone(
        vocabulary_size=30522, num_layers=1, hidden_dim=16,
        intermediate_dim=32, state_dim=4, max_sequence_length=16)


def classifier():
    return keras_bigs.BiGSClassifier(
        small_backbone(), num_classes=3,
        preprocessor=keras_bigs.BiGSTextClassifierPreprocessor(
            keras_bigs.BiGSTokenizer(), sequence_length=16))


def masked_lm():
    return keras_bigs.BiGSMaskedLM(
        small_backbone(),
        preprocessor=keras_bigs.BiGSMaskedLMPreprocessor(
            keras_bigs.BiGSTokenizer(), sequence_length=16))


def question_answerer():
    return keras_bigs.BiGSQuestionAnswerer(
        small_backbone(),
        preprocessor=keras_bigs.BiGSQuestionAnswererPreprocessor(
            keras_bigs.BiGSTokenizer(), sequence_length=16))


def token_inputs(task):
    x = {"token_ids": np.array([[101, 7592, 2088, 102] + [0] * 12]),
         "segment_ids": np.zeros((1, 16), "int32"),
         "padding_mask": np.array([[1] * 4 + [0] * 12])}
    if isinstance(task, keras_bigs.BiGSMaskedLM):
        x["mask_positions"] = np.array([[1, 2]])
    return x


@pytest.mark.parametrize("make", [classifier, masked_lm, question_answerer])
def test_save_to_preset_round_trip(make, tmp_path):
    task = make()
    path = str(tmp_path / "preset")
    task.save_to_preset(path)
    assert {"config.json", "model.weights.h5", "task.json",
            "tokenizer.json", "preprocessor.json"} <= set(os.listdir(path))
    assert os.path.exists(os.path.join(path, "assets", "tokenizer",
                                       "vocabulary.txt"))

    restored = type(task).from_preset(path)
    assert len(restored.weights) == len(task.weights)
    for a, b in zip(task.weights, restored.weights):
        assert a.path == b.path
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    task.preprocessor, preprocessor = None, task.preprocessor
    restored.preprocessor, restored_preprocessor = None, restored.preprocessor
    expected = task.predict(token_inputs(task), verbose=0)
    got = restored.predict(token_inputs(task), verbose=0)
    for name in (expected if isinstance(expected, dict) else [None]):
        np.testing.assert_array_equal(
            got if name is None else got[name],
            expected if name is None else expected[name])
    assert (restored_preprocessor.get_config()["sequence_length"]
            == preprocessor.get_config()["sequence_length"] == 16)
    assert (restored_preprocessor.tokenizer.get_vocabulary()
            == preprocessor.tokenizer.get_vocabulary())

    backbone = keras_bigs.BiGSBackbone.from_preset(path)
    for a, b in zip(task.backbone.weights, backbone.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    shutil.rmtree(path)


@pytest.mark.parametrize("cls", [keras_bigs.BiGSClassifier,
                                 keras_bigs.BiGSQuestionAnswerer,
                                 keras_bigs.BiGSMultipleChoice])
def test_another_task_from_a_saved_preset_pads_to_the_trained_length(
        cls, tmp_path):
    # A masked-LM preset (length 16) loaded as another task: its
    # preprocessor is new, and pads to the backbone's length, not 512.
    masked_lm().save_to_preset(str(tmp_path / "mlm"))
    kwargs = {"num_classes": 2} if cls is keras_bigs.BiGSClassifier else {}
    task = cls.from_preset(str(tmp_path / "mlm"), **kwargs)
    assert task.preprocessor.sequence_length == 16
