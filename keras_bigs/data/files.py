"""Input file lists: paths and glob patterns expanded the same on every
host."""

import tensorflow as tf


def expand_paths(paths):
    """File paths from paths, glob patterns or a list of them.

    Each pattern's matches are sorted, so that every host lists the same
    files in the same order, which sharding needs. An existing path is
    taken as it is, as file names may contain glob characters (`[`, `*`).
    Duplicates are dropped, keeping the first.

    Args:
        paths: a path (str, bytes or path-like), a glob pattern, or a list
            of them; `gs://` and other `tf.io.gfile` paths work too.

    Returns:
        A list of str.

    Example:
    ```python
    from keras_bigs.data.files import expand_paths

    expand_paths("../shared/glue/*/dev.tsv")[0]
    # "../shared/glue/CoLA/dev.tsv"
    ```
    """
    if isinstance(paths, (str, bytes)) or hasattr(paths, "__fspath__"):
        paths = [paths]
    files = []
    for pattern in paths:
        pattern = str(pattern)
        matches = (
            [pattern]
            if tf.io.gfile.exists(pattern)
            else tf.io.gfile.glob(pattern)
        )
        if not matches:
            raise FileNotFoundError(f"No file matches {pattern!r}.")
        files.extend(sorted(matches))
    if not files:
        raise ValueError("No input files given.")
    return list(dict.fromkeys(files))
