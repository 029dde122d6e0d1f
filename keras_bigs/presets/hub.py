"""Registered preset names -> the Hugging Face cache or the hub.

A registered name points at the original authors' Hugging Face repository.
It is read from the local Hugging Face cache when the files are there, and
downloaded otherwise; without network it fails at once, naming what it
tried, instead of waiting on retries.
"""

import os
import socket
import urllib.parse

from huggingface_hub import constants
from huggingface_hub import try_to_load_from_cache

from keras_bigs.convert.readers import WEIGHT_FILES

HUB_CONNECT_TIMEOUT_S = 5.0


def hub_reachable(timeout=HUB_CONNECT_TIMEOUT_S):
    """Whether the Hugging Face hub answers (and offline mode is off)."""
    if constants.HF_HUB_OFFLINE or os.environ.get("HF_HUB_OFFLINE") == "1":
        return False
    host = urllib.parse.urlparse(constants.ENDPOINT).hostname
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def cached_snapshot(repo):
    """The local snapshot folder of `repo` if its config and weights are in
    the Hugging Face cache, else `None`."""
    config = try_to_load_from_cache(
        repo, "config.json", cache_dir=constants.HF_HUB_CACHE
    )
    if not isinstance(config, str):
        return None
    folder = os.path.dirname(config)
    if any(os.path.exists(os.path.join(folder, f)) for f in WEIGHT_FILES):
        return folder
    return None


def resolve_registered_preset(name, handle):
    """A registered preset -> its cached snapshot, else its `hf://` handle.

    Args:
        name: str. The registered name (`"bigs_512_en"`).
        handle: str. Its `hf://owner/repo` handle.

    Raises:
        ConnectionError: neither cached nor reachable; the message names the
            handle and the commands to fetch and convert it elsewhere.
    """
    repo = handle.removeprefix("hf://")
    folder = cached_snapshot(repo)
    if folder is not None:
        return folder
    if not hub_reachable():
        raise ConnectionError(
            f"Preset {name!r} is downloaded from {handle} "
            f"(https://huggingface.co/{repo}), which is not in the local "
            f"Hugging Face cache and cannot be reached from here. On a "
            f"machine with network, run `huggingface-cli download {repo} "
            f"--local-dir BiGS_folder`, copy the folder here, then load it "
            f"with `from_preset('BiGS_folder')`, or convert it once with "
            f"`python tools/convert_checkpoint.py BiGS_folder "
            f"{name}_keras` and load `{name}_keras`."
        )
    return handle
