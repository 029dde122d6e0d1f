"""Check converted original BiGS checkpoints against the original's outputs.

Each FOLDER is in the original layout (config.json + flax_model.msgpack |
model.safetensors | pytorch_model.bin) with a `reference_outputs.npz` written
by the original code (`x_*` inputs, `sequence_output`, `logits` for
classifiers, and optionally `short_*`). Checks the backbone, and the
task of the checkpoint's architecture where it has a head (classifier and
masked-LM logits, question-answering start/end logits), loaded with
`from_preset(folder)` on the task class. Prints a table of relative errors
(max |ours - ref| / max |ref|), writes it as JSON, and exits non-zero when
any error is over the tolerance. A head keras_bigs has no task for is
reported as not checked (its backbone still is).

    python tools/check_parity.py ../shared/fixtures/bigs_reference
"""

import argparse
import json
import pathlib
import sys
import time
import warnings

import keras
import numpy as np

import keras_bigs
from keras_bigs.convert.original_checkpoint import task_class_name
from keras_bigs.convert.readers import CheckpointError
from keras_bigs.convert.reference_outputs import reference_batches
from keras_bigs.convert.reference_outputs import relative_error
from keras_bigs.training.command_line import run_tool


def find_folders(paths):
    for path in map(pathlib.Path, paths):
        if (path / "reference_outputs.npz").exists():
            yield path
        else:
            yield from sorted(
                p.parent for p in path.glob("*/reference_outputs.npz")
            )


def models_to_check(folder):
    """`(model, {our output: reference name})` for the folder: the backbone,
    and the task of the checkpoint's architecture where it has that head
    (classifier logits, masked-LM logits at every position, question
    answering start/end logits). An architecture keras_bigs has no task
    for yields its error (the backbone is still checked)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Flax masked-LM: no pooler
        yield (
            keras_bigs.BiGSBackbone.from_preset(str(folder)),
            {"sequence_output": "sequence_output"},
        )
    config = json.loads((folder / "config.json").read_text())
    try:
        task = getattr(keras_bigs, task_class_name(config))
    except CheckpointError as error:
        yield error, {}
        return
    if task is keras_bigs.BiGSQuestionAnswerer:
        names = {"start_logits": "start_logits", "end_logits": "end_logits"}
    else:
        names = {None: "logits"}
    reference = np.load(folder / "reference_outputs.npz")
    if all(name in reference for name in names.values()):
        yield task.from_preset(str(folder), preprocessor=None), names


def task_inputs(model, inputs):
    """The masked LM scores the positions it is given: all of them here."""
    if isinstance(model, keras_bigs.BiGSMaskedLM):
        batch, length = inputs["token_ids"].shape
        positions = np.tile(np.arange(length, dtype="int32"), (batch, 1))
        inputs = dict(inputs, mask_positions=positions)
    return inputs


def check_folder(folder):
    """`(rows, notes)`: a row per output checked, a note per head that
    could not be."""
    reference = np.load(folder / "reference_outputs.npz")
    rows, notes = [], []
    for model, names in models_to_check(folder):
        if isinstance(model, Exception):
            notes.append(f"{folder_name(folder)}: head not checked: {model}")
            continue
        for prefix, inputs in reference_batches(reference):
            got = model.predict(task_inputs(model, inputs), verbose=0)
            for output, expected in names.items():
                value = got if output is None else got[output]
                name = expected if prefix == "x" else f"{prefix}_{expected}"
                rows.append(
                    {
                        "folder": folder_name(folder),
                        "model": type(model).__name__,
                        "output": name,
                        "shape": list(value.shape),
                        "activation": getattr(
                            model, "backbone", model
                        ).activation,
                        "relative_error": relative_error(
                            value, reference[name]
                        ),
                    }
                )
    return rows, notes


def folder_name(folder):
    """`fixtures/checkpoint`, e.g. `bigs_reference_strong/flax_classifier`."""
    return f"{folder.parent.name}/{folder.name}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "folders", nargs="+", help="fixture folders, or a folder holding them"
    )
    parser.add_argument("--tolerance", type=float, default=1e-5)
    parser.add_argument(
        "--json", default="parity.json", help="where to write the results"
    )
    args = parser.parse_args(argv)

    folders = list(find_folders(args.folders))
    if not folders:
        parser.error(f"no reference_outputs.npz under {args.folders}")
    start = time.time()
    rows, notes = [], []
    for folder in folders:
        folder_rows, folder_notes = check_folder(folder)
        rows += folder_rows
        notes += folder_notes
    backend = keras.backend.backend()
    print(f"backend: {backend}   tolerance: {args.tolerance:g}")
    print(
        f"{'folder':<48} {'model':<21} {'output':<22} {'activation':<17} "
        "rel. error"
    )
    for row in rows:
        flag = "" if row["relative_error"] <= args.tolerance else "  FAIL"
        print(
            f"{row['folder']:<48} {row['model']:<21} {row['output']:<22} "
            f"{row['activation']:<17} {row['relative_error']:.2e}{flag}"
        )
    for note in notes:
        print(note)
    worst = max(row["relative_error"] for row in rows)
    print(
        f"worst: {worst:.2e} over {len(rows)} outputs "
        f"({time.time() - start:.1f}s)"
    )
    pathlib.Path(args.json).write_text(
        json.dumps(
            {
                "backend": backend,
                "tolerance": args.tolerance,
                "rows": rows,
                "not_checked": notes,
            },
            indent=2,
        )
    )
    return 0 if worst <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(run_tool(main))
