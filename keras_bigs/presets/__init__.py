"""Loading presets: registered names (Hugging Face cache or hub), original
checkpoints and keras-hub preset folders, behind one `from_preset`."""
