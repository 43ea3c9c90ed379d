"""Reranker training with the Hugging Face stack (scoring a trained model: ``synthir.retrieval.reranker``).

- ``bi-encoder``: sentence-transformers, MultipleNegativesRankingLoss (in-batch negatives plus the
  BM25 hard negative of each triple); the Promptagator/GPL route, offline from all-MiniLM-L6-v2.
- ``cross-encoder``: sentence-transformers CrossEncoder with a fresh one-logit head on any encoder,
  binary cross-entropy on (query, positive)=1 / (query, negative)=0.
- ``monot5``: a seq2seq model trained as in InPars: input "Query: ... Document: ... Relevant:",
  target "true" or "false"; the score is the log-probability of "true" against "false" at the first
  decoder step. Needs a T5 checkpoint (e.g. ``hf:castorini/monot5-base-msmarco``, or ``hf:t5-base``).

Training writes checkpoints every ``save_steps`` into ``<output_dir>/checkpoints`` and resumes from
the last one when started again; the trainers show progress bars and, inside an MLflow run, log
their loss curves to it.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path

import torch

from synthir.models import write_reranker_marker
from synthir.retrieval.reranker import MONOT5_TEMPLATE
from synthir.runtime import pick_device
from synthir.training.config import RerankerTrainingConfig
from synthir.training.triples import Triples

logger = logging.getLogger(__name__)


def training_arguments(args_class, config, output_dir: Path, **extra):
    """Trainer arguments shared by reranker and generator training (``config`` has the common fields:
    learning_rate, lr_scheduler_type, optim, epochs, max_steps, batch_size, gradient_accumulation_steps,
    seed, save_steps, logging_steps, warmup_ratio, cpu_bf16); ``extra`` adds or overrides trainer-specific ones."""
    import mlflow

    from synthir.runtime import cpu_supports_bf16

    on_gpu = torch.cuda.is_available()
    # bf16 autocast: on GPUs that support it, and on CPUs with AVX512-BF16/AMX (~2x faster steps here)
    bf16 = torch.cuda.is_bf16_supported() if on_gpu else (config.cpu_bf16 and cpu_supports_bf16())
    # transformers 5 takes the warm-up fraction as a float `warmup_steps`; sentence-transformers keeps `warmup_ratio`
    names = {f.name for f in dataclasses.fields(args_class)}
    warmup = {"warmup_ratio": config.warmup_ratio} if "warmup_ratio" in names else {"warmup_steps": config.warmup_ratio}
    arguments = dict(
        **warmup,
        output_dir=str(output_dir / "checkpoints"),
        learning_rate=config.learning_rate,
        lr_scheduler_type=config.lr_scheduler_type,
        optim=config.optim,
        num_train_epochs=config.epochs,
        max_steps=config.max_steps,
        per_device_train_batch_size=config.batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        seed=config.seed,
        save_strategy="steps",
        save_steps=config.save_steps,
        save_total_limit=2,
        logging_steps=config.logging_steps,
        bf16=bf16,
        use_cpu=not on_gpu,
        report_to=["mlflow"] if mlflow.active_run() else "none",
        dataloader_drop_last=False,
    )
    return args_class(**{**arguments, **extra})


def last_checkpoint(output_dir: Path) -> str | None:
    """The newest **complete** checkpoint under ``<output_dir>/checkpoints``, for the reranker and CPO
    trainers alike. The trainer writes ``trainer_state.json`` last, so a checkpoint without a readable
    one was cut short (a ``kill -9`` while saving): resuming from it fails on every rerun, so it is
    skipped and named in the log, and training resumes from the one before."""
    import json
    import re

    folder = output_dir / "checkpoints"
    if not folder.is_dir():
        return None
    steps = {int(m.group(1)): p for p in folder.iterdir() if p.is_dir() and (m := re.fullmatch(r"checkpoint-(\d+)", p.name))}
    for step in sorted(steps, reverse=True):
        state = steps[step] / "trainer_state.json"
        try:
            json.loads(state.read_text(encoding="utf-8"))
            return str(steps[step])
        except (OSError, ValueError) as err:
            logger.warning("Skipping the incomplete checkpoint %s (%s: its save was interrupted); resuming from an "
                           "earlier one", steps[step], "no trainer_state.json" if isinstance(err, OSError) else "a cut-short "
                           "trainer_state.json")
    return None


@dataclass
class TrainingResult:
    model_dir: Path
    losses: list[float]
    steps: int
    config: dict
    # with a dev set: dev nDCG@10 of the starting model, of each evaluation (step -> value) and of the
    # checkpoint training ended on
    dev: dict = dataclasses.field(default_factory=dict)


DEV_METRIC = "dev_ndcg@10"  # the evaluators' key; the trainer logs it as eval_dev_ndcg@10


def dev_evaluator(triples: Triples, config: RerankerTrainingConfig):
    """sentence-transformers' re-ranking evaluator on the dev set, or None when ``dev_fraction`` is 0."""
    if not config.dev_fraction:
        return None
    samples = triples.dev_samples()
    if not samples:
        raise ValueError("training.dev_fraction is set but the triples have no dev set: build them with "
                         "build_triples(..., dev_fraction=...), as the pipeline does")
    if config.model_type == "bi-encoder":
        from sentence_transformers.sentence_transformer.evaluation import RerankingEvaluator

        return RerankingEvaluator(samples, at_k=10, name="dev", write_csv=False, batch_size=config.batch_size)
    from sentence_transformers.cross_encoder.evaluation import CrossEncoderRerankingEvaluator

    return CrossEncoderRerankingEvaluator(samples, at_k=10, name="dev", write_csv=False, batch_size=config.batch_size)


