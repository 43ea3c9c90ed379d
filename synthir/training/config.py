"""The ``training:`` block (reranker) and the trainer settings it shares with ``cpo:``."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field, field_validator, model_validator

from synthir.config import ConfigBlock, StrictModel, config_hash
from synthir.models import RERANKER_TYPES


class TrainerSettings(StrictModel):
    """What ``training_arguments`` hands the Hugging Face trainers (reranker and CPO alike)."""

    learning_rate: float = Field(2e-5, gt=0, description="peak learning rate")
    lr_scheduler_type: str = Field("linear", description="transformers' schedule: linear | constant | "
                                   "constant_with_warmup | cosine | ...")
    optim: str = Field("adamw_torch", description="transformers' optimiser: adamw_torch | adafactor | ...")
    warmup_ratio: float = Field(0.1, ge=0, lt=1, description="share of the steps spent warming up")
    epochs: float = Field(1.0, gt=0, description="passes over the data (max_steps > 0 overrides)")
    max_steps: int = Field(-1, ge=-1, description="optimiser steps; -1: from epochs")
    batch_size: int = Field(32, ge=1, description="examples per device and step")
    gradient_accumulation_steps: int = Field(1, ge=1, description="steps accumulated per update (effective batch = batch_size x this)")
    seed: int = Field(42, description="shuffling and initialisation seed")
    save_steps: int = Field(200, ge=1, description="steps between checkpoints (a killed run resumes from the last)")
    logging_steps: int = Field(10, ge=1, description="steps between logged losses")
    cpu_bf16: bool = Field(True, description="bf16 autocast on CPUs that support it (AVX512-BF16/AMX)")

    @field_validator("lr_scheduler_type")
    @classmethod
    def _known_schedule(cls, value: str) -> str:
        from transformers.trainer_utils import SchedulerType

        choices = [s.value for s in SchedulerType]
        if value not in choices:
            raise ValueError(f"choose one of {choices}")
        return value

    @field_validator("optim")
    @classmethod
    def _known_optimiser(cls, value: str) -> str:
        from transformers.training_args import OptimizerNames

        if value not in {o.value for o in OptimizerNames}:
            raise ValueError("choose one of transformers' optimisers (adamw_torch, adafactor, sgd, ...)")
        return value


class RerankerTrainingConfig(ConfigBlock, TrainerSettings):
    """``training:``: the reranker trained on the synthetic triples."""

    yaml_path = "training"
    model_type: Literal[RERANKER_TYPES] = Field(
        "bi-encoder", description="bi-encoder (sentence-transformers, MNRL) | cross-encoder (BCE) | monot5 (seq2seq true/false)")
    base_model: str = Field("package:all-minilm-l6-v2", description="model reference: package:, hf:, registry:, or a folder")
    max_length: int = Field(256, ge=1, description="tokens per input; stored with the model and used wherever it scores")
    init_from: Literal["base", "production"] = Field(
        "base", description="base: train base_model on every triple | production: fine-tune the registry's production "
                            "reranker on the triples about documents new or changed since it was trained, plus replay "
                            "(base_model when there is no production version yet)")
    replay_ratio: float = Field(1.0, ge=0, description="with init_from: production, triples about documents production "
                                                       "already saw, replayed per new triple (a seeded sample; 0: none)")
    loss: Literal["auto", "mnrl", "cached_mnrl", "gist", "margin_mse", "mnrl_margin_mse"] = Field(
        "auto", description="bi-encoder loss: auto (mnrl_margin_mse for a bi-encoder; cross-encoder and monot5 train with "
                            "their own loss) | mnrl (in-batch plus BM25 negatives) | cached_mnrl (the same, memory-bounded "
                            "for large batches) | gist (MNRL guided by the untrained base model, which drops in-batch "
                            "negatives it rates above the positive) | margin_mse (distils the margins of a teacher: the "
                            "base model fused with BM25, see teacher_weight; GPL's recipe without a cross-encoder) | "
                            "mnrl_margin_mse (both on the same embeddings, margin_mse scaled by distillation_weight; "
                            "the best on CISI, see benchmarks/reranker_quality.py)")
    teacher_depth: Optional[int] = Field(None, ge=1, description="with a margin_mse loss, BM25 hits per query the "
                                         "teacher grades (its pool, the step's cost); null: negative_depth")
    teacher_weight: float = Field(0.5, ge=0, le=1, description="with a margin_mse loss, the base model's share of the "
                                                               "fused teacher (the rest is BM25, min-max per query)")
    teacher_model: Optional[str] = Field(
        None, description="with a margin_mse loss, a cross-encoder whose grades of each triple's pairs are the teacher "
                          "(GPL's recipe; e.g. hf:cross-encoder/ms-marco-MiniLM-L6-v2 on a GPU stack), rescaled to "
                          "the base model's margins | null: the base model fused with BM25 (teacher_weight)")
    teacher_encoders: list[str] = Field(
        default_factory=list, description="with a margin_mse loss and the fused teacher, more bi-encoders (model "
        "references) that grade each query's pool beside the base model: every encoder's cosines, min-max per query, "
        "are averaged before BM25 is fused in at teacher_weight; e.g. [package:all-mpnet-base-v2] (a stronger teacher "
        "than the student; about 4x the base model's encoding time on CPU, stated before the step encodes)")
    teacher_likelihood_model: Optional[str] = Field(
        None, description="with a margin_mse loss and the fused teacher, a causal LM whose query likelihood (UPR: mean "
                          "log P(query | a prompt holding the document)) grades each query's pool and is fused into "
                          "the teacher there; e.g. package:smollm2-135m-instruct (a forward pass per pair: about 0.06 s "
                          "on 2 bf16 CPU cores) | null: off")
    teacher_likelihood_share: float = Field(0.5, gt=0, le=1, description="with teacher_likelihood_model, query "
                                            "likelihood's share of the fused grade (min-max per query over the pool)")
    teacher_likelihood_depth: int = Field(10, ge=0, description="with teacher_likelihood_model, the pool it grades: "
                                          "the teacher's top teacher_likelihood_depth per query plus the triples' own "
                                          "documents")
    teacher_anchor_positive: bool = Field(True, description="with a margin_mse loss, count each query's own document as "
                                                            "the teacher's best candidate (it was written from it)")
    distillation_weight: float = Field(10.0, gt=0, description="with loss: mnrl_margin_mse, the weight of the MarginMSE "
                                                               "term (on cosine margins it is ~0.02 where MNRL is ~0.5)")
    batch_sampler: Literal["no_duplicates", "random"] = Field(
        "no_duplicates", description="bi-encoder losses with in-batch negatives (mnrl, cached_mnrl, gist, "
        "mnrl_margin_mse): no_duplicates (no text twice in a batch, sentence-transformers' NoDuplicatesBatchSampler: "
        "a copy of a query's positive elsewhere in the batch, as when a document has several queries or is another "
        "query's BM25 negative, would count as its negative) | random (the trainer's default batches)")

    negative_miner: Literal["bm25", "base_model"] = Field(
        "bm25", description="where each query's hard negatives come from: bm25 (sampled from BM25's top negative_depth, "
                            "the positive excluded) | base_model (mined by the untrained base model with "
                            "sentence-transformers' mine_hard_negatives from its ranks negative_skip+1..negative_depth, "
                            "guarded by negative_margin; bi-encoder base models)")
    negative_skip: int = Field(0, ge=0, description="with negative_miner: base_model, top ranks never taken as negatives "
                                                    "(the likeliest false negatives)")
    negative_margin: float = Field(0.05, ge=0, lt=1, description="with negative_miner: base_model, the false-negative "
                                   "guard: a negative scores at least this share below the positive "
                                   "(mine_hard_negatives' relative_margin; 0: off)")
    dev_fraction: float = Field(0.0, ge=0, lt=0.5, description="share of the synthetic queries' documents kept out of "
                                "training as a label-free dev set (each dev query re-ranks its BM25 top dev_depth, its "
                                "source document relevant); the trainer scores dev nDCG@10 every save_steps or epoch, "
                                "whichever comes first, logs it, and ends on the best checkpoint | 0: off (the last "
                                "checkpoint); bi-encoder and cross-encoder")
    dev_depth: int = Field(20, ge=1, description="with a dev set, BM25 candidates each dev query re-ranks")
    early_stopping_patience: Optional[int] = Field(
        None, ge=1, description="with a dev set, dev evaluations without a better nDCG@10 before training stops "
                                "(transformers' EarlyStoppingCallback; epochs is then the most it trains) | null: train "
                                "every epoch, end on the best checkpoint")

    @property
    def bi_encoder_loss(self) -> str | None:
        """The loss ``auto`` stands for: None for the model types with a loss of their own."""
        if self.model_type != "bi-encoder":
            return None
        return "mnrl_margin_mse" if self.loss == "auto" else self.loss

    def triples_options(self) -> dict:
        """What ``build_training_triples`` takes from this block: the dev split and the negative miner."""
        return {"dev_fraction": self.dev_fraction, "dev_depth": self.dev_depth, "negative_miner": self.negative_miner,
                "negative_skip": self.negative_skip, "negative_margin": self.negative_margin,
                "miner_model": self.base_model}

    @property
    def in_batch_negatives(self) -> bool:
        """Whether the bi-encoder loss scores each query against the batch's other documents."""
        return self.bi_encoder_loss in ("mnrl", "cached_mnrl", "gist", "mnrl_margin_mse")

    @property
    def uses_teacher(self) -> bool:
        """Whether the triples need the teacher's margins (``add_teacher_margins``) before training."""
        return self.bi_encoder_loss in ("margin_mse", "mnrl_margin_mse")

    @model_validator(mode="after")
    def _loss_fits_model_type(self):
        if self.loss != "auto" and self.model_type != "bi-encoder":
            raise ValueError(f"training.loss {self.loss!r} is for bi-encoders; model_type {self.model_type!r} trains "
                             "with its own loss (set loss: auto, the default)")
        return self

    @model_validator(mode="after")
    def _teacher_is_used(self):
        for name in ("teacher_model", "teacher_likelihood_model", "teacher_encoders"):
            if getattr(self, name) and not self.uses_teacher:
                raise ValueError(f"training.{name} grades pairs for a distilling loss: set loss: margin_mse or "
                                 f"mnrl_margin_mse (bi-encoder), or leave {name} empty")
        return self

    @model_validator(mode="after")
    def _likelihood_joins_the_fused_teacher(self):
        for name in ("teacher_likelihood_model", "teacher_encoders"):
            if getattr(self, name) and self.teacher_model:
                raise ValueError(f"training.{name} joins the offline teacher (the base model fused with BM25); a "
                                 f"cross-encoder teacher_model grades alone: leave one of them empty")
        return self

    @model_validator(mode="after")
    def _dev_set_fits(self):
        if self.early_stopping_patience is not None and not self.dev_fraction:
            raise ValueError("training.early_stopping_patience stops on the dev set: set training.dev_fraction "
                             "(for example 0.1) or leave early_stopping_patience null")
        if self.negative_miner == "base_model" and self.model_type != "bi-encoder":
            raise ValueError(f"training.negative_miner: base_model mines with a bi-encoder's embeddings; model_type "
                             f"{self.model_type!r} has none (use negative_miner: bm25)")
        if self.dev_fraction and self.model_type == "monot5":
            raise ValueError("training.dev_fraction: model selection on the dev set is for bi-encoder and "
                             "cross-encoder; monot5 trains for its epochs (set dev_fraction: 0)")
        return self


def training_run_key(config: RerankerTrainingConfig, triples, init_model: str | None = None) -> str:
    """The checkpoint folder's name: the whole config, the triples' content and the model training
    starts from. Other filters or negatives with the same number of triples train anew instead of
    resuming (and returning) another run's final checkpoint."""
    extra = () if init_model in (None, config.base_model) else (init_model,)
    return config_hash(config, triples.corpus_fingerprint, triples.fingerprint(), *extra)
