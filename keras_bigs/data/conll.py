"""CoNLL-2003-format files: one token per line, columns separated by
whitespace, a blank line between sentences, `-DOCSTART-` lines between
documents."""

import dataclasses

import tensorflow as tf

from keras_bigs.data.training_input import training_dataset_fn

DOCSTART = "-DOCSTART-"
OUTSIDE = "O"


@dataclasses.dataclass(frozen=True)
class ConllSentences:
    """The sentences of a CoNLL file.

    Attributes:
        path: str. The file read.
        words: list of lists of str, one list per sentence.
        tags: list of lists of str, the chosen column, aligned with
            `words`.
    """

    path: str
    words: list
    tags: list

    def __len__(self):
        return len(self.words)


def read_conll(path, tag_column=-1):
    """Read a CoNLL-2003-format file.

    The first column is the word, `tag_column` the tag (CoNLL-2003: 1 part
    of speech, 2 chunk, 3 or -1 named entity). Every token line of a file
    has the same number of columns. A malformed line (too few columns, or
    another count than the file's first token line) is a `ValueError`
    naming the file and line.

    Args:
        path: str. The file.
        tag_column: int. The column holding the tag (negative counts from
            the end).

    Returns:
        A `ConllSentences`.

    Example:
    ```python
    import tempfile
    from keras_bigs.data import read_conll

    path = tempfile.mktemp(suffix=".txt")
    with open(path, "w") as f:
        f.write("-DOCSTART- -X- -X- O\\n\\nEU NNP B-NP B-ORG\\n"
                "rejects VBZ B-VP O\\n\\nPeter NNP B-NP B-PER\\n")
    sentences = read_conll(path)
    sentences.words  # [['EU', 'rejects'], ['Peter']]
    sentences.tags  # [['B-ORG', 'O'], ['B-PER']]
    ```
    """
    path = str(path)
    words, tags = [], []
    sentence_words, sentence_tags = [], []
    columns = None

    def end_sentence():
        if sentence_words:
            words.append(list(sentence_words))
            tags.append(list(sentence_tags))
        sentence_words.clear()
        sentence_tags.clear()

    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            fields = line.split()
            if not fields:
                end_sentence()
                continue
            if fields[0] == DOCSTART:
                end_sentence()
                continue
            if columns is None:
                columns = len(fields)
                if columns < 2 or not -columns <= tag_column < columns:
                    raise ValueError(
                        f"{path}, line {number}: {columns} column(s), so "
                        f"there is no tag column {tag_column} (the first "
                        f"column is the word): {line.rstrip()!r}"
                    )
            elif len(fields) != columns:
                raise ValueError(
                    f"{path}, line {number}: {len(fields)} column(s) where "
                    f"the file's token lines have {columns}: "
                    f"{line.rstrip()!r}"
                )
            sentence_words.append(fields[0])
            sentence_tags.append(fields[tag_column])
    end_sentence()
    return ConllSentences(path, words, tags)


def tag_vocabulary(*sentence_sets):
    """The tags of `ConllSentences`, `"O"` first, then sorted: a label id
    per tag.

    Example:
    ```python
    from keras_bigs.data.conll import ConllSentences
    from keras_bigs.data.conll import tag_vocabulary

    sentences = ConllSentences("f", [["a", "b"]], [["B-PER", "O"]])
    tag_vocabulary(sentences)  # ['O', 'B-PER']
    ```
    """
    tags = {
        tag
        for sentences in sentence_sets
        for row in sentences.tags
        for tag in row
    }
    return [OUTSIDE] * (OUTSIDE in tags) + sorted(tags - {OUTSIDE})


def conll_dataset(sentences, vocabulary):
    """Unbatched `(words, label_ids)` of `sentences`, for
    `BiGSTokenClassifier` (batch with `ragged_batch`).

    A tag missing from `vocabulary` is a `ValueError` naming it and the
    file.

    Args:
        sentences: a `ConllSentences`.
        vocabulary: list of tags; a tag's label id is its index.

    Returns:
        A `tf.data.Dataset` of `(words, label_ids)`: a string and an int32
        vector per sentence.
    """
    index = {tag: i for i, tag in enumerate(vocabulary)}
    unknown = sorted({t for row in sentences.tags for t in row} - set(index))
    if unknown:
        raise ValueError(
            f"{sentences.path} has tags {unknown} that the tag vocabulary "
            f"{list(vocabulary)} lacks."
        )
    words = tf.ragged.constant(sentences.words, dtype=tf.string)
    labels = tf.ragged.constant(
        [[index[t] for t in row] for row in sentences.tags], dtype=tf.int32
    )
    return tf.data.Dataset.from_tensor_slices((words, labels))


def conll_training_dataset_fn(
    sentences, vocabulary, preprocessor, batch_size, seed
):
    """The tagging training input, for
    `DistributionSetup.distribute_dataset`: endless, shuffled,
    preprocessed batches (per replica) of `sentences`.

    Args:
        sentences: the training `ConllSentences`.
        vocabulary: list of tags; a tag's label id is its index.
        preprocessor: a `BiGSTokenClassifierPreprocessor`, mapped over
            `(words, label_ids)` batches.
        batch_size: int. The global batch size.
        seed: int. Seeds the shuffle (a new order each pass).

    Returns:
        `dataset_fn(input_context)`.

    Example:
    ```python
    import keras_bigs
    import tensorflow as tf
    from keras_bigs.data import ConllSentences
    from keras_bigs.data.conll import conll_training_dataset_fn

    sentences = ConllSentences(
        "train.txt", [["John", "lives", "in", "Paris"]],
        [["B-PER", "O", "O", "B-LOC"]])
    preprocessor = keras_bigs.BiGSTokenClassifierPreprocessor(
        keras_bigs.BiGSTokenizer(), sequence_length=16)
    dataset_fn = conll_training_dataset_fn(
        sentences, ["O", "B-PER", "B-LOC"], preprocessor, batch_size=2,
        seed=0)
    x, labels, weights = next(iter(dataset_fn(tf.distribute.InputContext())))
    ```
    """
    examples = conll_dataset(sentences, vocabulary)

    def global_batches(size):
        return (
            examples.shuffle(len(sentences), seed=seed)
            .ragged_batch(size)
            .map(preprocessor, num_parallel_calls=tf.data.AUTOTUNE)
            .repeat()
        )

    return training_dataset_fn(global_batches, batch_size)
