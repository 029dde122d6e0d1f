"""The layers of BiGS, backend-agnostic (`keras.ops` only)."""

from keras_bigs.layers.bigs_block import BiGSBlock
from keras_bigs.layers.gated_ffn import GatedFFN
from keras_bigs.layers.s4d import S4DConv
from keras_bigs.layers.stack_block import BidirectionalSSM
from keras_bigs.layers.stack_block import StackBlock

__all__ = [
    "BiGSBlock",
    "BidirectionalSSM",
    "GatedFFN",
    "S4DConv",
    "StackBlock",
]
