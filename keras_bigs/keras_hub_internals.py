"""The keras-hub internals keras_bigs builds on, in one place.

keras-hub keeps its preset loaders and preprocessing helpers under
`keras_hub.src`, which is not public API and moves between releases. Every
private import goes through this module, and pyproject.toml pins keras-hub to
the minor release these names were tested with (`TESTED_KERAS_HUB`): a
version that moved them fails here, at import, with an error naming it.
"""

import keras_hub

TESTED_KERAS_HUB = "0.32"

try:
    from keras_hub.src.utils.preset_utils import KerasPresetLoader
    from keras_hub.src.utils.preset_utils import PresetLoader
    from keras_hub.src.utils.preset_utils import builtin_presets
    from keras_hub.src.utils.preset_utils import check_config_class
    from keras_hub.src.utils.preset_utils import check_file_exists
    from keras_hub.src.utils.preset_utils import get_file
    from keras_hub.src.utils.preset_utils import load_json
    from keras_hub.src.utils.preset_utils import register_presets
    from keras_hub.src.utils.tensor_utils import convert_preprocessing_inputs
    from keras_hub.src.utils.tensor_utils import convert_preprocessing_outputs
    from keras_hub.src.utils.tensor_utils import in_tf_function
except ImportError as error:
    raise ImportError(
        f"keras_bigs needs keras-hub {TESTED_KERAS_HUB}.x, whose internal "
        f"modules it builds on; this is keras-hub {keras_hub.__version__} "
        f"({error}). Install it with `pip install "
        f"'keras-hub=={TESTED_KERAS_HUB}.*'`."
    ) from error

__all__ = [
    "KerasPresetLoader",
    "PresetLoader",
    "TESTED_KERAS_HUB",
    "builtin_presets",
    "check_config_class",
    "check_file_exists",
    "convert_preprocessing_inputs",
    "convert_preprocessing_outputs",
    "get_file",
    "in_tf_function",
    "load_json",
    "register_presets",
]
