"""The small BiGS that the training tools build when no preset is given."""

import inspect

from keras_bigs.models.bigs_backbone import BiGSBackbone


def small_backbone(
    sequence_length,
    vocabulary_size=30522,
    num_layers=2,
    hidden_dim=128,
    intermediate_dim=256,
    state_dim=16,
    block_type="gated",
    routing="ssm",
    num_heads=None,
    padding_invariant=False,
    dt_min=0.01,
    dt_max=1.0,
    remat=False,
):
    """A new, small `BiGSBackbone`.

    The defaults make a model small enough to train on a laptop CPU in
    minutes (about 4.3M parameters, 3.9M of them the token embedding) and
    big enough to learn SST-2.

    Args:
        sequence_length: int. The backbone's `max_sequence_length`.
        vocabulary_size: int. The uncased BERT vocabulary's size by
            default, which `BiGSTokenizer` uses.
        num_layers: int. BiGS layers.
        hidden_dim: int. Width of the residual stream.
        intermediate_dim: int. Width of the gated feed-forward path.
        state_dim: int. State size of each SSM.
        block_type: `"gated"` (BiGS) or `"stack"`: the paper's
            architecture ablation (see `BiGSBackbone`).
        routing: `"ssm"` or `"attention"`: the paper's routing ablation.
        num_heads: int. Attention heads with `routing="attention"`;
            default `hidden_dim // 64`.
        padding_invariant: bool. Keep padding out of the SSMs (see
            `BiGSBackbone`).
        dt_min, dt_max: floats. Range of the SSMs' initial step sizes
            (see `BiGSBackbone`).
        remat: bool. Recompute each layer in the backward pass (see
            `BiGSBackbone`).

    Returns:
        A `BiGSBackbone`.

    Example:
    ```python
    from keras_bigs.training import small_backbone

    backbone = small_backbone(64)
    backbone.count_params()  # 4262792
    ```
    """
    return BiGSBackbone(
        vocabulary_size=vocabulary_size,
        num_layers=num_layers,
        hidden_dim=hidden_dim,
        intermediate_dim=intermediate_dim,
        state_dim=state_dim,
        max_sequence_length=sequence_length,
        block_type=block_type,
        routing=routing,
        num_heads=num_heads,
        padding_invariant=padding_invariant,
        dt_min=dt_min,
        dt_max=dt_max,
        remat=remat,
    )


def small_architecture(backbone):
    """The architecture arguments of `small_backbone` that `backbone` was
    built with, for a results file.

    Args:
        backbone: a `BiGSBackbone`.

    Returns:
        dict: every argument of `small_backbone` but the sequence length
        and `remat` (how it trains, not what it computes):
        `vocabulary_size`, `num_layers`, `hidden_dim`, ..., from the
        backbone's config.

    Example:
    ```python
    from keras_bigs.training import small_backbone
    from keras_bigs.training.small_bigs import small_architecture

    small_architecture(small_backbone(64))["hidden_dim"]  # 128
    ```
    """
    config = backbone.get_config()
    names = list(inspect.signature(small_backbone).parameters)[1:]
    return {name: config[name] for name in names if name != "remat"}
