from keras_bigs.training import small_backbone
from keras_bigs.training.small_bigs import small_architecture


def test_small_backbone_defaults_and_named_overrides():
    backbone = small_backbone(16)
    assert backbone.max_sequence_length == 16
    assert small_architecture(backbone) == {
        "vocabulary_size": 30522,
        "num_layers": 2,
        "hidden_dim": 128,
        "intermediate_dim": 256,
        "state_dim": 16,
        "block_type": "gated",
        "routing": "ssm",
        "num_heads": 2,
        "padding_invariant": False,
        "dt_min": 0.01,
        "dt_max": 1.0,
    }
    smaller = small_backbone(
        8,
        vocabulary_size=100,
        num_layers=1,
        hidden_dim=8,
        intermediate_dim=16,
        state_dim=4,
        block_type="stack",
        routing="attention",
        num_heads=1,
        padding_invariant=True,
        dt_min=0.001,
        dt_max=0.1,
    )
    # remat is how it trains, not its architecture: kept out of the record.
    rematerialized = small_backbone(8, num_layers=1, hidden_dim=8, remat=True)
    assert rematerialized.remat and not backbone.remat
    assert "remat" not in small_architecture(rematerialized)
    assert small_architecture(smaller) == {
        "vocabulary_size": 100,
        "num_layers": 1,
        "hidden_dim": 8,
        "intermediate_dim": 16,
        "state_dim": 4,
        "block_type": "stack",
        "routing": "attention",
        "num_heads": 1,
        "padding_invariant": True,
        "dt_min": 0.001,
        "dt_max": 0.1,
    }
