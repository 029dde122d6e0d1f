import os
import pathlib

import keras
import pytest

import keras_bigs

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent

# The fixture sets written by the original code, and the relative error a
# faithful float32 port stays under on each (see ../shared/README.md): the
# strong weights make every block matter, and the original's own float32
# outputs are ~1.5e-5 from float64 there.
PARITY_TOLERANCE = {"bigs_reference": 1e-5, "bigs_reference_strong": 5e-5}


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


def fixture_dir(name, fixtures="bigs_reference"):
    """One folder of a fixture set (`PARITY_TOLERANCE`'s keys)."""
    return shared_dir() / "fixtures" / fixtures / name


def tiny_backbone(max_sequence_length, **kwargs):
    """The smallest useful `BiGSBackbone` with the BERT vocabulary, for
    tests of tasks, pipelines and tools (one layer, hidden 16); `kwargs`
    add to or override its config."""
    config = dict(
        vocabulary_size=30522,
        num_layers=1,
        hidden_dim=16,
        intermediate_dim=32,
        state_dim=4,
        max_sequence_length=max_sequence_length,
    )
    return keras_bigs.BiGSBackbone(**{**config, **kwargs})


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