def selection_arguments(config: RerankerTrainingConfig, examples: int) -> dict:
    """Trainer arguments for model selection on the dev set: evaluate and checkpoint together every
    ``save_steps`` or once an epoch, whichever is sooner, and end on the best dev checkpoint."""
    import math

    steps_per_epoch = max(1, math.ceil(examples / (config.batch_size * config.gradient_accumulation_steps)))
    every = min(config.save_steps, steps_per_epoch)
    return dict(eval_strategy="steps", eval_steps=every, save_steps=every, load_best_model_at_end=True,
                metric_for_best_model=DEV_METRIC, greater_is_better=True)


def _select_and_train(trainer, model, evaluator, config: RerankerTrainingConfig, output_dir: Path):
    """``trainer.train()`` resumed from the last checkpoint; with a dev set, the starting model is
    scored first and the dev curve is returned beside the trainer's output."""
    dev = {}
    if evaluator is not None:
        dev["start"] = float(evaluator(model)[DEV_METRIC])
        if config.early_stopping_patience:
            from transformers import EarlyStoppingCallback

            trainer.add_callback(EarlyStoppingCallback(early_stopping_patience=config.early_stopping_patience))
    resume = last_checkpoint(output_dir)
    if resume:
        logger.info("Resuming reranker training from %s", resume)
    output = trainer.train(resume_from_checkpoint=resume)
    if evaluator is not None:
        key = f"eval_{DEV_METRIC}"
        dev["curve"] = {int(e["step"]): float(e[key]) for e in trainer.state.log_history if key in e}
        dev["best"] = float(trainer.state.best_metric) if trainer.state.best_metric is not None else dev["start"]
        best = trainer.state.best_model_checkpoint
        dev["best_step"] = int(best.rsplit("-", 1)[-1]) if best else int(output.global_step)
        if dev["best"] <= dev["start"]:
            logger.warning("The trained reranker does not beat its starting model on the dev set (dev nDCG@10 %.4f, "
                           "starting model %.4f): the synthetic data did not help on held-out synthetic queries",
                           dev["best"], dev["start"])
        else:
            logger.info("Dev nDCG@10: %.4f at step %d (starting model %.4f)", dev["best"], dev["best_step"], dev["start"])
    return output, dev


def train_reranker(triples: Triples, config: RerankerTrainingConfig, output_dir: str | Path,
                   init_model: str | None = None) -> TrainingResult:
    """Train and save the model to ``<output_dir>/model``; resumes from the last checkpoint.
    ``init_model`` (a model reference, e.g. the production version for a warm start) replaces
    ``config.base_model`` as the starting weights."""
    from datasets import Dataset

    from synthir.models import resolve_model

    output_dir = Path(output_dir)
    base = str(resolve_model(init_model or config.base_model))
    frame = triples.frame
    if frame.empty:
        raise ValueError("no training triples: every query was filtered out or had no negative")
    if config.model_type == "monot5":
        return _train_monot5(frame, base, config, output_dir)
    evaluator = dev_evaluator(triples, config)  # None without a dev split
    if config.model_type == "bi-encoder":
        from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer, SentenceTransformerTrainingArguments

        model = SentenceTransformer(base, device=pick_device("auto"))
        model.max_seq_length = config.max_length
        dataset = triples.to_dataset()
        loss = bi_encoder_loss(model, config, dataset.column_names)
        columns = ["anchor", "positive", "negative"] + (["label"] if config.uses_teacher else [])
        extra = selection_arguments(config, len(dataset)) if evaluator else {}
        if config.in_batch_negatives and config.batch_sampler == "no_duplicates":
            from sentence_transformers.training_args import BatchSamplers

            extra["batch_sampler"] = BatchSamplers.NO_DUPLICATES
        arguments = training_arguments(SentenceTransformerTrainingArguments, config, output_dir, **extra)
        trainer = SentenceTransformerTrainer(model=model, args=arguments, train_dataset=dataset.select_columns(columns),
                                             loss=loss, evaluator=evaluator)
    else:
        from sentence_transformers.cross_encoder import CrossEncoder, CrossEncoderTrainer, CrossEncoderTrainingArguments
        from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss

        model = CrossEncoder(base, num_labels=1, max_length=config.max_length)
        dataset = Dataset.from_dict({
            "query": list(frame["query"]) * 2,
            "document": list(frame["positive"]) + list(frame["negative"]),
            "label": [1.0] * len(frame) + [0.0] * len(frame),
        }).shuffle(seed=config.seed)
        selection = selection_arguments(config, len(dataset)) if evaluator else {}
        arguments = training_arguments(CrossEncoderTrainingArguments, config, output_dir, **selection)
        trainer = CrossEncoderTrainer(model=model, args=arguments, train_dataset=dataset,
                                      loss=BinaryCrossEntropyLoss(model), evaluator=evaluator)
    output, dev = _select_and_train(trainer, model, evaluator, config, output_dir)
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    if not losses:  # fewer steps than logging_steps: the trainer's mean loss is all there is
        losses = [float(output.training_loss)]
    model_dir = output_dir / "model"
    model.save_pretrained(str(model_dir))
    write_reranker_marker(model_dir, config.model_type, config.max_length)
    return TrainingResult(model_dir, losses, int(output.global_step), config.model_dump(), dev)


