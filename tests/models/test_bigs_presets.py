import json
import os
import shutil
import warnings

import keras
import keras_hub
import numpy as np
import pytest

import keras_bigs
from keras_bigs.convert.original_checkpoint import task_class_name
from keras_bigs.convert.readers import CheckpointError
from tests.conftest import fixture_dir
from tests.conftest import tiny_backbone

TASKS = [
    keras_bigs.BiGSBackbone,
    keras_bigs.BiGSClassifier,
    keras_bigs.BiGSMaskedLM,
    keras_bigs.BiGSQuestionAnswerer,
    keras_bigs.BiGSMultipleChoice,
    keras_bigs.BiGSTokenizer,
    keras_bigs.BiGSTextClassifierPreprocessor,
    keras_bigs.BiGSMaskedLMPreprocessor,
]


def test_registry_lists_the_published_checkpoints():
    assert set(keras_bigs.BIGS_PRESETS) == {
        "bigs_128_en",
        "bigs_512_en",
        "bigs_1024_en",
        "bigs_4096_en",
        "bigs_128_en_mnli",
        "bigs_512_en_mnli",
    }
    for name, preset in keras_bigs.BIGS_PRESETS.items():
        metadata = preset["metadata"]
        length = metadata["sequence_length"]
        assert f"_{length}_" in name
        assert preset["kaggle_handle"].startswith("hf://JunxiongWang/BiGS_")
        assert metadata["source"].startswith("https://huggingface.co/")
        assert metadata["params"] and metadata["training_tokens"]
    assert set(keras_bigs.BIGS_PRESETS) <= set(
        keras_bigs.BiGSClassifier.presets
    )


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


@pytest.fixture
def cached_registered_name(empty_offline_cache):
    """`bigs_128_en_mnli` in the Hugging Face cache, as the original
    classifier fixture (the layout huggingface_hub writes)."""
    source = fixture_dir("torch_classifier")
    repo = empty_offline_cache / "models--JunxiongWang--BiGS_128_MNLI"
    snapshot = repo / "snapshots" / "0123abcd"
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123abcd")
    for name in ("config.json", "model.safetensors"):
        os.symlink(source / name, snapshot / name)
    return "bigs_128_en_mnli"


