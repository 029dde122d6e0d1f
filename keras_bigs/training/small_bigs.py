"""The small BiGS that the training tools build when no preset is given."""

from keras_bigs.models.bigs_backbone import BiGSBackbone

# Small enough to train on a laptop CPU in minutes (about 4.3M parameters,
# 3.9M of them the token embedding), big enough to learn SST-2.
SMALL_ARCHITECTURE = {
    "vocabulary_size": 30522,
    "num_layers": 2,
    "hidden_dim": 128,
    "intermediate_dim": 256,
    "state_dim": 16,
}


def small_backbone(sequence_length, **overrides):
    """A new `BiGSBackbone` of `SMALL_ARCHITECTURE` at `sequence_length`."""
    return BiGSBackbone(max_sequence_length=sequence_length,
                        **{**SMALL_ARCHITECTURE, **overrides})
