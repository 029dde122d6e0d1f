import math

import keras
import numpy as np
import pytest

import keras_bigs
from keras_bigs.training import BiGSAdamW
from keras_bigs.training import WarmupDecay
from keras_bigs.training import bigs_optimizer
from tests.training.distributed_common import TINY

SSM = {"A_re", "A_im", "log_step"}
NOT_DECAYED = SSM | {"bias", "gamma", "beta"}
LR = 0.01


def to_numpy(variable):
    return keras.ops.convert_to_numpy(variable).astype(np.float64)


def tiny_backbone():
    keras.utils.set_random_seed(0)
    return keras_bigs.BiGSBackbone(dropout=0.0, **TINY)


def adam_first_step(w, g, lr, beta_1=0.9, beta_2=0.98, epsilon=1e-6):
    """Adam's first update, in float64: m = (1-b1) g, v = (1-b2) g²."""
    m = (1 - beta_1) * g
    v = (1 - beta_2) * g * g
    alpha = lr * np.sqrt(1 - beta_2) / (1 - beta_1)
    return w - alpha * m / (np.sqrt(v) + epsilon)


def test_defaults_are_the_papers():
    optimizer = BiGSAdamW()
    assert (optimizer.beta_1, optimizer.beta_2, optimizer.epsilon) == (
        0.9,
        0.98,
        1e-6,
    )
    assert optimizer.weight_decay == 0.01
    assert optimizer.ssm_learning_rate_multiplier == 0.1


def test_ssm_parameters_move_a_tenth_of_adamw_on_one_step():
    backbone = tiny_backbone()
    variables = backbone.trainable_variables
    assert SSM <= {v.name for v in variables}
    rng = np.random.default_rng(1)
    grads = [
        keras.ops.convert_to_tensor(rng.normal(size=v.shape).astype("float32"))
        for v in variables
    ]
    w0 = [to_numpy(v) for v in variables]

    BiGSAdamW(learning_rate=LR, weight_decay=0.0).apply(grads, variables)
    ours = [to_numpy(v) for v in variables]
    for v, w in zip(variables, w0):
        v.assign(w.astype("float32"))
    keras.optimizers.AdamW(
        learning_rate=LR, weight_decay=0.0, beta_2=0.98, epsilon=1e-6
    ).apply(grads, variables)
    plain = [to_numpy(v) for v in variables]

    for v, w, g, got, ref in zip(variables, w0, grads, ours, plain):
        g = keras.ops.convert_to_numpy(g).astype(np.float64)
        lr = LR * 0.1 if v.name in SSM else LR
        np.testing.assert_allclose(
            got, adam_first_step(w, g, lr), atol=1e-7, rtol=0, err_msg=v.path
        )
        expected_move = (ref - w) * (0.1 if v.name in SSM else 1.0)
        np.testing.assert_allclose(
            got - w, expected_move, atol=2e-7, rtol=0, err_msg=v.path
        )
        # Adam's first step is about lr per entry: a real move.
        assert np.abs(got - w).max() > 0.5 * lr


def test_no_weight_decay_on_biases_layer_norm_and_ssm():
    backbone = tiny_backbone()
    variables = backbone.trainable_variables
    w0 = [to_numpy(v) for v in variables]
    zeros = [keras.ops.zeros(v.shape) for v in variables]
    # With zero gradients Adam does not move anything: only decay does.
    BiGSAdamW(learning_rate=LR, weight_decay=0.1).apply(zeros, variables)
    decayed = set()
    for v, w in zip(variables, w0):
        if v.name in NOT_DECAYED:
            np.testing.assert_array_equal(to_numpy(v), w, err_msg=v.path)
        else:
            np.testing.assert_allclose(
                to_numpy(v), w * (1 - LR * 0.1), rtol=1e-6, err_msg=v.path
            )
            decayed.add(v.name)
    # Dense kernels, embeddings (as in BERT) and the SSM's C and D decay.
    assert decayed == {"kernel", "embeddings", "C", "D"}


def test_exclude_from_weight_decay_still_applies():
    backbone = tiny_backbone()
    variables = backbone.trainable_variables
    w0 = [to_numpy(v) for v in variables]
    optimizer = BiGSAdamW(learning_rate=LR, weight_decay=0.1)
    optimizer.exclude_from_weight_decay(var_names=["embeddings"])
    optimizer.apply([keras.ops.zeros(v.shape) for v in variables], variables)
    for v, w in zip(variables, w0):
        moved = not np.array_equal(to_numpy(v), w)
        assert moved == (v.name in {"kernel", "C", "D"}), v.path


