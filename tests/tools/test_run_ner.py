import json
import random

import numpy as np
import pytest

import keras_bigs
from keras_bigs.data import read_conll
from keras_bigs.training import entity_scores
from tests.tools.test_convert_checkpoint import load_tool

PEOPLE = ["john", "mary", "peter", "anna"]
PLACES = [["paris"], ["london"], ["new", "york"], ["rome"]]
FILLER = ["we", "saw", "the", "city", "with", "and", "met", "in", "today"]


def write_conll(path, count, seed):
    """A tagging task a small model learns: names are B-PER, places B-LOC
    (and I-LOC), the rest O; four columns as in CoNLL-2003."""
    rng = random.Random(seed)
    lines = ["-DOCSTART- -X- -X- O", ""]
    for _ in range(count):
        tokens = []
        for _ in range(rng.randint(3, 8)):
            kind = rng.random()
            if kind < 0.2:
                tokens.append((rng.choice(PEOPLE), "B-PER"))
            elif kind < 0.4:
                place = rng.choice(PLACES)
                tokens += [
                    (word, ("B-LOC" if i == 0 else "I-LOC"))
                    for i, word in enumerate(place)
                ]
            else:
                tokens.append((rng.choice(FILLER), "O"))
        lines += [f"{word} NN O {tag}" for word, tag in tokens] + [""]
    path.write_text("\n".join(lines))
    return path


@pytest.mark.backends("jax", "tensorflow")
def test_run_ner_learns_entities_and_saves_the_best_model(tmp_path):
    train = write_conll(tmp_path / "train.txt", 160, seed=0)
    validation = write_conll(tmp_path / "valid.txt", 40, seed=1)
    output = tmp_path / "ner"
    status = load_tool("run_ner").main(
        [
            "--train",
            str(train),
            "--validation",
            str(validation),
            "--output-dir",
            str(output),
            "--sequence-length",
            "32",
            "--batch-size",
            "16",
            "--epochs",
            "4",
            "--learning-rate",
            "3e-3",
            "--verbose",
            "0",
        ]
    )
    assert status == 0
    results = json.loads((output / "eval_results.json").read_text())
    assert results["tags"] == ["O", "B-LOC", "B-PER", "I-LOC"]
    assert results["num_train_sentences"] == 160
    assert results["f1"] > 0.9, results
    tags = json.loads((output / "best_model" / "tags.json").read_text())
    tagger = keras_bigs.BiGSTokenClassifier.from_preset(
        str(output / "best_model")
    )
    sentences = read_conll(validation)
    predicted = [
        [tags[i] for i in row] for row in tagger.predict_words(sentences.words)
    ]
    expected = entity_scores(sentences.tags, predicted)
    assert results["f1"] == pytest.approx(expected["f1"])
    assert np.isclose(results["precision"], expected["precision"])
