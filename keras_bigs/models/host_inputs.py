"""What users feed the backbone and the tasks: checked before any of it
reaches a compiled function, and raw text shuffled anew each epoch.

Out-of-range ids are silent on JAX: an embedding lookup past the table
gives NaN, a negative id a wrong row, and sparse cross-entropy trains on
a label past the head without complaint. And an error raised while JAX
traces leaves Keras' compiled function half-built, so every later call of
the model fails. So host inputs (NumPy arrays and lists) are checked here,
eagerly, on every backend; a `tf.data.Dataset` gets the same checks as
assertions in its pipeline, naming the batch.

keras-hub turns raw text for `fit` into a `tf.data.Dataset` once, in
order, and Keras then ignores `shuffle=True`: every epoch would see the
same batches. `fit` here builds that dataset itself, reshuffled each
epoch, seeded by `keras.utils.set_random_seed`.
"""

import keras
import numpy as np
import tensorflow as tf

# Token inputs: the exclusive upper bound of their values, from the
# backbone (`None`: the row length), and what that bound is.
TOKEN_INPUT_LIMITS = {
    "token_ids": (
        lambda backbone: backbone.vocabulary_size,
        "the backbone's vocabulary_size",
    ),
    "segment_ids": (
        lambda backbone: backbone.num_segments,
        "the backbone's num_segments",
    ),
    "padding_mask": (lambda backbone: 2, "a mask is 0 or 1"),
    "mask_positions": (lambda backbone: None, "positions in a row"),
}


def is_host_value(value):
    """NumPy arrays, Python numbers and (nested) lists of them."""
    return isinstance(value, (np.ndarray, np.generic, int, list, tuple))


def holds_strings(value):
    """Whether `value` is text: a str/bytes, or arrays/lists of them."""
    if isinstance(value, (str, bytes)):
        return True
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "USO" and value.size > 0
    if isinstance(value, (list, tuple)):
        return any(holds_strings(item) for item in value)
    if isinstance(value, dict):
        return any(holds_strings(item) for item in value.values())
    return False


def integer_array(value, name):
    """`value` as an integer NumPy array; whole floats pass, the rest is a
    TypeError naming `name`."""
    array = np.asarray(value)
    if array.dtype.kind in "iub":
        return array
    if array.dtype.kind == "f" and np.all(np.isfinite(array)):
        if np.all(array == np.round(array)):
            return array.astype(np.int64)
    raise TypeError(
        f"`{name}` must hold integers, but has dtype {array.dtype}"
        + (f" (e.g. {array.flat[0]!r})" if array.size else "")
        + "."
    )


def check_range(array, name, high, why=""):
    """Raise a ValueError naming `name`, the first value outside
    `[0, high)` and its index."""
    outside = (array < 0) | (array >= high)
    if np.any(outside):
        index = tuple(int(i) for i in np.argwhere(outside)[0])
        raise ValueError(
            f"`{name}` holds {array[index]} at index {index}, outside "
            f"[0, {high}){why}."
        )


def check_token_inputs(inputs, backbone, owner):
    """Check a dict of host token inputs against `backbone`: integer
    values within each input's range, one shape for the token inputs,
    rows no longer than the position table."""
    if not isinstance(inputs, dict):
        raise ValueError(
            f"{owner} takes a dict of token inputs "
            f"({', '.join(backbone.input.keys())}), not "
            f"{type(inputs).__name__}."
        )
    if "token_ids" not in inputs:
        raise ValueError(
            f"{owner} needs `token_ids` among its inputs; got {sorted(inputs)}."
        )
    arrays = {}
    for name, value in inputs.items():
        if name in TOKEN_INPUT_LIMITS and is_host_value(value):
            arrays[name] = integer_array(value, name)
    shape = np.shape(inputs["token_ids"])
    for name in ("segment_ids", "padding_mask"):
        if name in inputs and np.shape(inputs[name]) != shape:
            raise ValueError(
                f"`{name}` has shape {np.shape(inputs[name])}, but "
                f"`token_ids` has shape {shape}: they must match."
            )
    length = shape[-1] if shape else 0
    limit = backbone.max_sequence_length
    if length > limit:
        raise ValueError(
            f"Input sequence length {length} is longer than the model's "
            f"max_sequence_length {limit}. Truncate the input, or extend "
            "the position embeddings (`extend_sequence_length`)."
        )
    for name, array in arrays.items():
        limit, meaning = TOKEN_INPUT_LIMITS[name]
        high = limit(backbone)
        check_range(
            array, name, length if high is None else high, f" ({meaning})"
        )


def check_labels(y, limit, owner):
    """Integer host labels must be class ids in `[0, limit)`."""
    if y is None or limit is None or not is_host_value(y):
        return
    labels = np.asarray(y)
    if labels.dtype.kind not in "iu":
        return  # one-hot or soft targets, or regression values
    check_range(labels, "y", limit, f" (the class ids of {owner})")


