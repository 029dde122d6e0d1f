"""Readers for the on-disk formats of the original BiGS checkpoints.

Each reader returns a flat `{name: numpy array}` dict with the original
names: `/`-joined Flax paths (`s4_bert/encoder/layer/0/dv/kernel`) or PyTorch
state-dict keys (`bigs.encoder.layer.0.dv.weight`). None of them imports
flax or torch.
"""

import collections
import io
import pickle
import zipfile

import ml_dtypes
import msgpack
import numpy as np
from safetensors.numpy import load_file


class CheckpointError(ValueError):
    """A checkpoint file is corrupt, truncated, or does not fit the model."""


# --- Flax: msgpack with numpy arrays as extension type 1 (flax.serialization)

_MSGPACK_NDARRAY = 1
_MSGPACK_NATIVE_COMPLEX = 2
_MSGPACK_NPSCALAR = 3


def _msgpack_dtype(name):
    if name == "bfloat16":
        return ml_dtypes.bfloat16
    return np.dtype(name)


def _msgpack_ndarray(data):
    shape, dtype_name, buffer = msgpack.unpackb(data, raw=True)
    dtype = _msgpack_dtype(dtype_name.decode())
    return np.frombuffer(buffer, dtype=dtype).reshape(shape)


def _msgpack_ext_hook(code, data):
    if code == _MSGPACK_NDARRAY:
        return _msgpack_ndarray(data)
    if code == _MSGPACK_NPSCALAR:
        return _msgpack_ndarray(data)[()]
    if code == _MSGPACK_NATIVE_COMPLEX:
        return complex(*msgpack.unpackb(data))
    return msgpack.ExtType(code, data)


def _unchunk(tree):
    """Flax splits arrays over 1 GiB into chunks; join them back."""
    if not isinstance(tree, dict):
        return tree
    if tree.get("__msgpack_chunked_array__"):
        chunks = [tree["chunks"][str(i)] for i in range(len(tree["chunks"]))]
        flat = np.concatenate([np.ravel(c) for c in chunks])
        return flat.reshape(tree["shape"])
    return {key: _unchunk(value) for key, value in tree.items()}


def _flatten(tree, prefix=""):
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}/")
        else:
            yield f"{prefix}{key}", np.asarray(value)


def read_flax_msgpack(path):
    """`flax_model.msgpack` (Flax `to_bytes` of the params tree)."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        tree = msgpack.unpackb(data, ext_hook=_msgpack_ext_hook, raw=False)
    except Exception as e:
        raise CheckpointError(
            f"Could not read {path}: the file is corrupt or truncated ({e})."
        ) from e
    if not isinstance(tree, dict):
        raise CheckpointError(f"{path} does not hold a Flax parameter tree.")
    return dict(_flatten(_unchunk(tree)))


# --- safetensors


def read_safetensors(path):
    """`model.safetensors` (read with `safetensors.numpy`, no torch)."""
    try:
        return dict(load_file(str(path)))
    except Exception as e:
        raise CheckpointError(
            f"Could not read {path}: the file is corrupt or truncated ({e})."
        ) from e


# --- PyTorch `.bin`: a zip holding a pickled state dict plus raw storages

_TORCH_STORAGE_DTYPES = {
    "DoubleStorage": np.float64,
    "FloatStorage": np.float32,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
    "BFloat16Storage": "bfloat16",
}


class _StorageType:
    def __init__(self, dtype):
        self.dtype = (
            _msgpack_dtype(dtype)
            if isinstance(dtype, str)
            else (np.dtype(dtype))
        )


def _rebuild_tensor(storage, offset, size, stride, *unused):
    itemsize = storage.dtype.itemsize
    return np.lib.stride_tricks.as_strided(
        storage[offset:],
        shape=tuple(size),
        strides=tuple(s * itemsize for s in stride),
    ).copy()


def _rebuild_parameter(tensor, *unused):
    return tensor


class _TorchUnpickler(pickle.Unpickler):
    """Unpickles a torch state dict into numpy arrays; refuses anything else
    (so a `.bin` file cannot run code while being read)."""

    def __init__(self, file, zip_file, prefix):
        super().__init__(file)
        self.zip_file = zip_file
        self.prefix = prefix

    def find_class(self, module, name):
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor
        if module == "torch._utils" and name == "_rebuild_parameter":
            return _rebuild_parameter
        if module == "torch" and name in _TORCH_STORAGE_DTYPES:
            return _StorageType(_TORCH_STORAGE_DTYPES[name])
        raise pickle.UnpicklingError(
            f"unsupported object {module}.{name} in a PyTorch state dict"
        )

    def persistent_load(self, pid):
        kind, storage_type, key, _location, numel = pid
        if kind != "storage":
            raise pickle.UnpicklingError(f"unsupported persistent id {pid}")
        raw = self.zip_file.read(f"{self.prefix}/data/{key}")
        return np.frombuffer(raw, dtype=storage_type.dtype, count=numel)


def read_torch_bin(path):
    """`pytorch_model.bin` (the zip format of `torch.save`, torch >= 1.6)."""
    try:
        with zipfile.ZipFile(path) as zip_file:
            pickles = [
                n for n in zip_file.namelist() if n.endswith("/data.pkl")
            ]
            if not pickles:
                raise CheckpointError(f"{path} holds no data.pkl.")
            prefix = pickles[0][: -len("/data.pkl")]
            data = zip_file.read(pickles[0])
            state = _TorchUnpickler(io.BytesIO(data), zip_file, prefix).load()
    except CheckpointError:
        raise
    except zipfile.BadZipFile as e:
        raise CheckpointError(
            f"Could not read {path}: not a zip archive, so either corrupt or "
            "truncated, or saved by torch < 1.6 in the legacy format (re-save "
            "it with a recent torch, or as model.safetensors)."
        ) from e
    except Exception as e:
        raise CheckpointError(
            f"Could not read {path}: the file is corrupt or truncated ({e})."
        ) from e
    return {key: np.asarray(value) for key, value in state.items()}


def non_finite_variable(weights):
    """The first `(name, array)` of `weights` (a `{name: array}` dict)
    holding NaN or infinity, or None."""
    for name, array in weights.items():
        array = np.asarray(array)
        if array.dtype.kind in "iub":
            continue
        if not np.all(np.isfinite(array.astype(np.float32))):
            return name, array
    return None


def finite_weights(weights, path):
    """`weights`, after checking that every value is finite: a corrupt
    file can still parse, and NaN weights give NaN outputs."""
    found = non_finite_variable(weights)
    if found is not None:
        name, array = found
        count = int(np.sum(~np.isfinite(array.astype(np.float32))))
        raise CheckpointError(
            f"{path}: variable {name!r} holds {count} non-finite "
            f"value{'s' if count > 1 else ''} (NaN or infinity) of "
            f"{array.size}; the file is corrupt."
        )
    return weights


def read_weights(path, reader):
    """`reader(path)`, every value checked finite."""
    return finite_weights(reader(path), path)


# File name in the published layout -> (reader, origin).
WEIGHT_FILES = {
    "flax_model.msgpack": (read_flax_msgpack, "flax"),
    "model.safetensors": (read_safetensors, "torch"),
    "pytorch_model.bin": (read_torch_bin, "torch"),
}
