"""Every public class's docstring Example runs as written."""

import re

import pytest

import keras_bigs

PUBLIC = [
    keras_bigs.S4DConv, keras_bigs.GatedFFN, keras_bigs.BiGSBlock,
    keras_bigs.StackBlock, keras_bigs.BiGSBackbone, keras_bigs.BiGSTokenizer,
    keras_bigs.BiGSTextClassifierPreprocessor, keras_bigs.BiGSClassifier,
    keras_bigs.BiGSMaskedLMPreprocessor, keras_bigs.BiGSMaskedLM,
    keras_bigs.BiGSQuestionAnswererPreprocessor,
    keras_bigs.BiGSQuestionAnswerer,
    keras_bigs.BiGSMultipleChoicePreprocessor, keras_bigs.BiGSMultipleChoice,
    # Keras exports TF SavedModels from JAX and TensorFlow only.
    pytest.param(keras_bigs.export_for_serving,
                 marks=pytest.mark.backends("jax", "tensorflow")),
]


@pytest.mark.parametrize("cls", PUBLIC, ids=lambda c: c.__name__)
def test_docstring_has_args_and_a_runnable_example(cls):
    doc = cls.__doc__
    assert "Args:" in doc
    blocks = re.findall(r"```python\n(.*?)```", doc, re.S)
    assert blocks, f"{cls.__name__} has no Example"
    for block in blocks:
        code = "\n".join(line[4:] if line.startswith("    ") else line
                         for line in block.splitlines())
        exec(compile(code, f"<{cls.__name__} example>", "exec"), {})
