"""Call exported SavedModels as a server would: TensorFlow and
tensorflow-text only. Run by the tests of tests/serving/ in a fresh process:

    python serve_without_keras.py REQUESTS.pkl RESULTS.npz [CLI_DIR]

REQUESTS is a pickled dict `{key: (saved_model_dir, signature, inputs)}`
with `inputs` a dict of lists or numpy arrays. RESULTS gets every output as
`key/output_name`, and RESULTS.json the signatures of each model. Exits
non-zero if loading or calling imports keras_bigs, keras_hub or any Keras
module that importing TensorFlow had not already imported. Then, with
CLI_DIR, runs `saved_model_cli show --dir CLI_DIR --all` (its console
script's entry point, in this process: one TensorFlow import less) into
RESULTS.cli.txt.
"""

import contextlib
import importlib.abc
import io
import json
import pickle
import sys

import numpy as np
import tensorflow as tf
import tensorflow_text  # noqa: F401  registers the tokenizer's ops

FORBIDDEN = ("keras_bigs", "keras_hub")


class RefuseImports(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in FORBIDDEN:
            raise ImportError(f"serving imported {name}")
        return None


def describe(signature):
    _, inputs = signature.structured_input_signature
    return {
        "inputs": {name: spec.dtype.name for name, spec in inputs.items()},
        "outputs": {
            name: spec.dtype.name
            for name, spec in signature.structured_outputs.items()
        },
    }


def saved_model_cli_show(directory):
    from tensorflow.python.tools import saved_model_cli

    sys.argv = ["saved_model_cli", "show", "--dir", directory, "--all"]
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        try:
            saved_model_cli.main()
        except SystemExit as exit:  # absl's app.run exits
            assert not exit.code, f"saved_model_cli exited with {exit.code}"
    return output.getvalue()


def main(requests_path, results_path, cli_directory=None):
    # This TensorFlow imports Keras itself when Keras is installed (not in a
    # TF Serving binary); what matters is that serving adds nothing.
    assert not any(name in sys.modules for name in FORBIDDEN)
    modules_before = set(sys.modules)
    sys.meta_path.insert(0, RefuseImports())

    with open(requests_path, "rb") as f:
        requests = pickle.load(f)
    models, results, signatures = {}, {}, {}
    for key, (directory, signature, inputs) in requests.items():
        if directory not in models:
            models[directory] = tf.saved_model.load(directory)
            signatures[directory] = {
                name: describe(fn)
                for name, fn in models[directory].signatures.items()
            }
        function = models[directory].signatures[signature]
        outputs = function(
            **{name: tf.constant(value) for name, value in inputs.items()}
        )
        for name, value in outputs.items():
            value = value.numpy()
            if value.dtype == object:
                value = value.astype(bytes)
            results[f"{key}/{name}"] = value

    new_modules = sorted(
        name
        for name in set(sys.modules) - modules_before
        if name.split(".")[0] in ("keras",) + FORBIDDEN
    )
    assert not new_modules, f"serving imported {new_modules}"
    np.savez(results_path, **results)
    with open(results_path + ".json", "w") as f:
        json.dump(signatures, f)
    if cli_directory:
        with open(results_path + ".cli.txt", "w") as f:
            f.write(saved_model_cli_show(cli_directory))


if __name__ == "__main__":
    main(*sys.argv[1:])
