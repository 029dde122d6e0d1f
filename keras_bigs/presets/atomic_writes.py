"""Files and folders written whole or not at all.

A process killed while writing (or a disk that fills up) must not leave a
half-written checkpoint or preset where a resumed run or a loader will
read it. So each is written under a temporary name beside its place and
renamed onto it once complete: a rename within a folder is atomic, so a
reader sees the old version or the whole new one. A failed write removes
its temporary file and says which path it could not write.
"""

import contextlib
import os
import shutil


def temporary_name(path):
    """A hidden name beside `path` that keeps its suffix (Keras checks
    `.weights.h5`): `DIR/.partial-NAME`."""
    folder, name = os.path.split(os.path.abspath(path))
    return os.path.join(folder, f".partial-{name}")


def write_file_atomically(path, write):
    """`write(temporary_path)`, then the finished file renamed to `path`.

    Raises:
        OSError: naming `path`, when the write fails (a full or read-only
            disk); what was at `path` is left as it was.
    """
    temporary = temporary_name(path)
    with _removed_on_failure(path, temporary):
        write(temporary)
        with open(temporary, "rb+") as file:
            os.fsync(file.fileno())
        os.replace(temporary, path)


def write_folder_atomically(path, write):
    """`write(temporary_folder)`, then the finished folder put at `path`
    (an older folder there is replaced; until the swap completes it is
    kept, under a hidden name, never half-overwritten).

    Raises:
        OSError: naming `path`, when the write fails.
    """
    temporary = temporary_name(path)
    _remove(temporary)
    with _removed_on_failure(path, temporary):
        write(temporary)
    if os.path.isdir(path):
        previous = os.path.join(
            os.path.dirname(temporary), f".previous-{os.path.basename(path)}"
        )
        _remove(previous)
        os.replace(path, previous)
        os.replace(temporary, path)
        _remove(previous)
    else:
        os.replace(temporary, path)


@contextlib.contextmanager
def _removed_on_failure(path, temporary):
    """Remove `temporary` if the block fails; an OSError is raised again
    naming `path`."""
    try:
        yield
    except OSError as error:
        _remove(temporary)
        raise OSError(
            error.errno,
            f"Could not write {path} ({error.strerror or error}); what was "
            "there before is intact",
        ) from error
    except BaseException:
        _remove(temporary)
        raise


def _remove(path):
    if os.path.isdir(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        os.remove(path)
