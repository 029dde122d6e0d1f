"""Connecting TensorFlow to a Cloud TPU, with a clear error where none
answers."""

import os
import socket
from urllib.parse import urlparse

import tensorflow as tf

# How long to wait for a TCP connection to a `grpc://` TPU address before
# declaring it unreachable.
TPU_CONNECT_TIMEOUT_S = 10.0


class TPUNotFoundError(RuntimeError):
    """No TPU could be reached at the given name or address."""


def _check_grpc_reachable(tpu):
    address = urlparse(tpu)
    host, port = address.hostname, address.port or 8470
    try:
        with socket.create_connection(
            (host, port), timeout=TPU_CONNECT_TIMEOUT_S
        ):
            pass
    except OSError as error:
        raise TPUNotFoundError(
            f"No TPU found at tpu={tpu!r}: cannot connect to {host}:{port} "
            f"({error}). Check the address, or pass the TPU's name (or "
            "'local' on a TPU VM)."
        ) from error


def connect_tpu(tpu):
    """A `tf.distribute.TPUStrategy` on the TPU `tpu` (a name, a
    `grpc://` address or `"local"`; default `$TPU_NAME`).

    Raises:
        TPUNotFoundError: no TPU answers there.
    """
    tpu = tpu or os.environ.get("TPU_NAME")
    if not tpu:
        raise TPUNotFoundError(
            "No TPU found: pass `tpu=` (a Cloud TPU name, a grpc:// "
            "address, or 'local' on a TPU VM) or set $TPU_NAME."
        )
    # Where nothing answers, TF would wait on gRPC's connection retries; a
    # TCP connect bounded by TPU_CONNECT_TIMEOUT_S fails first, and before
    # TF's eager context is pointed at the remote cluster.
    if tpu.startswith("grpc://"):
        _check_grpc_reachable(tpu)
    try:
        # A name is resolved through the GCE metadata server: off Google
        # Cloud the lookup fails at once (the host does not resolve).
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
        if tpu != "local":
            tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (OSError, ValueError, RuntimeError, tf.errors.OpError) as error:
        raise TPUNotFoundError(
            f"No TPU found at tpu={tpu!r}: {type(error).__name__}: "
            f"{(str(error).strip().splitlines() or [''])[0]}"
        ) from error
    return tf.distribute.TPUStrategy(resolver)
