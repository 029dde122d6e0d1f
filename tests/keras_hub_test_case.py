"""keras-hub's own test helpers (`run_layer_test`, `run_backbone_test`,
`run_task_test`, `run_preset_test`, `run_model_saving_test`,
`run_precision_test`), with BiGS's one exception to their rules."""

import keras
from keras_hub.src.tests.test_case import TestCase as KerasHubTestCase

# S4DConv keeps these in float32 under every dtype policy (its kernel
# raises `exp(dt A)` to powers as long as the sequence, where 16-bit
# rounding grows), so a "bfloat16" model holds them in float32.
SSM_PARAMETERS = ("A_re", "A_im", "C", "log_step", "D")


class TestCase(KerasHubTestCase):
    # tf.test.TestCase's deprecated session helper: not a test to collect.
    test_session = None

    def assertDTypeEqual(self, x, expected_dtype, msg=None):
        if isinstance(x, keras.Variable) and x.name in SSM_PARAMETERS:
            expected_dtype = "float32"
        super().assertDTypeEqual(x, expected_dtype, msg=msg)
