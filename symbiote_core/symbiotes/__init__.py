"""Symbiotes: small networks grown on a host. Importing this registers every kind."""

from symbiote_core.symbiotes.batchtopk import BatchTopKConfig, BatchTopKSAE
from symbiote_core.symbiotes.jumprelu import JumpReLUConfig, JumpReLUSAE
from symbiote_core.symbiotes.matryoshka import MatryoshkaConfig, MatryoshkaSAE
from symbiote_core.symbiotes.probe import LinearProbe, ProbeConfig, train_probe_with_control
from symbiote_core.symbiotes.registry import (
    SYMBIOTES,
    dictionary_kinds,
    make_dictionary,
    make_symbiote,
    register,
)
from symbiote_core.symbiotes.relu import ReLUConfig, ReLUSAE
from symbiote_core.symbiotes.sae import Dictionary, DictionaryConfig, DictionaryOutput
from symbiote_core.symbiotes.topk import TopKConfig, TopKSAE
from symbiote_core.symbiotes.transcoder import (
    Transcoder,
    TranscoderConfig,
    splice_transcoder,
    transcoder_loss_recovered,
)

__all__ = [
    "SYMBIOTES",
    "BatchTopKConfig",
    "BatchTopKSAE",
    "Dictionary",
    "DictionaryConfig",
    "DictionaryOutput",
    "JumpReLUConfig",
    "JumpReLUSAE",
    "LinearProbe",
    "MatryoshkaConfig",
    "MatryoshkaSAE",
    "ProbeConfig",
    "ReLUConfig",
    "ReLUSAE",
    "TopKConfig",
    "TopKSAE",
    "Transcoder",
    "TranscoderConfig",
    "dictionary_kinds",
    "make_dictionary",
    "make_symbiote",
    "register",
    "splice_transcoder",
    "train_probe_with_control",
    "transcoder_loss_recovered",
]
