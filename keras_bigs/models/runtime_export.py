"""`task.export(path, format="onnx" | "litert" | "openvino")` for BiGS."""

import contextlib
import os
import subprocess
import sys
import tempfile

import keras

from keras_bigs.keras_hub_internals import flatten_layers
from keras_bigs.layers.s4d import S4DConv

RUNTIME_FORMATS = ("onnx", "litert", "openvino")

# Run by a TensorFlow-backend Python: load a saved task, export it.
_EXPORT_IN_TENSORFLOW = """
import sys
import keras
import keras_bigs  # registers the classes the file names
task = keras.saving.load_model(sys.argv[1])
task.export(sys.argv[2], format=sys.argv[3])
"""


@contextlib.contextmanager
def toeplitz_convolutions(model):
    """Every `S4DConv` of `model` convolves by its Toeplitz matrix (no FFT)
    inside the block; their modes are restored after it."""
    layers = [x for x in flatten_layers(model) if isinstance(x, S4DConv)]
    modes = [layer.conv_mode for layer in layers]
    for layer in layers:
        layer.conv_mode = "toeplitz"
    try:
        yield
    finally:
        for layer, mode in zip(layers, modes):
            layer.conv_mode = mode


def keep_model_outputs(path, count):
    """Rewrite the OpenVINO model at `path` with only its first `count`
    results: the model's outputs. OpenVINO's converter of a TensorFlow
    function also returns tensors the function's gradient code reads (the
    custom-gradient GELUs' inputs, the SSM parameters' slices)."""
    import openvino

    model = openvino.Core().read_model(path)
    results = model.get_results()
    if len(results) > count:
        model = openvino.Model(results[:count], model.get_parameters())
        # Written beside, then moved over: the model read maps the old
        # weights file, which must not be overwritten in place.
        stem, weights = os.path.splitext(path)[0], ".bin"
        openvino.serialize(model, stem + ".new.xml", stem + ".new" + weights)
        os.replace(stem + ".new" + weights, stem + weights)
        os.replace(stem + ".new.xml", path)


def export_from_tensorflow(model, filepath, format, verbose=None):
    """Export `model` to a runtime format from a Python process running
    Keras on TensorFlow: the model is saved to a temporary `.keras` file,
    which that process loads and exports. Keras' JAX (jax2onnx) and
    PyTorch (TorchScript) converters fail on BiGS, and the exported file
    does not depend on the backend the model was built on.

    Raises:
        RuntimeError: with the end of the process' error output, when the
            export there fails.
    """
    with tempfile.TemporaryDirectory() as folder:
        saved = os.path.join(folder, "model.keras")
        model.save(saved)
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                _EXPORT_IN_TENSORFLOW,
                saved,
                os.path.abspath(filepath),
                format,
            ],
            env=dict(os.environ, KERAS_BACKEND="tensorflow"),
            capture_output=True,
            text=True,
        )
    if result.returncode != 0:
        raise RuntimeError(
            f"Exporting {type(model).__name__} to {format!r} in a "
            f"TensorFlow-backend process failed:\n{result.stderr[-3000:]}"
        )
    if verbose is not False:
        print(result.stdout, end="")


class RuntimeExport:
    """Task mixin: Keras' `export` to ONNX, LiteRT and OpenVINO works for
    BiGS.

    Those runtimes have no FFT op that TensorFlow's `RFFT` converts to (ONNX
    Runtime refuses the model, LiteRT needs Flex ops), so these formats are
    exported with every SSM on its exact FFT-free path, the product with
    the kernel's Toeplitz matrix (O(L²) per layer instead of O(L log L);
    the same outputs to float32 rounding), and the export says so. Inputs
    are the model's int32 token inputs with dynamic batch and length (up
    to `max_sequence_length`): pad as the task's preprocessor does (the
    published models to their full length; a `padding_invariant` model
    to any length). `"tf_saved_model"` is Keras' export, unchanged
    (`export_for_serving` writes one that takes strings).

    The export itself runs on the TensorFlow backend: on JAX and PyTorch
    the task is handed to a TensorFlow-backend Python process
    (`export_from_tensorflow`; Keras' own JAX and PyTorch converters fail
    on BiGS), which writes the same file.
    """

    def export(
        self,
        filepath,
        format="tf_saved_model",
        verbose=None,
        input_signature=None,
        **kwargs,
    ):
        """Keras' `Model.export`; `"onnx"`, `"litert"` and `"openvino"`
        take the Toeplitz path (see `RuntimeExport`)."""
        if format not in RUNTIME_FORMATS:
            return super().export(
                filepath,
                format=format,
                verbose=verbose,
                input_signature=input_signature,
                **kwargs,
            )
        backend = keras.backend.backend()
        if backend != "tensorflow":
            if input_signature is not None or kwargs:
                raise ValueError(
                    f"On the {backend} backend, BiGS exports to {format!r} "
                    "in a TensorFlow-backend process, with the default input "
                    "signature and no converter options; for those, export "
                    "with KERAS_BACKEND=tensorflow."
                )
            return export_from_tensorflow(self, filepath, format, verbose)
        if input_signature is None:
            input_signature = [self.export_input_signature()]
        if verbose is not False:
            print(
                f"Exporting {type(self).__name__} to {format} with the "
                "FFT-free (Toeplitz) SSM convolution: the runtime has no FFT "
                "op."
            )
        try:
            with toeplitz_convolutions(self):
                super().export(
                    filepath,
                    format=format,
                    verbose=verbose,
                    input_signature=input_signature,
                    **kwargs,
                )
        except NameError as error:
            if format == "openvino" and sys.version_info >= (3, 13):
                raise RuntimeError(
                    "OpenVINO's TensorFlow converter fails on Python 3.13 "
                    "and newer (it runs `exec('del tensorflow')` in a "
                    f"function: {error}). Export to OpenVINO from Python "
                    "3.11 or 3.12; ONNX and LiteRT work here."
                ) from error
            raise
        if format == "openvino":
            keep_model_outputs(filepath, len(keras.tree.flatten(self.output)))

    def export_input_signature(self):
        """`{name: keras.InputSpec}` of the model's inputs: int32, every axis
        dynamic (any batch, any length up to `max_sequence_length`)."""
        return {
            name: keras.InputSpec(
                shape=(None,) * len(tensor.shape), dtype=tensor.dtype, name=name
            )
            for name, tensor in self.input.items()
        }
