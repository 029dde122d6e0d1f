"""Tokenizers, in keras-hub's shape (`keras_bigs.tokenizers.BiGSTokenizer`)."""

from keras_bigs.models.bigs_tokenizer import BiGSTokenizer

__all__ = ["BiGSTokenizer"]