def test_masked_lm_output_bias_is_not_decayed():
    backbone = tiny_backbone()
    masked_lm = keras_bigs.BiGSMaskedLM(backbone)
    optimizer = BiGSAdamW()
    rules = {
        v.path: optimizer.uses_weight_decay(v)
        for v in masked_lm.trainable_variables
    }
    assert rules["mlm_head/output_bias"] is False
    assert rules["mlm_head/intermediate_layer_norm/gamma"] is False
    assert rules["mlm_head/intermediate_dense/kernel"] is True
    assert rules["token_embedding/embeddings"] is True


def test_bigs_optimizer_builds_the_recipe():
    optimizer = bigs_optimizer(
        1e-4,
        total_steps=1000,
        schedule="linear",
        global_clipnorm=1.0,
        ssm_learning_rate_multiplier=0.5,
    )
    assert isinstance(optimizer, BiGSAdamW)
    assert optimizer.global_clipnorm == 1.0
    assert optimizer.ssm_learning_rate_multiplier == 0.5
    schedule = optimizer._learning_rate
    assert isinstance(schedule, WarmupDecay)
    # Default warmup: 10% of the steps.
    assert (schedule.warmup_steps, schedule.total_steps, schedule.decay) == (
        100,
        1000,
        "linear",
    )
    with pytest.raises(ValueError, match="Unknown `schedule='step'`"):
        bigs_optimizer(1e-4, total_steps=10, schedule="step")


def test_optimizer_config_round_trip():
    optimizer = bigs_optimizer(
        3e-4,
        total_steps=500,
        warmup_steps=50,
        ssm_learning_rate_multiplier=0.2,
        weight_decay=0.05,
    )
    restored = keras.optimizers.deserialize(
        keras.optimizers.serialize(optimizer)
    )
    assert isinstance(restored, BiGSAdamW)
    assert restored.get_config() == optimizer.get_config()
    assert restored._learning_rate.get_config() == {
        "peak_learning_rate": 3e-4,
        "warmup_steps": 50,
        "total_steps": 500,
        "decay": "cosine",
        "end_learning_rate": 0.0,
        "name": "WarmupDecay",
    }


# === One training step through `fit`'s path on every backend ===


def tiny_model(seed=0):
    """A functional model on a `BiGSBackbone`: pooled output -> logits.

    (Not a `BiGSClassifier`: keras-hub tasks override `compile()`, so
    `load_model` skips their `compile_from_config` and drops the
    optimizer.)
    """
    keras.utils.set_random_seed(seed)
    backbone = keras_bigs.BiGSBackbone(dropout=0.0, **TINY)
    logits = keras.layers.Dense(3, name="logits")(
        backbone(backbone.input)["pooled_output"]
    )
    model = keras.Model(backbone.input, logits)
    # BiGS's 0.02-stddev initialisation gives this tiny model gradients
    # too small for Adam to move the SSM parameters visibly; larger
    # weights give every parameter a gradient well above epsilon.
    rng = np.random.default_rng(seed)
    for v in model.trainable_variables:
        if v.name in ("kernel", "embeddings"):
            v.assign(rng.normal(0.0, 0.5, v.shape).astype("float32"))
    return model


def batch():
    rng = np.random.default_rng(2)
    x = {
        "token_ids": rng.integers(1, 100, (4, 16)).astype("int32"),
        "segment_ids": np.zeros((4, 16), "int32"),
        "padding_mask": np.ones((4, 16), "int32"),
    }
    return x, np.array([0, 1, 2, 1])


def train_one_step(optimizer):
    model = tiny_model()
    before = [to_numpy(v) for v in model.trainable_variables]
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.train_on_batch(*batch())
    moves = {
        v.path: to_numpy(v) - w
        for v, w in zip(model.trainable_variables, before)
    }
    return model, moves


@pytest.fixture(scope="module")
def trained():
    optimizer = bigs_optimizer(
        LR,
        total_steps=100,
        warmup_steps=0,
        schedule="constant",
        weight_decay=0.0,
        ssm_learning_rate_multiplier=0.25,
    )
    return train_one_step(optimizer)


