"""Documents (strings) for pretraining: plain text files or a TFDS text
corpus."""

import tensorflow as tf

from keras_bigs.data.files import expand_paths


def _check_has_text(path):
    """An error for a file with no text, read only up to its first
    non-space character (so cheap for real corpora)."""
    with tf.io.gfile.GFile(path, "rb") as file:
        while True:
            chunk = file.read(1 << 16)
            if not chunk:
                raise ValueError(
                    f"{path} is empty: a corpus file must contain at least "
                    "one document."
                )
            if chunk.strip():
                return


def text_corpus_dataset(paths, document_separator="line"):
    """Documents (strings) from plain UTF-8 text files.

    Files are read in sorted order, each line stripped of surrounding
    whitespace.

    Args:
        paths: a file, a glob pattern (`"corpus/*.txt"`) or a list of them;
            `gs://` and other `tf.io.gfile` paths work too.
        document_separator: `"line"`: every non-blank line is a document.
            `"blank_line"`: documents are paragraphs separated by blank
            lines, and the lines of one paragraph are joined with a space
            (a paragraph never spans two files).

    Returns:
        A `tf.data.Dataset` of scalar strings.

    Example:
    ```python
    from keras_bigs.data import text_corpus_dataset

    # A paragraph per line; "blank_line" for paragraphs between blank lines.
    documents = text_corpus_dataset("../shared/corpus/*.txt")
    next(iter(documents)).dtype.name  # "string"
    ```
    """
    if document_separator not in ("line", "blank_line"):
        raise ValueError(
            f"document_separator must be 'line' or 'blank_line', not "
            f"{document_separator!r}."
        )
    files = expand_paths(paths)
    for path in files:
        _check_has_text(path)
    files = tf.data.Dataset.from_tensor_slices(files)
    if document_separator == "line":
        lines = files.flat_map(tf.data.TextLineDataset)
        return lines.map(tf.strings.strip).filter(
            lambda line: tf.strings.length(line) > 0
        )

    # A blank line after each file ends its last paragraph there.
    lines = files.flat_map(
        lambda path: tf.data.TextLineDataset(path).concatenate(
            tf.data.Dataset.from_tensors(tf.constant(""))
        )
    )

    def add_line(paragraph, line):
        line = tf.strings.strip(line)
        is_blank = tf.equal(line, "")
        finished = tf.logical_and(is_blank, tf.not_equal(paragraph, ""))
        grown = tf.strings.strip(
            tf.strings.join([paragraph, line], separator=" ")
        )
        return tf.where(is_blank, "", grown), (finished, paragraph)

    return (
        lines.scan(tf.constant(""), add_line)
        .filter(lambda finished, paragraph: finished)
        .map(lambda finished, paragraph: paragraph)
    )


def tfds_text_dataset(name, split="train", text_key="text", data_dir=None):
    """Documents (strings) from a TensorFlow Datasets text corpus.

    Args:
        name: str. The TFDS name (`"wikipedia/20230601.en"`, `"c4/en"`).
        split: str. A TFDS split or slice.
        text_key: str. The feature holding the text.
        data_dir: str. TFDS's `data_dir`.

    Returns:
        A `tf.data.Dataset` of scalar strings.

    Example:
    ```python
    from keras_bigs.data import tfds_text_dataset

    documents = tfds_text_dataset("wikipedia/20230601.en")
    ```
    """
    # Imported here: TFDS is slow to import, and only TFDS corpora need
    # it.
    import tensorflow_datasets as tfds

    dataset = tfds.load(
        name, split=split, data_dir=data_dir, shuffle_files=False
    )
    spec = dataset.element_spec
    if not isinstance(spec, dict) or text_key not in spec:
        keys = sorted(spec) if isinstance(spec, dict) else spec
        raise ValueError(
            f"TFDS {name} ({split}) has no feature {text_key!r}; its "
            f"features are {keys}. Pass text_key=."
        )
    return dataset.map(
        lambda features: features[text_key], num_parallel_calls=tf.data.AUTOTUNE
    )
