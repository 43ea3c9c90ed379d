"""CPO with LoRA: TRL's ``CPOTrainer`` (``trl.experimental.cpo``) on the preference pairs.

Checkpoints go to ``<output_dir>/checkpoints`` and a re-run with the same configuration resumes from
the last one. The result is saved atomically as merged weights (a plain transformers model any
backend loads) or as the adapter alone plus a reference to its base model; either way
``synthir_generator.json`` in the folder says which.

bf16: TRL's configs turn bf16 on by default; on a CPU without AVX512-BF16/AMX that emulates every
matmul and made a 135M-parameter step ~15x slower here (24 s vs 1.6 s). We decide it as for the
rerankers: on GPUs that have it, and on CPUs that have it.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import List, Literal, Union

import torch
from pydantic import Field

from synthir.config import ConfigBlock
from synthir.cpo.preferences import PreferencePairs
from synthir.data.io import atomic_folder
from synthir.models import generator_prompt_source, read_generator_marker, write_generator_marker
from synthir.training.config import TrainerSettings
from synthir.training.rerankers import last_checkpoint, training_arguments

logger = logging.getLogger(__name__)

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


@dataclass
class GeneratorTrainingResult:
    model_dir: Path  # what to register: merged weights or the adapter
    adapter_dir: Path
    losses: list[float]
    history: list[dict[str, float]]  # the trainer's log entries (loss, rewards/*, logps/*, nll_loss)
    steps: int
    adapter_norm: float  # L2 norm of the LoRA B matrices: 0 at initialisation, so > 0 means training moved them
    config: dict


def lora_b_norm(model: torch.nn.Module) -> float:
    squares = [p.detach().float().pow(2).sum() for name, p in model.named_parameters() if "lora_B" in name]
    return float(torch.stack(squares).sum().sqrt()) if squares else 0.0


def train_generator(pairs: PreferencePairs, config: CPOTrainingConfig, output_dir: str | Path) -> GeneratorTrainingResult:
    """CPO + LoRA on ``pairs``; saves to ``<output_dir>/adapter`` and, when merging, ``<output_dir>/model``."""
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl.experimental.cpo import CPOConfig, CPOTrainer

    from synthir.generation.backends.local import pick_dtype
    from synthir.models import resolve_model

    if len(pairs) == 0:
        raise ValueError("no preference pairs: every candidate triple tied or repeated itself; add references or "
                         "use a teacher that differs more from the student")
    output_dir = Path(output_dir)
    base_path = resolve_model(config.base_model)
    tokenizer = AutoTokenizer.from_pretrained(base_path)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    on_gpu = torch.cuda.is_available()
    # fp32 master weights on CPU; bf16/fp16 weights on GPU (the LoRA adapters train in fp32 either way)
    model = AutoModelForCausalLM.from_pretrained(base_path, dtype=pick_dtype("auto", "cuda") if on_gpu else torch.float32)
    args = training_arguments(
        CPOConfig, config, output_dir, beta=config.beta, cpo_alpha=config.cpo_alpha, loss_type=config.loss_type,
        simpo_gamma=config.simpo_gamma, max_length=config.max_length, remove_unused_columns=False,
    )
    lora = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                      target_modules=config.lora_target_modules, task_type="CAUSAL_LM")
    trainer = CPOTrainer(model=model, args=args, train_dataset=Dataset.from_list(pairs.training_rows()),
                         processing_class=tokenizer, peft_config=lora)
    resume = last_checkpoint(output_dir)
    if resume:
        logger.info("Resuming CPO training from %s", resume)
    output = trainer.train(resume_from_checkpoint=resume)
    history = [{k: float(v) for k, v in entry.items() if isinstance(v, (int, float))}
               for entry in trainer.state.log_history if "loss" in entry]
    losses = [entry["loss"] for entry in history] or [float(output.training_loss)]
    norm = lora_b_norm(trainer.model)

    # how the student was prompted during tuning: the registered generator prompts the same way
    marker = {"base_model": config.base_model, "prompt_id": pairs.prompt_id, "num_examples": pairs.num_examples,
              "max_doc_tokens": pairs.max_doc_tokens}
    adapter_dir = model_dir = output_dir / "adapter"
    with atomic_folder(adapter_dir) as folder:
        trainer.model.save_pretrained(str(folder))
        tokenizer.save_pretrained(str(folder))
        write_generator_marker(folder, "adapter", marker, pairs.prompt_source)
    if config.save == "merged":
        model_dir = output_dir / "model"
        with atomic_folder(model_dir) as folder:
            trainer.model.merge_and_unload().save_pretrained(str(folder))
            tokenizer.save_pretrained(str(folder))
            write_generator_marker(folder, "merged", marker, pairs.prompt_source)
    return GeneratorTrainingResult(model_dir, adapter_dir, losses, history, int(output.global_step), norm, config.model_dump())


def merge_adapter(adapter_dir: Path, target: Path) -> Path:
    """Fold a registered adapter into its base model once, saved as a plain transformers folder."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from synthir.models import resolve_model

    marker = read_generator_marker(adapter_dir)
    base = AutoModelForCausalLM.from_pretrained(resolve_model(marker["base_model"]), dtype=torch.float32)
    merged = PeftModel.from_pretrained(base, str(adapter_dir)).merge_and_unload()
    tokenizer = AutoTokenizer.from_pretrained(adapter_dir)

    with atomic_folder(target) as folder:
        merged.save_pretrained(str(folder))
        tokenizer.save_pretrained(str(folder))
        write_generator_marker(folder, "merged", {k: v for k, v in marker.items() if k not in ("format", "prompt_file")},
                               generator_prompt_source(adapter_dir))
    return target