def test_registered_name_loads_from_the_hugging_face_cache(
    cached_registered_name,
):
    with pytest.warns(UserWarning, match="preprocessor=None"):
        cached = keras_bigs.BiGSClassifier.from_preset(cached_registered_name)
    direct = keras_bigs.BiGSClassifier.from_preset(
        str(fixture_dir("torch_classifier")), preprocessor=None
    )
    for a, b in zip(cached.weights, direct.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_preprocessing_of_a_registered_name_needs_no_download(
    empty_offline_cache,
):
    preprocessor = keras_bigs.BiGSTextClassifierPreprocessor.from_preset(
        "bigs_4096_en"
    )
    assert preprocessor.sequence_length == 4096
    tokenizer = keras_bigs.BiGSTokenizer.from_preset("bigs_128_en")
    assert tokenizer.vocabulary_size() == 30522
    masked_lm = keras_bigs.BiGSMaskedLMPreprocessor.from_preset("bigs_128_en")
    assert masked_lm.mask_selection_length == 20


def small_backbone():
    return tiny_backbone(16)


def classifier():
    return keras_bigs.BiGSClassifier(
        small_backbone(),
        num_classes=3,
        preprocessor=keras_bigs.BiGSTextClassifierPreprocessor(
            keras_bigs.BiGSTokenizer(), sequence_length=16
        ),
    )


def masked_lm():
    return keras_bigs.BiGSMaskedLM(
        small_backbone(),
        preprocessor=keras_bigs.BiGSMaskedLMPreprocessor(
            keras_bigs.BiGSTokenizer(), sequence_length=16
        ),
    )


def question_answerer():
    return keras_bigs.BiGSQuestionAnswerer(
        small_backbone(),
        preprocessor=keras_bigs.BiGSQuestionAnswererPreprocessor(
            keras_bigs.BiGSTokenizer(), sequence_length=16
        ),
    )


def token_inputs(task):
    x = {
        "token_ids": np.array([[101, 7592, 2088, 102] + [0] * 12]),
        "segment_ids": np.zeros((1, 16), "int32"),
        "padding_mask": np.array([[1] * 4 + [0] * 12]),
    }
    if isinstance(task, keras_bigs.BiGSMaskedLM):
        x["mask_positions"] = np.array([[1, 2]])
    return x


@pytest.mark.parametrize("make", [classifier, masked_lm, question_answerer])
def test_save_to_preset_round_trip(make, tmp_path):
    task = make()
    path = str(tmp_path / "preset")
    task.save_to_preset(path)
    assert {
        "config.json",
        "model.weights.h5",
        "task.json",
        "tokenizer.json",
        "preprocessor.json",
    } <= set(os.listdir(path))
    assert os.path.exists(
        os.path.join(path, "assets", "tokenizer", "vocabulary.txt")
    )

    restored = type(task).from_preset(path)
    assert len(restored.weights) == len(task.weights)
    for a, b in zip(task.weights, restored.weights):
        assert a.path == b.path
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    task.preprocessor, preprocessor = None, task.preprocessor
    restored.preprocessor, restored_preprocessor = None, restored.preprocessor
    expected = task.predict(token_inputs(task), verbose=0)
    got = restored.predict(token_inputs(task), verbose=0)
    for name in expected if isinstance(expected, dict) else [None]:
        np.testing.assert_array_equal(
            got if name is None else got[name],
            expected if name is None else expected[name],
        )
    assert (
        restored_preprocessor.get_config()["sequence_length"]
        == preprocessor.get_config()["sequence_length"]
        == 16
    )
    assert (
        restored_preprocessor.tokenizer.get_vocabulary()
        == preprocessor.tokenizer.get_vocabulary()
    )

    backbone = keras_bigs.BiGSBackbone.from_preset(path)
    for a, b in zip(task.backbone.weights, backbone.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    shutil.rmtree(path)


@pytest.mark.parametrize(
    "cls",
    [
        keras_bigs.BiGSClassifier,
        keras_bigs.BiGSQuestionAnswerer,
        keras_bigs.BiGSMultipleChoice,
    ],
)
def test_another_task_from_a_saved_preset_pads_to_the_trained_length(
    cls, tmp_path
):
    # A masked-LM preset (length 16) loaded as another task: its
    # preprocessor is new, and pads to the backbone's length, not 512.
    masked_lm().save_to_preset(str(tmp_path / "mlm"))
    kwargs = {"num_classes": 2} if cls is keras_bigs.BiGSClassifier else {}
    task = cls.from_preset(str(tmp_path / "mlm"), **kwargs)
    assert task.preprocessor.sequence_length == 16


def every_kind_of_preset(tmp_path, registered_name):
    """A registered name, an original checkpoint folder and a keras-hub
    preset folder, all of the same 3-way classifier."""
    original = str(fixture_dir("torch_classifier"))
    saved = str(tmp_path / "keras_hub_preset")
    keras_bigs.BiGSClassifier.from_preset(
        original, preprocessor=None
    ).save_to_preset(saved)
    return {
        "registered": registered_name,
        "original": original,
        "keras_hub": saved,
    }


@pytest.mark.parametrize("kind", ["registered", "original", "keras_hub"])
def test_config_overrides_pass_through_for_every_kind_of_preset(
    kind, tmp_path, cached_registered_name
):
    preset = every_kind_of_preset(tmp_path, cached_registered_name)[kind]
    backbone = keras_bigs.BiGSBackbone.from_preset(
        preset, conv_mode="fft", dropout=0.3
    )
    assert (backbone.conv_mode, backbone.dropout) == ("fft", 0.3)
    assert backbone.bigs_layers[0].fs4.conv_mode == "fft"
    # A task: its own arguments to the task, the backbone's to the backbone.
    classifier = keras_bigs.BiGSClassifier.from_preset(
        preset, preprocessor=None, conv_mode="toeplitz", dropout=0.4
    )
    assert classifier.backbone.conv_mode == "toeplitz"
    assert classifier.dropout == 0.4 and classifier.backbone.dropout == 0.1
    reference = keras_bigs.BiGSClassifier.from_preset(
        every_kind_of_preset(tmp_path / "again", cached_registered_name)[
            "original"
        ],
        preprocessor=None,
    )
    for a, b in zip(classifier.weights, reference.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize("kind", ["registered", "original", "keras_hub"])
@pytest.mark.parametrize(
    "cls",
    [
        keras_bigs.BiGSBackbone,
        keras_bigs.BiGSClassifier,
        keras_bigs.BiGSTextClassifierPreprocessor,
        keras_bigs.BiGSTokenizer,
    ],
)
def test_an_unknown_keyword_is_an_error_naming_it(
    cls, kind, tmp_path, cached_registered_name
):
    preset = every_kind_of_preset(tmp_path, cached_registered_name)[kind]
    with pytest.raises(
        TypeError,
        match="unexpected keyword argument 'foo_bar'. It accepts: .*dtype",
    ):
        cls.from_preset(preset, foo_bar=1)


CONSTRUCTORS = {
    "BiGSBackbone": lambda **kw: tiny_backbone(16, **kw),
    "BiGSClassifier": lambda **kw: keras_bigs.BiGSClassifier(
        tiny_backbone(16), num_classes=2, **kw
    ),
    "BiGSMaskedLM": lambda **kw: keras_bigs.BiGSMaskedLM(
        tiny_backbone(16), **kw
    ),
    "BiGSTokenClassifier": lambda **kw: keras_bigs.BiGSTokenClassifier(
        tiny_backbone(16), num_classes=2, **kw
    ),
    "BiGSTokenizer": lambda **kw: keras_bigs.BiGSTokenizer(**kw),
    "BiGSTextClassifierPreprocessor": lambda **kw: (
        keras_bigs.BiGSTextClassifierPreprocessor(
            keras_bigs.BiGSTokenizer(), sequence_length=16, **kw
        )
    ),
}


@pytest.mark.parametrize("name", CONSTRUCTORS)
def test_a_constructor_refuses_an_unknown_keyword_by_name(name):
    make = CONSTRUCTORS[name]
    with pytest.raises(
        TypeError,
        match=f"^{name}\\(\\) got unexpected keyword argument 'foo_bar'. "
        "It accepts: .*dtype",
    ):
        make(foo_bar=True)
    make(name="kept")  # the keywords of every Keras layer still pass


def test_a_misspelled_config_key_is_an_error_suggesting_the_key():
    config = tiny_backbone(16).get_config()
    config["num_layer"] = config.pop("num_layers")
    with pytest.raises(
        TypeError,
        match="'num_layer' \\(did you mean 'num_layers'\\?\\)",
    ):
        keras_bigs.BiGSBackbone.from_config(config)


def test_a_keras_hub_preset_keeps_its_head_unless_told_otherwise(tmp_path):
    saved = str(tmp_path / "classifier")
    original = keras_bigs.BiGSClassifier.from_preset(
        str(fixture_dir("torch_classifier")), preprocessor=None
    )
    original.save_to_preset(saved)
    # The same num_classes loads the saved head (keras-hub alone would
    # start a new one whenever num_classes is passed).
    same = keras_bigs.BiGSClassifier.from_preset(saved, num_classes=3)
    np.testing.assert_array_equal(
        np.asarray(same.output_dense.kernel),
        np.asarray(original.output_dense.kernel),
    )
    with pytest.raises(ValueError, match=r"num_classes=2 .*3 outputs"):
        keras_bigs.BiGSClassifier.from_preset(saved, num_classes=2)
    fresh = keras_bigs.BiGSClassifier.from_preset(
        saved, num_classes=2, reinitialize_head=True
    )
    assert fresh.output_dense.units == 2
    for a, b in zip(fresh.backbone.weights, original.backbone.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # A preset without a classifier head cannot give its size.
    masked_lm().save_to_preset(str(tmp_path / "mlm"))
    with pytest.raises(ValueError, match="no head .* pass `num_classes`"):
        keras_bigs.BiGSClassifier.from_preset(str(tmp_path / "mlm"))


def test_a_preset_of_another_architecture_is_refused(tmp_path):
    bert = keras_hub.models.BertBackbone(
        vocabulary_size=50,
        num_layers=1,
        num_heads=2,
        hidden_dim=8,
        intermediate_dim=16,
        max_sequence_length=16,
    )
    bert.save_to_preset(str(tmp_path / "bert"))
    with pytest.raises(
        ValueError, match="holds a BertBackbone, not a BiGSBackbone"
    ):
        keras_bigs.BiGSClassifier.from_preset(
            str(tmp_path / "bert"), num_classes=2
        )


def test_a_folder_without_config_is_refused(tmp_path):
    with pytest.raises(ValueError, match="has no config.json"):
        keras_bigs.BiGSBackbone.from_preset(str(tmp_path))


def test_an_architecture_without_a_class_is_an_error_naming_it():
    with pytest.raises(
        CheckpointError,
        match="no class for the architecture BiGSForCausalLM",
    ):
        task_class_name({"architectures": ["BiGSForCausalLM"]})
    config = json.loads(
        (fixture_dir("flax_token_classifier") / "config.json").read_text()
    )
    assert task_class_name(config) == "BiGSTokenClassifier"
    assert task_class_name({"architectures": ["FlaxBiGSForMaskedLM"]}) == (
        "BiGSMaskedLM"
    )
    assert task_class_name({}) == "BiGSMaskedLM"


def test_backbone_overrides_with_a_given_backbone_are_an_error():
    with pytest.raises(ValueError, match=r"\['conv_mode'\] have no effect"):
        keras_bigs.BiGSClassifier.from_preset(
            str(fixture_dir("torch_classifier")),
            backbone=tiny_backbone(16),
            conv_mode="fft",
        )


def custom_vocabulary_classifier(vocabulary_size=200):
    """A classifier whose tokenizer has its own vocabulary, with `[CLS]`
    and `[SEP]` at other ids than BERT's."""
    words = list(keras_bigs.models.bigs_tokenizer.SPECIAL_TOKENS) + [
        f"word{i}" for i in range(vocabulary_size - 5)
    ]
    return keras_bigs.BiGSClassifier(
        tiny_backbone(16, vocabulary_size=vocabulary_size),
        num_classes=2,
        preprocessor=keras_bigs.BiGSTextClassifierPreprocessor(
            keras_bigs.BiGSTokenizer(vocabulary=words), sequence_length=16
        ),
    )


@pytest.mark.parametrize("load", ["from_preset", "keras_hub", "keras_file"])
def test_a_custom_vocabulary_saves_and_loads(load, tmp_path):
    task = custom_vocabulary_classifier()
    texts = ["word1 word2 word3", "word190 word7"]
    if load == "keras_file":
        task.save(str(tmp_path / "task.keras"))
        restored = keras.saving.load_model(str(tmp_path / "task.keras"))
    else:
        task.save_to_preset(str(tmp_path / "preset"))
        cls = keras_bigs.BiGSClassifier
        if load == "keras_hub":
            cls = keras_hub.models.TextClassifier
        restored = cls.from_preset(str(tmp_path / "preset"))
    tokenizer = restored.preprocessor.tokenizer
    assert (
        tokenizer.get_vocabulary()
        == task.preprocessor.tokenizer.get_vocabulary()
    )
    np.testing.assert_array_equal(
        restored.preprocessor(texts)["token_ids"],
        task.preprocessor(texts)["token_ids"],
    )
    assert restored.preprocessor(texts)["token_ids"][0, 0] == 2  # [CLS]
    np.testing.assert_array_equal(
        restored.predict(texts, verbose=0), task.predict(texts, verbose=0)
    )


def test_a_saved_vocabulary_larger_than_the_model_is_refused(tmp_path):
    path = tmp_path / "preset"
    custom_vocabulary_classifier().save_to_preset(str(path))
    vocabulary_file = path / "assets" / "tokenizer" / "vocabulary.txt"
    extra = "".join(f"extra{i}\n" for i in range(10))
    vocabulary_file.write_text(vocabulary_file.read_text() + extra)
    with pytest.raises(
        ValueError,
        match="has 210 tokens, but the backbone embeds only "
        "vocabulary_size=200",
    ):
        keras_bigs.BiGSClassifier.from_preset(str(path))


@pytest.fixture
def saved_classifier(tmp_path):
    path = tmp_path / "preset"
    classifier().save_to_preset(str(path))
    return path


def test_a_misspelled_folder_is_named(tmp_path):
    with pytest.raises(
        ValueError, match=f"No preset folder {tmp_path}/mispelled: the path"
    ):
        keras_bigs.BiGSClassifier.from_preset(str(tmp_path / "mispelled"))


@pytest.mark.parametrize(
    "file,message",
    [
        ("config.json", "config.json is not valid JSON"),
        ("task.json", "task.json is not valid JSON"),
        ("model.weights.h5", "model.weights.h5 is not a readable HDF5 file"),
        ("task.weights.h5", "task.weights.h5 is not a readable HDF5 file"),
    ],
)
def test_a_truncated_preset_file_is_named(saved_classifier, file, message):
    path = saved_classifier / file
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(
        ValueError,
        match=f"Could not load preset {saved_classifier}: {message}; it is "
        "truncated or corrupt",
    ):
        keras_bigs.BiGSClassifier.from_preset(str(saved_classifier))


@pytest.mark.parametrize("kind", ["model", "task"])
def test_non_finite_weights_in_a_preset_are_refused(saved_classifier, kind):
    import h5py

    with h5py.File(saved_classifier / f"{kind}.weights.h5", "r+") as file:
        datasets = []
        file.visititems(
            lambda name, item: (
                datasets.append(name)
                if isinstance(item, h5py.Dataset) and name.startswith("layers/")
                else None
            )
        )
        file[datasets[-1]][...] = np.nan
    with pytest.raises(
        CheckpointError,
        match=f"{kind}.weights.h5 gives variable '.*' non-finite values",
    ):
        keras_bigs.BiGSClassifier.from_preset(str(saved_classifier))


def test_a_trained_task_saves_a_preset_without_optimizer_state(tmp_path):
    import h5py

    task = classifier()
    task.preprocessor = None
    task.compile(optimizer="adam")
    task.fit(token_inputs(task), np.array([1]), verbose=0)
    assert task.optimizer.variables
    task.save_to_preset(str(tmp_path / "preset"))
    with h5py.File(tmp_path / "preset" / "task.weights.h5", "r") as file:
        assert "optimizer" not in file
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        restored = keras_bigs.BiGSClassifier.from_preset(
            str(tmp_path / "preset")
        )
    assert not [w for w in caught if "optimizer" in str(w.message)]
    for a, b in zip(task.weights, restored.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_a_failed_save_leaves_the_previous_preset_whole(tmp_path, monkeypatch):
    import errno

    path = tmp_path / "preset"
    saved = classifier()
    saved.save_to_preset(str(path))
    files = sorted(os.listdir(path))
    newer = classifier()

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    # The backbone and config are written, then the disk is full.
    monkeypatch.setattr(newer.preprocessor, "save_to_preset", disk_full)
    with pytest.raises(
        OSError,
        match=f"Could not write {path} \\(No space left on device\\); what "
        "was there before is intact",
    ):
        newer.save_to_preset(str(path))
    assert sorted(os.listdir(tmp_path)) == ["preset"]  # no temporary left
    assert sorted(os.listdir(path)) == files
    restored = keras_bigs.BiGSClassifier.from_preset(str(path))
    for a, b in zip(saved.weights, restored.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
