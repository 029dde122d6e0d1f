"""Where a SavedModel is written: the destination check, the atomic write
and the size on disk."""

import os
import shutil
import tempfile


def check_destination(path, overwrite=False):
    """Refuse to export over existing files, or with `overwrite=True` over
    anything but an earlier export (a folder with `saved_model.pb`).

    Tools that export at the end of a long run (`tools/run_glue.py
    --export`) call this first, so a bad destination fails before training.

    Args:
        path: str. The folder the SavedModel will be written to.
        overwrite: bool. Allow replacing an earlier export.

    Example:
    ```python
    import tempfile
    from keras_bigs.serving import check_destination

    check_destination(tempfile.mkdtemp())  # an empty folder is fine
    ```
    """
    path = os.fspath(path)
    if os.path.exists(path) and not os.path.isdir(path):
        raise FileExistsError(
            f"The export destination {path} is a file, not a folder."
        )
    if os.path.isdir(path) and os.listdir(path):
        if not overwrite:
            raise FileExistsError(
                f"The export destination {path} exists and is not empty. "
                "Pass overwrite=True (--overwrite) to replace it, or choose "
                "another folder."
            )
        # Deleting a folder by mistake costs more than a refused export.
        if not os.path.isfile(os.path.join(path, "saved_model.pb")):
            raise FileExistsError(
                f"The export destination {path} is not empty and holds no "
                "SavedModel (saved_model.pb): overwrite=True replaces an "
                "earlier export only."
            )


def write(archive, path):
    """Write `archive` (a `keras.export.ExportArchive`) next to `path`, then
    move it into place: a failed export leaves an existing model untouched.
    `path` must have passed `check_destination`."""
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".export-", dir=parent)
    try:
        archive.write_out(staging, verbose=False)
        if os.path.isdir(path):
            shutil.rmtree(path)  # empty, or overwrite=True was checked
        os.replace(staging, path)
    finally:
        if os.path.isdir(staging):
            shutil.rmtree(staging)


def folder_bytes(path):
    """The size of the files under `path`, in bytes."""
    return sum(
        os.path.getsize(os.path.join(root, name))
        for root, _, names in os.walk(path)
        for name in names
    )
