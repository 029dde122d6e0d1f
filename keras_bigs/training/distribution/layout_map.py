"""Model parallelism: which BiGS variables are sharded over which mesh
axis."""

import keras


def bigs_layout_map(device_mesh, model_axis="model"):
    """Variable layouts that shard BiGS's dense layers over `model_axis`.

    Megatron style: the layers that widen or enter a path (`dv`,
    `du_forward`, `du_backward`, `dol`; `ffn_in` of the STACK ablation;
    the masked-LM head's `intermediate_dense`) are split by output column,
    the layers that project back (`duc_forward`, `duc_backward`, `do`;
    `ffn_out`, `bissm_*/out`) by input row. The activations in between
    stay sharded without communication (the SSMs and the gating act
    channel by channel), and each projection ends in one all-reduce. The
    token embedding is split along the hidden axis
    (vocabulary sizes like 30522 rarely divide by the mesh), which also
    shards the tied masked-LM decoder. Everything else (SSM parameters,
    LayerNorms, position and segment embeddings, heads, attention of the
    routing ablation) is replicated.

    `hidden_dim` and `intermediate_dim` must be divisible by the size of
    `model_axis`. Keys are regexes over `variable.path`, with any prefix.

    Args:
        device_mesh: a `keras.distribution.DeviceMesh` with a `model_axis`.
        model_axis: str. Name of the mesh axis to shard over.

    Returns:
        A `keras.distribution.LayoutMap`.

    Example:
    ```python
    import keras
    from keras_bigs.training import bigs_layout_map

    # 8 TPU chips (jax backend): 2-way data x 4-way model parallelism.
    mesh = keras.distribution.DeviceMesh(
        shape=(2, 4), axis_names=("batch", "model"),
        devices=[f"tpu:{i}" for i in range(8)])
    distribution = keras.distribution.ModelParallel(
        layout_map=bigs_layout_map(mesh), batch_dim_name="batch")
    # Then `keras.distribution.set_distribution(distribution)` and build
    # the model (or use `setup_distribution("model_parallel", ...)`).
    ```
    """
    m = model_axis
    prefix = r"(.*/)?"
    bigs = prefix + r"bigs_layer_\d+/"
    stack = prefix + r"stack_layer_\d+/"
    layout_map = keras.distribution.LayoutMap(device_mesh)
    layout_map[prefix + r"token_embedding/embeddings"] = (None, m)
    # Column-parallel: split the output features.
    for widening in (
        bigs + r"(dv|du_forward|du_backward|gated_ffn/dol)",
        stack + r"ffn_in",
        prefix + r"mlm_head/intermediate_dense",
    ):
        layout_map[widening + "/kernel"] = (None, m)
        layout_map[widening + "/bias"] = (m,)
    # Row-parallel: split the input features; the bias is added after the
    # reduction, so it stays whole.
    for projecting in (
        bigs + r"(duc_forward|duc_backward|gated_ffn/do)",
        stack + r"(ffn_out|bissm_\d+/out)",
    ):
        layout_map[projecting + "/kernel"] = (m, None)
    return layout_map
