"""The tiny models and their exports, shared by the files of this folder
that a test process runs: each export is written once, on first use."""

import pytest

from tests.serving.serving_common import Exports
from tests.serving.serving_common import tiny_models


@pytest.fixture(scope="session")
def models():
    return tiny_models()


@pytest.fixture(scope="session")
def exports(models, tmp_path_factory):
    return Exports(models, tmp_path_factory.mktemp("serving"))