def bi_encoder_loss(model, config: RerankerTrainingConfig, columns: list[str]):
    """The sentence-transformers loss ``config.loss`` names (``columns``: the training dataset's)."""
    from sentence_transformers.sentence_transformer import losses

    loss = config.bi_encoder_loss
    if loss == "mnrl":
        return losses.MultipleNegativesRankingLoss(model)
    if loss == "cached_mnrl":  # gradient caching: the batch's in-batch negatives at a mini-batch's memory
        return losses.CachedMultipleNegativesRankingLoss(model, mini_batch_size=min(16, config.batch_size))
    if loss == "gist":
        from sentence_transformers import SentenceTransformer

        from synthir.models import resolve_model

        guide = SentenceTransformer(str(resolve_model(config.base_model)), device=pick_device("auto"))
        return losses.GISTEmbedLoss(model, guide=guide)
    if "label" not in columns:
        raise ValueError(f"training.loss {loss} needs teacher margins on the triples (a teacher_margin column): "
                         "build them with synthir.training.add_teacher_margins, as the pipeline does for this loss, or "
                         "set training.loss: mnrl")
    if loss == "margin_mse":
        return losses.MarginMSELoss(model)
    return RankingWithDistillationLoss(model, config.distillation_weight)


class RankingWithDistillationLoss(torch.nn.Module):
    """MNRL (the synthetic positive against in-batch and BM25 negatives) plus ``weight`` x MarginMSE
    (the teacher's margins), both from one forward pass: sentence-transformers' own losses, on the
    same embeddings."""

    def __init__(self, model, weight: float):
        from sentence_transformers.sentence_transformer import losses

        super().__init__()
        self.model, self.weight = model, weight
        self.ranking, self.distillation = losses.MultipleNegativesRankingLoss(model), losses.MarginMSELoss(model)

    def forward(self, sentence_features, labels):
        from sentence_transformers.base.losses.merged_forward import embed_columns

        embeddings = embed_columns(self.model, sentence_features)
        return (self.ranking.compute_loss_from_embeddings(embeddings, labels)
                + self.weight * self.distillation.compute_loss_from_embeddings(embeddings, labels))


def _train_monot5(frame, base: str, config: RerankerTrainingConfig, output_dir: Path) -> TrainingResult:
    from datasets import Dataset
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer, DataCollatorForSeq2Seq, Seq2SeqTrainer, Seq2SeqTrainingArguments

    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForSeq2SeqLM.from_pretrained(base)
    pairs = Dataset.from_dict({
        "source": [MONOT5_TEMPLATE.format(query=q, document=d) for q, d in zip(frame["query"], frame["positive"])]
        + [MONOT5_TEMPLATE.format(query=q, document=d) for q, d in zip(frame["query"], frame["negative"])],
        "target": ["true"] * len(frame) + ["false"] * len(frame),
    }).shuffle(seed=config.seed)

    def tokenize(batch):
        encoded = tokenizer(batch["source"], max_length=config.max_length, truncation=True)
        encoded["labels"] = tokenizer(text_target=batch["target"], max_length=4, truncation=True)["input_ids"]
        return encoded

    dataset = pairs.map(tokenize, batched=True, remove_columns=["source", "target"])
    trainer = Seq2SeqTrainer(model=model, args=training_arguments(Seq2SeqTrainingArguments, config, output_dir),
                             train_dataset=dataset, data_collator=DataCollatorForSeq2Seq(tokenizer, model=model))
    output = trainer.train(resume_from_checkpoint=last_checkpoint(output_dir))
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry] or [float(output.training_loss)]
    model_dir = output_dir / "model"
    model.save_pretrained(str(model_dir))
    tokenizer.save_pretrained(str(model_dir))
    write_reranker_marker(model_dir, "monot5", config.max_length)
    return TrainingResult(model_dir, losses, int(output.global_step), config.model_dump())
