import numpy as np
import pytest

from keras_bigs.data import conll_dataset
from keras_bigs.data import read_conll
from keras_bigs.data import tag_vocabulary

CONLL = """-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC
call NN I-NP O
. . O O

Peter NNP B-NP B-PER
Blackburn NNP I-NP I-PER

-DOCSTART- -X- -X- O
BRUSSELS NNP B-NP B-LOC
"""


def write(tmp_path, text, name="train.txt"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_sentences_documents_and_tag_columns(tmp_path):
    path = write(tmp_path, CONLL)
    sentences = read_conll(path)
    assert sentences.words == [
        ["EU", "rejects", "German", "call", "."],
        ["Peter", "Blackburn"],
        ["BRUSSELS"],
    ]
    assert sentences.tags[1] == ["B-PER", "I-PER"]
    assert len(sentences) == 3
    assert read_conll(path, tag_column=1).tags[0] == [
        "NNP",
        "VBZ",
        "JJ",
        "NN",
        ".",
    ]
    assert read_conll(path, tag_column=2).tags[1] == ["B-NP", "I-NP"]


@pytest.mark.parametrize(
    "text,line,message",
    [
        ("EU NNP B-ORG\nrejects O\n", 2, "2 column(s) where the file's token"),
        ("EU\n", 1, "no tag column"),
    ],
)
def test_malformed_lines_name_file_and_line(tmp_path, text, line, message):
    path = write(tmp_path, text)
    with pytest.raises(ValueError, match=rf"train.txt, line {line}: .*"):
        read_conll(path)
    with pytest.raises(
        ValueError, match=message.replace("(", r"\(").replace(")", r"\)")
    ):
        read_conll(path)


def test_tag_vocabulary_and_dataset(tmp_path):
    sentences = read_conll(write(tmp_path, CONLL))
    vocabulary = tag_vocabulary(sentences)
    assert vocabulary == ["O", "B-LOC", "B-MISC", "B-ORG", "B-PER", "I-PER"]
    rows = list(conll_dataset(sentences, vocabulary).as_numpy_iterator())
    words, labels = rows[1]
    assert words.tolist() == [b"Peter", b"Blackburn"]
    np.testing.assert_array_equal(labels, [4, 5])
    with pytest.raises(ValueError, match=r"tags \['B-LOC'.*lacks"):
        conll_dataset(sentences, ["O", "B-ORG", "B-MISC", "B-PER", "I-PER"])
