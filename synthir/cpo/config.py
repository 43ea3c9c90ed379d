"""The ``cpo:`` block: CPO + LoRA settings, apart from the trainer so that checking a config does not import torch or TRL."""

from __future__ import annotations

from typing import List, Literal, Union

from pydantic import Field

from synthir.config import ConfigBlock
from synthir.training.config import TrainerSettings

LOSS_TYPES = ("sigmoid", "hinge", "ipo", "simpo")
SAVE_FORMATS = ("merged", "adapter")


class CPOTrainingConfig(ConfigBlock, TrainerSettings):
    """``cpo:``: CPO + LoRA on the preference pairs (TRL's ``CPOTrainer``)."""

    yaml_path = "cpo"
    base_model: str = Field("package:smollm2-135m-instruct", description="the student being tuned")
    loss_type: Literal[LOSS_TYPES] = Field("sigmoid", description="sigmoid | hinge | ipo | simpo (TRL's CPO losses)")
    beta: float = Field(0.1, gt=0, description="preference temperature")
    cpo_alpha: float = Field(1.0, ge=0, description="weight of the NLL term on chosen completions (0 with simpo: pure SimPO)")
    simpo_gamma: float = Field(0.5, description="target reward margin, simpo only")
    learning_rate: float = Field(5e-5, gt=0, description="peak learning rate")
    batch_size: int = Field(4, ge=1, description="pairs per device and step")
    max_length: int = Field(512, ge=1, description="prompt + completion tokens")
    lora_r: int = Field(16, ge=1, description="LoRA rank")
    lora_alpha: int = Field(32, ge=1, description="LoRA scaling")
    lora_dropout: float = Field(0.05, ge=0, lt=1, description="LoRA dropout")
    lora_target_modules: Union[str, List[str]] = Field("all-linear", description='"all-linear" or a list of module names')
    save: Literal[SAVE_FORMATS] = Field(
        "merged", description="merged: LoRA folded into the weights | adapter: the adapter plus the base reference")
    save_steps: int = Field(50, ge=1, description="steps between checkpoints")
    logging_steps: int = Field(5, ge=1, description="steps between logged losses")