def checked_dataset(dataset, backbone, label_limit, owner, token_inputs):
    """`dataset` with assertions of the token inputs (when it yields
    them) and the integer labels, failing with the batch's index."""

    def check(index, element):
        x, y = element[0], (element[1] if len(element) > 1 else None)
        assertions = []

        def within(tensor, high, name):
            tensor = tf.cast(tensor, tf.int64)
            ok = tf.reduce_all(
                (tensor >= 0) & (tensor < tf.cast(high, tf.int64))
            )
            assertions.append(
                tf.debugging.Assert(
                    ok,
                    [
                        f"{owner}: `{name}` outside [0, high) in batch",
                        index,
                        "high",
                        high,
                        "min",
                        tf.reduce_min(tensor),
                        "max",
                        tf.reduce_max(tensor),
                    ],
                )
            )

        if token_inputs and isinstance(x, dict):
            for name, value in x.items():
                if name in TOKEN_INPUT_LIMITS and value.dtype.is_integer:
                    high = TOKEN_INPUT_LIMITS[name][0](backbone)
                    if high is None:
                        high = tf.shape(x["token_ids"])[-1]
                    within(value, high, name)
        if (
            y is not None
            and label_limit is not None
            and isinstance(y, tf.Tensor)
            and y.dtype.is_integer
        ):
            within(y, label_limit, "y")
        with tf.control_dependencies(assertions):
            return tf.nest.map_structure(tf.identity, element)

    tuple_elements = isinstance(dataset.element_spec, tuple)
    as_tuple = dataset.map(lambda *element: element)
    checked = as_tuple.enumerate().map(check)
    return checked if tuple_elements else checked.map(lambda x: x)


def shuffled_text_dataset(x, y, sample_weight, batch_size):
    """Raw text (and labels) as batches reshuffled each epoch; the seed
    comes from NumPy's generator, which `keras.utils.set_random_seed`
    seeds."""
    data = keras.utils.pack_x_y_sample_weight(x, y, sample_weight)
    dataset = tf.data.Dataset.from_tensor_slices(data)
    size = int(dataset.cardinality())
    seed = int(np.random.randint(2**31 - 1))
    return dataset.shuffle(
        size, seed=seed, reshuffle_each_iteration=True
    ).batch(batch_size or 32)


class HostInputs:
    """Mixin of the backbone and tasks: `fit`, `evaluate`, `predict` and
    calls check their host inputs (`check_token_inputs`, `check_labels`)
    and wrap a `tf.data.Dataset` in the same checks, before Keras compiles
    or runs anything; `fit` on raw text reshuffles it each epoch. Put it
    before the Keras base class."""

    def label_limit(self, x):
        """The number of classes integer labels index, or None when the
        labels are not class ids. Tasks override it."""
        return None

    def check_inputs(self, x, y=None):
        """Check `x` (and labels `y`) as fed to this model; returns them,
        a dataset wrapped in the checks."""
        owner = type(self).__name__
        backbone = getattr(self, "backbone", self)
        preprocessor = getattr(self, "preprocessor", None)
        if isinstance(x, tf.data.Dataset):
            limit = self.label_limit(None)
            return checked_dataset(
                x, backbone, limit, owner, preprocessor is None
            ), y
        if isinstance(x, (list, tuple, np.ndarray)) and len(x) == 0:
            raise ValueError(f"{owner} got an empty input: no examples.")
        if preprocessor is None and holds_strings(x):
            raise ValueError(
                f"This {owner} has no preprocessor (preprocessor=None), so "
                "it takes token inputs (a dict of token_ids, segment_ids, "
                "padding_mask), not text. Load it with a preprocessor, or "
                "tokenize the text first."
            )
        if preprocessor is None and x is not None:
            check_token_inputs(x, backbone, owner)
        check_labels(y, self.label_limit(x), owner)
        return x, y

    def __call__(self, *args, **kwargs):
        # A call never preprocesses: host inputs are token inputs.
        if args and _all_host(args[0]):
            owner = type(self).__name__
            check_token_inputs(args[0], getattr(self, "backbone", self), owner)
        return super().__call__(*args, **kwargs)

    def fit(self, x=None, y=None, batch_size=None, *args, **kwargs):
        x, y = self.check_inputs(x, y)
        if (
            not args
            and kwargs.get("shuffle", True)
            and not kwargs.get("validation_split")
            and getattr(self, "preprocessor", None) is not None
            and holds_strings(x)
        ):
            x = shuffled_text_dataset(
                x, y, kwargs.pop("sample_weight", None), batch_size
            )
            y = batch_size = None
            kwargs["shuffle"] = False  # done, and each epoch anew
        return super().fit(x, y, batch_size, *args, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        x, y = self.check_inputs(x, y)
        return super().evaluate(x, y, *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        x, _ = self.check_inputs(x)
        return super().predict(x, *args, **kwargs)


def _all_host(value):
    """A dict of host values (what a user passes to a call), not the
    symbolic or device tensors Keras passes inside a model."""
    return isinstance(value, dict) and all(
        is_host_value(item) for item in value.values()
    )
