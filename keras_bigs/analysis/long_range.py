"""Accuracy by evidence distance on the generated long-range task
(`keras_bigs.data.long_range`): whether a classifier reads evidence far
from the query."""

import collections

import numpy as np

from keras_bigs.data.scrolls import split_contract_nli


def accuracy_by_distance(classifier, records, batch_size=8):
    """The classifier's accuracy on `records`, grouped by where their
    evidence is.

    Args:
        classifier: a `BiGSClassifier` with its preprocessor, trained on the
            task (labels in ContractNLI's order).
        records: dicts from `long_range_records` (`input`, `output`,
            `distance_words`).
        batch_size: int, for `predict`.

    Returns:
        `{distance_words: {"accuracy": float, "count": int}}`, by
        increasing distance.
    """
    queries, documents, labels = [], [], []
    for record in records:
        query, document, _, label = split_contract_nli(
            record["input"], record["output"]
        )
        queries.append(query)
        documents.append(document)
        labels.append(label)
    logits = classifier.predict(
        (queries, documents), batch_size=batch_size, verbose=0
    )
    correct = np.argmax(logits, axis=-1) == np.asarray(labels)
    by_distance = collections.defaultdict(list)
    for record, right in zip(records, correct):
        by_distance[record["distance_words"]].append(bool(right))
    return {
        distance: {"accuracy": float(np.mean(hits)), "count": len(hits)}
        for distance, hits in sorted(by_distance.items())
    }


__all__ = ["accuracy_by_distance"]
