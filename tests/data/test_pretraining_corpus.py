import math

import numpy as np
import pytest
import tensorflow as tf

from keras_bigs.data.pretraining_corpus import CorpusSource
from keras_bigs.data.pretraining_corpus import corpus_source
from keras_bigs.data.pretraining_corpus import glue_sentences
from tests.conftest import shared_dir
from tests.data.conftest import SEQUENCE_LENGTH
from tests.data.conftest import write_text


def test_glue_sentences_are_every_text_of_the_training_files(tmp_path):
    train = (shared_dir() / "glue" / "WNLI" / "train.tsv").read_text()
    (tmp_path / "WNLI").mkdir()
    write_text(tmp_path / "WNLI" / "train.tsv", train)
    rows = [line.split("\t") for line in train.splitlines()[1:]]
    sentences = glue_sentences(str(tmp_path))
    # WNLI has two sentences a row.
    assert sentences == [r[1] for r in rows] + [r[2] for r in rows]
    with pytest.raises(FileNotFoundError, match="No GLUE train.tsv"):
        glue_sentences(str(tmp_path / "WNLI"))


@pytest.fixture
def corpus_file(tmp_path):
    return write_text(
        tmp_path / "corpus.txt",
        "\n".join(f"document {i} tells of city {i}" for i in range(40)),
    )


def test_held_out_documents_are_never_trained_on(corpus_file, tokenizer):
    corpus = corpus_source(
        tokenizer,
        SEQUENCE_LENGTH,
        text_files=[str(corpus_file)],
        heldout_every=4,
    )

    def numbers(examples):
        words = [tokenizer.detokenize(x["token_ids"]) for x in examples]
        return {
            int(word)
            for text in words
            for word in text.split()
            if word.isdigit()
        }

    held_out = numbers(corpus.heldout())
    trained = numbers(corpus.examples())
    assert held_out == set(range(0, 40, 4))
    assert trained == set(range(40)) - held_out

    # Held-out batches: masked once, the same at every evaluation.
    batches = corpus.evaluation_dataset(batch_size=2, seed=0, heldout=True)
    again = corpus.evaluation_dataset(batch_size=2, seed=0, heldout=True)
    held_out_examples = len(list(corpus.heldout()))
    assert int(batches.cardinality()) == math.ceil(held_out_examples / 2)
    for (x, y, w), (x2, y2, w2) in zip(batches, again):
        np.testing.assert_array_equal(x["token_ids"], x2["token_ids"])
        np.testing.assert_array_equal(y, y2)


def test_a_corpus_with_nothing_to_train_on_says_so(tmp_path, tokenizer):
    # One document: held out (document 0 of every 4), none left to train.
    path = write_text(tmp_path / "one.txt", "a single document")
    corpus = corpus_source(
        tokenizer, SEQUENCE_LENGTH, text_files=[str(path)], heldout_every=4
    )
    assert len(list(corpus.evaluation_dataset(2, seed=0, heldout=True))) == 1
    with pytest.raises(ValueError, match="gave no examples to evaluate on"):
        corpus.evaluation_dataset(batch_size=2, seed=0)


def premasked_source():
    """Pre-masked examples numbered 0..49, as HDF5 shards give them."""

    def examples():
        numbers = tf.data.Dataset.range(50)
        return numbers.map(lambda n: ({"token_ids": n}, n, 1.0))

    return CorpusSource(examples, premasked=True, tokenizer=None)


def test_a_resumed_run_reads_on_where_it_stopped():
    corpus = premasked_source()
    context = tf.distribute.InputContext()

    def first_batches(skip, count):
        dataset = corpus.training_dataset_fn(4, seed=3, skip_batches=skip)
        return [y.numpy().tolist() for _, y, _ in dataset(context).take(count)]

    assert first_batches(skip=2, count=3) == first_batches(skip=0, count=5)[2:]


def test_processes_together_take_the_global_batches_of_one():
    corpus = premasked_source()

    def batches(context, count=3):
        dataset = corpus.training_dataset_fn(4, seed=3, skip_batches=1)
        return list(dataset(context).take(count).as_numpy_iterator())

    one = batches(tf.distribute.InputContext())
    # Two processes (JAX: one replica each), then two workers of two
    # replicas each (TensorFlow multi-worker: per-replica batches of 1).
    for processes, replicas in ((2, 2), (2, 4)):
        shares = [
            batches(
                tf.distribute.InputContext(processes, p, replicas),
                count=3 * replicas // processes,
            )
            for p in range(processes)
        ]
        per_step = replicas // processes
        for step, (x, y, weights) in enumerate(one):
            parts = [
                part
                for share in shares
                for part in share[step * per_step : (step + 1) * per_step]
            ]
            assert all(len(part[1]) == 4 // replicas for part in parts)
            for key in x:
                np.testing.assert_array_equal(
                    np.concatenate([part[0][key] for part in parts]), x[key]
                )
            np.testing.assert_array_equal(
                np.concatenate([part[1] for part in parts]), y
            )
            np.testing.assert_array_equal(
                np.concatenate([part[2] for part in parts]), weights
            )
