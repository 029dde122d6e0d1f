"""Long documents through `predict` and through a served SavedModel:
seconds and memory per document by length (what
`tools/benchmark_long_inputs.py` runs)."""

import pathlib

import tensorflow as tf

from keras_bigs.performance.padding import bigs_classifier
from keras_bigs.serving.signatures import DEFAULT_SIGNATURE


def prose_documents(text_path, lengths, tokenizer):
    """One document of real prose per length: the longest run of the text
    file's first words that `tokenizer` turns into at most `length - 2`
    tokens, so that with `[CLS]` and `[SEP]` it fills a bucket of
    `length` without being cut.

    Example:
    ```python
    import pathlib
    import tempfile
    import keras_bigs
    from keras_bigs.performance.long_inputs import prose_documents

    path = pathlib.Path(tempfile.mkdtemp()) / "prose.txt"
    path.write_text("The cat sat.\\nOn the mat it stayed.\\n")
    documents = prose_documents(path, [5, 8], keras_bigs.BiGSTokenizer())
    documents[5]  # 'The cat'
    documents[8]  # 'The cat sat. On the'
    ```
    """
    words = pathlib.Path(text_path).read_text(encoding="utf-8").split()

    def token_count(count):
        return len(tokenizer(" ".join(words[:count])))

    documents = {}
    for length in lengths:
        budget = length - 2
        # Every word is at least one token: more words than the budget
        # fill it, and the answer is below `budget` words.
        if len(words) <= budget:
            raise ValueError(
                f"{text_path} has {len(words):,} words; a {length:,}-token "
                f"document needs more than {budget:,}."
            )
        low, high = 0, budget
        while low < high:
            middle = (low + high + 1) // 2
            if token_count(middle) <= budget:
                low = middle
            else:
                high = middle - 1
        documents[length] = " ".join(words[:low])
    return documents


def long_document_classifier(
    lengths, hidden_dim=256, num_layers=4, state_dim=64, seed=0
):
    """A padding-invariant BiGS classifier whose preprocessor pads each
    batch to the smallest of `lengths` that holds it, up to the longest
    (`padding.bigs_classifier`)."""
    return bigs_classifier(
        max(lengths),
        hidden_dim,
        num_layers,
        state_dim,
        buckets=sorted(lengths),
        padding_invariant=True,
        seed=seed,
    )


def predict_logits(classifier):
    """`document -> logits` through `classifier.predict` (strings in)."""
    return lambda document: classifier.predict([document], verbose=0)


def served_logits(path):
    """`document -> logits` through the SavedModel at `path` (its
    `serving_default` signature, strings in)."""
    signature = tf.saved_model.load(str(path)).signatures[DEFAULT_SIGNATURE]
    return lambda document: signature(text=tf.constant([document]))[
        "logits"
    ].numpy()


__all__ = [
    "long_document_classifier",
    "predict_logits",
    "prose_documents",
    "served_logits",
]
