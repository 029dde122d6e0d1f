import pytest
import tensorflow as tf

from keras_bigs.data import text_corpus_dataset
from keras_bigs.data import tfds_text_dataset
from tests.data.conftest import strings
from tests.data.conftest import write_text


def test_one_document_per_line_in_sorted_file_order(tmp_path):
    write_text(tmp_path / "b.txt", "third doc\n\n   \nfourth doc  \n")
    write_text(tmp_path / "a.txt", "first doc\r\n  second doc\r\n")
    documents = text_corpus_dataset(str(tmp_path / "*.txt"))
    assert documents.element_spec == tf.TensorSpec([], tf.string)
    assert strings(documents) == [
        "first doc",
        "second doc",
        "third doc",
        "fourth doc",
    ]
    explicit = text_corpus_dataset([tmp_path / "b.txt", tmp_path / "a.txt"])
    assert strings(explicit) == [
        "third doc",
        "fourth doc",
        "first doc",
        "second doc",
    ]


def test_blank_line_documents_join_paragraph_lines(tmp_path):
    write_text(
        tmp_path / "1.txt",
        "\n\nTitle one\nLine two of doc one.\n\n\n  \n"
        "Doc two, one line.\n\nDoc three\nends the file",
    )
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
    with pytest.raises(
        ValueError,
        match=r"'line' or 'blank_line', not "
        r"'paragraph'",
    ):
        text_corpus_dataset(tmp_path / "good.txt", "paragraph")


def test_tfds_text_dataset_reads_the_text_feature(monkeypatch):
    tfds = pytest.importorskip("tensorflow_datasets")
    calls = []

    def load(name, split, data_dir=None, shuffle_files=False):
        calls.append((name, split, data_dir))
        return tf.data.Dataset.from_tensor_slices(
            {"title": ["T1", "T2"], "text": ["Body one.", "Body two."]}
        )

    monkeypatch.setattr(tfds, "load", load)
    documents = tfds_text_dataset(
        "wikipedia/20230601.en", "train[:2]", data_dir="/tfds"
    )
    assert calls == [("wikipedia/20230601.en", "train[:2]", "/tfds")]
    assert strings(documents) == ["Body one.", "Body two."]
    with pytest.raises(
        ValueError,
        match=r"no feature 'content'; its "
        r"features are \['text', 'title'\]",
    ):
        tfds_text_dataset("wikipedia/20230601.en", text_key="content")
