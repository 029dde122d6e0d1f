"""The published BiGS checkpoints: each name points at the original
authors' Hugging Face repository (the original Flax/PyTorch layout),
converted on load."""


def _preset(repo, sequence_length, training_tokens, description):
    return {
        "metadata": {
            "description": description,
            "params": "about 110M (BERT-base size)",
            "sequence_length": sequence_length,
            "training_tokens": training_tokens,
            "source": f"https://huggingface.co/{repo}",
            "path": "bigs",
        },
        "kaggle_handle": f"hf://{repo}",
    }


BIGS_PRESETS = {
    "bigs_128_en": _preset(
        "JunxiongWang/BiGS_128",
        128,
        "~97B",
        "BiGS pretrained (masked LM) on English text at 128 tokens.",
    ),
    "bigs_512_en": _preset(
        "JunxiongWang/BiGS_512",
        512,
        "~108B",
        "BiGS pretrained (masked LM) on English text at 512 tokens.",
    ),
    "bigs_1024_en": _preset(
        "JunxiongWang/BiGS_1024",
        1024,
        "~110B",
        "BiGS pretrained (masked LM), continued at 1,024 tokens.",
    ),
    "bigs_4096_en": _preset(
        "JunxiongWang/BiGS_4096",
        4096,
        "~110B",
        "BiGS pretrained (masked LM), continued at 4,096 tokens.",
    ),
    "bigs_128_en_mnli": _preset(
        "JunxiongWang/BiGS_128_MNLI",
        128,
        "~97B",
        "bigs_128_en fine-tuned on MNLI (3-way classification).",
    ),
    "bigs_512_en_mnli": _preset(
        "JunxiongWang/BiGS_512_MNLI",
        512,
        "~108B",
        "bigs_512_en fine-tuned on MNLI (3-way classification).",
    ),
}