def test_train_step_scales_the_ssm_learning_rate(trained):
    # Adam's first step moves an entry by lr * |g| / (|g| + eps / 0.14):
    # at most lr, and almost exactly lr where the gradient is not tiny. So
    # through `fit`'s own update path (stateless on JAX, a tf.function on
    # TensorFlow), SSM entries move by up to 0.25 lr and the rest by up to
    # lr, both reached.
    _, moves = trained
    largest = {"ssm": 0.0, "other": 0.0}
    for path, move in moves.items():
        name = path.rsplit("/", 1)[-1]
        is_ssm = name in SSM
        limit = (0.25 if is_ssm else 1.0) * LR
        # (On TensorFlow embeddings get sparse gradients, and Keras's Adam
        # squares repeated rows separately there, so a row seen n times
        # can move up to sqrt(n) lr: no bound for them.)
        if name != "embeddings":
            assert np.abs(move).max() <= limit + 1e-6, path
        key = "ssm" if is_ssm else "other"
        largest[key] = max(largest[key], np.abs(move).max())
        if is_ssm:
            # Every SSM parameter has a real gradient here.
            assert np.abs(move).max() > 0.5 * limit, path
    assert largest["ssm"] > 0.99 * 0.25 * LR
    assert largest["other"] > 0.99 * LR


def test_compiled_model_saves_and_reloads_its_optimizer(trained, tmp_path):
    model, _ = trained
    path = str(tmp_path / "model.keras")
    model.save(path)
    restored = keras.models.load_model(path)
    optimizer = restored.optimizer
    assert isinstance(optimizer, BiGSAdamW)
    assert optimizer.get_config() == model.optimizer.get_config()
    assert optimizer.ssm_learning_rate_multiplier == 0.25
    assert isinstance(optimizer._learning_rate, WarmupDecay)
    assert optimizer._learning_rate.decay == "constant"
    assert int(optimizer.iterations) == 1
    for got, expected in zip(optimizer.variables, model.optimizer.variables):
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(got),
            keras.ops.convert_to_numpy(expected),
        )


# === WarmupDecay ===

PEAK, END = 1e-3, 1e-4


def rate(schedule, step):
    return float(keras.ops.convert_to_numpy(schedule(step)))


@pytest.mark.parametrize("decay", ["cosine", "linear"])
def test_warmup_then_decay(decay):
    schedule = WarmupDecay(
        PEAK,
        warmup_steps=10,
        total_steps=110,
        decay=decay,
        end_learning_rate=END,
    )
    expected = {
        0: 0.0,
        5: PEAK / 2,
        10: PEAK,
        60: (PEAK + END) / 2,  # half-way: cos(pi/2) = 0, or the midpoint
        110: END,
        500: END,
    }
    # A quarter of the way: cosine 0.5 (1 + cos(pi/4)), linear 0.75.
    quarter = 0.5 * (1 + math.cos(math.pi / 4)) if decay == "cosine" else 0.75
    expected[35] = END + (PEAK - END) * quarter
    for step, value in expected.items():
        assert rate(schedule, step) == pytest.approx(
            value, rel=1e-6, abs=1e-12
        ), step


def test_constant_after_warmup():
    schedule = WarmupDecay(PEAK, warmup_steps=4, decay="constant")
    assert [rate(schedule, s) for s in (0, 1, 4, 10**6)] == pytest.approx(
        [0.0, PEAK / 4, PEAK, PEAK]
    )


def test_no_warmup_starts_at_the_peak():
    schedule = WarmupDecay(PEAK, warmup_steps=0, total_steps=10)
    assert rate(schedule, 0) == pytest.approx(PEAK)
    assert rate(schedule, 10) == pytest.approx(0.0, abs=1e-12)


def test_works_on_an_iterations_variable():
    schedule = WarmupDecay(PEAK, warmup_steps=10, total_steps=20)
    step = keras.Variable(5, dtype="int64", trainable=False)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(schedule(step)), PEAK / 2, rtol=1e-6
    )


def test_serializes():
    schedule = WarmupDecay(
        PEAK,
        warmup_steps=3,
        total_steps=9,
        decay="linear",
        end_learning_rate=END,
    )
    restored = keras.optimizers.schedules.deserialize(
        keras.optimizers.schedules.serialize(schedule)
    )
    assert isinstance(restored, WarmupDecay)
    assert restored.get_config() == schedule.get_config()
    assert rate(restored, 6) == pytest.approx(rate(schedule, 6))


def test_invalid_arguments():
    with pytest.raises(ValueError, match="Unknown `decay='step'`"):
        WarmupDecay(PEAK, 1, 10, decay="step")
    with pytest.raises(
        ValueError,
        match="needs `total_steps` > "
        "`warmup_steps`; received total_steps=10, "
        "warmup_steps=10",
    ):
        WarmupDecay(PEAK, 10, 10)
    with pytest.raises(ValueError, match="`warmup_steps` must be >= 0"):
        WarmupDecay(PEAK, -1, 10)
