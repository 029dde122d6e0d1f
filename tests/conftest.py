import os
import pathlib

import keras
import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent


def shared_dir():
    """The read-only `shared/` folder: `$BIGS_SHARED_DIR`, else `../shared`.

    Missing, it fails the test under CI (`CI=true`) and skips it elsewhere.
    """
    path = pathlib.Path(
        os.environ.get("BIGS_SHARED_DIR", REPO_ROOT.parent / "shared")
    )
    if not path.is_dir():
        message = (
            f"shared data folder {path} not found (set BIGS_SHARED_DIR to "
            "the folder with fixtures/, glue/ and vocab/)"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def fixture_dir(name):
    """One folder of `shared/fixtures/bigs_reference`."""
    return shared_dir() / "fixtures" / "bigs_reference" / name


def reference_batches(reference):
    """`(prefix, inputs)` for each input batch of a fixture's
    `reference_outputs.npz`: `x` (full length) and, if present, `short`."""
    for prefix in ("x", "short"):
        if f"{prefix}_token_ids" in reference:
            yield prefix, {
                "token_ids": reference[f"{prefix}_token_ids"],
                "segment_ids": reference[f"{prefix}_segment_ids"],
                "padding_mask": reference[f"{prefix}_padding_mask"],
            }


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "backends(*names): run only on these Keras backends"
    )


def pytest_collection_modifyitems(config, items):
    backend = keras.backend.backend()
    for item in items:
        marker = item.get_closest_marker("backends")
        if marker and backend not in marker.args:
            item.add_marker(
                pytest.mark.skip(
                    reason=f"needs backend {' or '.join(marker.args)}; "
                    f"this run uses {backend}"
                )
            )


@pytest.fixture(autouse=True)
def float32_policy():
    """Each test starts (and ends) with the float32 policy."""
    keras.config.set_dtype_policy("float32")
    yield
    keras.config.set_dtype_policy("float32")
