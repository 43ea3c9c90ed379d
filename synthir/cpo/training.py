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
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from synthir.config import from_mapping
from synthir.cpo.preferences import PreferencePairs
from synthir.data.io import atomic_folder
from synthir.models import generator_prompt_source, read_generator_marker, write_generator_marker
from synthir.training.rerankers import check_schedule, last_checkpoint, training_arguments

logger = logging.getLogger(__name__)

LOSS_TYPES = ("sigmoid", "hinge", "ipo", "simpo")
SAVE_FORMATS = ("merged", "adapter")


@dataclass
class CPOTrainingConfig:
    base_model: str = "package:smollm2-135m-instruct"  # the student being tuned
    loss_type: str = "sigmoid"  # sigmoid | hinge | ipo | simpo
    beta: float = 0.1
    cpo_alpha: float = 1.0  # weight of the NLL term on chosen completions (0 with simpo gives pure SimPO)
    simpo_gamma: float = 0.5  # target reward margin, simpo only
    learning_rate: float = 5e-5
    epochs: float = 1.0
    max_steps: int = -1  # > 0 overrides epochs
    batch_size: int = 4
    gradient_accumulation_steps: int = 1
    max_length: int = 512  # prompt + completion tokens
    warmup_ratio: float = 0.1
    lr_scheduler_type: str = "linear"  # transformers' schedule names: linear | constant | cosine | ...
    optim: str = "adamw_torch"  # transformers' optimiser names
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_target_modules: Any = "all-linear"  # "all-linear" or a list of module names
    save: str = "merged"  # merged: LoRA folded into the weights | adapter: the adapter plus the base reference
    seed: int = 42
    save_steps: int = 50
    logging_steps: int = 5
    cpu_bf16: bool = True  # bf16 autocast on CPUs that support it

    def __post_init__(self) -> None:
        if self.loss_type not in LOSS_TYPES:
            raise ValueError(f"cpo.loss_type must be one of {LOSS_TYPES}, got {self.loss_type!r}")
        if self.save not in SAVE_FORMATS:
            raise ValueError(f"cpo.save must be one of {SAVE_FORMATS}, got {self.save!r}")
        if self.beta <= 0:
            raise ValueError(f"cpo.beta must be > 0, got {self.beta}")
        if self.batch_size < 1 or self.lora_r < 1:
            raise ValueError("cpo.batch_size and cpo.lora_r must be >= 1")
        check_schedule(self, "cpo")

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> CPOTrainingConfig:
        return from_mapping(cls, data, "cpo")


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
    return GeneratorTrainingResult(model_dir, adapter_dir, losses, history, int(output.global_step), norm, asdict(config))


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
