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

import torch

from synthir.cpo.config import CPOTrainingConfig
from synthir.cpo.preferences import PreferencePairs
from synthir.data.io import atomic_folder
from synthir.models import write_generator_marker
from synthir.training.rerankers import last_checkpoint, training_arguments

logger = logging.getLogger(__name__)

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

    from synthir.models import resolve_model
    from synthir.runtime import pick_dtype

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
