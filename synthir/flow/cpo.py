"""Preference-tuning the query generator (InPars+'s CPO): the ``cpo_pipeline`` steps' twins one to one,
and ``run_cpo``, the whole pipeline without ZenML."""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, NamedTuple, Optional

from synthir import registry
from synthir.config import config_hash
from synthir.cpo import PreferenceConfig, PreferencePairs, QueryEvalConfig, QueryEvalScorer, references_from_qrels
from synthir.cpo.config import CPOTrainingConfig
from synthir.data import Corpus, Qrels, Queries
from synthir.data.errors import require_judgments
from synthir.data.synthetic import SyntheticQueries
from synthir.flow.stage import Staged
from synthir.generation import QueryGenerationConfig, load_prompt, make_backend
from synthir.generation.backends import LocalGenerator, LocalRuntime, as_generator_spec, pin_generator_spec
from synthir.generation.generate import DecodingConfig
from synthir.runtime import default_cache_dir
from synthir.tracking import log_artifact, log_metrics, log_params, record_figures, run_of_its_own, set_tags
from synthir.training.artifacts import GeneratorModel

logger = logging.getLogger(__name__)


def qrels_reference_queries(corpus: Corpus, queries: Queries, qrels: Qrels) -> Staged:
    """Every judged-relevant (query, document) pair as a reference row for the preference data."""
    require_judgments(len(qrels), "cpo_pipeline with references: qrels", "use references: synthetic (filtered "
                      "synthetic queries as references) for a corpus-only collection")
    references = references_from_qrels(queries, qrels, corpus, name=f"qrels:{qrels.name}")
    return Staged(references, {"references": len(references), "documents": len({r.doc_id for r in references})})


def build_preference_pairs(corpus: Corpus, references: SyntheticQueries, teacher: Any = None, student: Any = None,
                           prompt: str = "inpars", num_examples: int = 2,
                           preferences: PreferenceConfig | dict | None = None,
                           query_eval: QueryEvalConfig | dict | None = None,
                           checkpoint_root: Optional[str | Path] = None) -> PreferencePairs:
    """Teacher and student queries for the referenced documents, QueryEval scores, ALMA chosen/rejected.
    Generation checkpoints shard by shard, so a killed run resumes."""
    from synthir.cpo import build_preference_pairs as build_pairs

    teacher = as_generator_spec(teacher or LocalGenerator(model="package:gemma3-270m"))
    student = as_generator_spec(student or LocalGenerator())
    config = PreferenceConfig.from_dict(preferences)
    scorer = QueryEvalScorer(corpus, QueryEvalConfig.from_dict(query_eval))
    template = load_prompt(prompt, num_examples=num_examples)
    root = Path(checkpoint_root) if checkpoint_root else default_cache_dir() / "preferences"
    pairs = build_pairs(corpus, references, lambda: make_backend(teacher), lambda: make_backend(student), template,
                        scorer, config, checkpoint_root=root)
    log_params({**vars(config), "prompt": template.full_id, "teacher": pairs.teacher, "student": pairs.student,
                "reference_source": pairs.reference_source, **{f"query_eval_{k}": v for k, v in vars(scorer.config).items()}},
               prefix="preferences.")
    record_figures(pairs.figures, prefix="preferences.", teacher=pairs.teacher, student=pairs.student)
    set_tags({"teacher": pairs.teacher, "student": pairs.student})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "preference_pairs.jsonl"
        pairs.frame.to_json(path, orient="records", lines=True, force_ascii=False)
        log_artifact(path, "preferences")
    return pairs


def train_cpo_generator(pairs: PreferencePairs, cpo: CPOTrainingConfig | dict | None = None,
                        checkpoint_root: Optional[str | Path] = None) -> GeneratorModel:
    """CPO + LoRA on the preference pairs (TRL); checkpoints resume a killed run."""
    from synthir.cpo.training import train_generator  # torch and TRL only when the stage runs

    config = CPOTrainingConfig.from_dict(cpo)
    if config.base_model != pairs.student and not config.base_model.startswith("registry:"):
        logger.warning("Tuning %s on pairs whose student was %s: the prompts and rejected queries came from another model",
                       config.base_model, pairs.student)
    run_hash = config_hash(config, pairs.corpus_fingerprint, pairs.fingerprint(), pairs.teacher, pairs.student)
    root = Path(checkpoint_root) if checkpoint_root else default_cache_dir() / "cpo"
    started = time.perf_counter()
    result = train_generator(pairs, config, root / run_hash)
    seconds = time.perf_counter() - started
    log_params(vars(config), prefix="cpo.")
    for index, entry in enumerate(result.history):  # the training curves, under the pipeline's own names too
        log_metrics({k.replace("/", "_"): v for k, v in entry.items() if k not in ("epoch", "step")}, prefix="cpo.curve.",
                    step=int(entry.get("step", index)))
    last = result.history[-1] if result.history else {}
    figures = {"steps": float(result.steps), "final_loss": result.losses[-1], "seconds": seconds,
               "steps_per_s": result.steps / max(seconds, 1e-9), "pairs_per_s": len(pairs) * config.epochs / max(seconds, 1e-9),
               "adapter_norm": result.adapter_norm, "pairs": float(len(pairs)),
               **{f"final_{k.replace('/', '_')}": v for k, v in last.items() if k.startswith(("rewards/", "nll_loss"))}}
    record_figures(figures, prefix="cpo.")
    lineage = {"teacher": pairs.teacher, "student": pairs.student, "reference_source": pairs.reference_source,
               "corpus_fingerprint": pairs.corpus_fingerprint, "prompt_id": pairs.prompt_id, "config_hash": run_hash,
               "loss_type": config.loss_type}
    logger.info("CPO: %d steps in %.0f s, final loss %.3f, adapter norm %.4f", result.steps, seconds, figures["final_loss"],
                result.adapter_norm)
    return GeneratorModel(model_dir=result.model_dir, base_model=config.base_model, format=config.save,
                          prompt_id=pairs.prompt_id, lineage=lineage, training=figures)


class GeneratorEvaluation(NamedTuple):
    comparison: Any  # synthir.cpo.evaluation.GeneratorComparison
    held_out_queries: Any  # pandas.DataFrame: every system's queries for the held-out documents
    metadata: dict[str, Any]


def evaluate_generators(generator: GeneratorModel, pairs: PreferencePairs, corpus: Corpus, held_out: int = 32,
                        prompt: str = "inpars", num_examples: int = 2, generation: LocalRuntime | dict | None = None,
                        decoding: DecodingConfig | dict | None = None, query_eval: QueryEvalConfig | dict | None = None,
                        registry_name: str = registry.GENERATOR_NAME, seed: int = 42) -> GeneratorEvaluation:
    """The untuned base generator, the CPO candidate and the production version (if any) write queries
    for the same held-out documents (none in the preference data); QueryEval scores, copy rate,
    self-retrieval share for each."""
    import pandas as pd

    from synthir.cpo import held_out_documents
    from synthir.cpo.evaluation import compare_generators
    from synthir.models import generator_folder

    held = held_out_documents(corpus, pairs.doc_ids, held_out, seed)
    template = load_prompt(prompt, num_examples=num_examples)
    scorer = QueryEvalScorer(corpus, QueryEvalConfig.from_dict(query_eval))
    decoding = DecodingConfig.from_dict(decoding or {"max_new_tokens": 48})
    config = QueryGenerationConfig(**decoding.model_dump(), max_generations=None, seed=seed)
    systems = {"base": generator.base_model, "candidate": str(generator_folder(generator.model_dir))}
    production = registry.production_version(registry_name)
    if production is not None:
        systems["production"] = f"registry:{registry_name}@production"
    runtime = LocalRuntime.model_validate(generation or LocalRuntime(batch_size=8)).model_dump()
    comparison, results = compare_generators(systems, runtime, held, template, scorer, config,
                                             None if production is None else str(production.version))
    for name, result in results.items():
        log_metrics(result.figures, prefix=f"eval.{name}.")
        logger.info("%-10s query_eval %.4f  copy rate %.3f  self-retrieval@%d %.3f", name, result.figures["query_eval"],
                    result.figures["copy_rate"], scorer.config.self_retrieval_k, result.figures["self_retrieval"])
    log_params({"held_out_documents": len(held), "prompt": template.full_id}, prefix="eval.")
    frame = pd.DataFrame([{"system": name, **row} for name, r in results.items() for row in r.queries])
    return GeneratorEvaluation(comparison, frame, {f"{name}.{k}": v for name, r in results.items()
                                                   for k, v in r.figures.items()})


class GeneratorRegistration(NamedTuple):
    decision: Any  # synthir.lifecycle.gate.PromotionDecision
    metadata: dict[str, Any]


def register_generator(generator: GeneratorModel, comparison, registry_name: str = registry.GENERATOR_NAME,
                       margin: float = 0.005, max_copy_rate_increase: float = 0.05,
                       on_registered: Optional[Callable[[str, Any], None]] = None,
                       on_promoted: Optional[Callable[[str, str], Any]] = None) -> GeneratorRegistration:
    """Register the tuned generator with its lineage and held-out figures; promote it only through the
    gate, which also refuses a generator whose copy rate rose by more than ``max_copy_rate_increase``;
    a generator identical to a registered version is not registered twice. ``on_registered(version,
    decision)`` and ``on_promoted(name, version)``: the orchestrator's mirrors (ZenML's model view)."""
    import mlflow

    from synthir.lifecycle import gate

    candidate = comparison.candidate
    tags = {**generator.lineage, "base_model": generator.base_model, "format": generator.format,
            "held_out_documents": comparison.held_out_documents, "query_eval": f"{candidate['query_eval']:.6f}",
            "copy_rate": f"{candidate['copy_rate']:.6f}", "self_retrieval": f"{candidate['self_retrieval']:.6f}",
            "mlflow_run_id": mlflow.active_run().info.run_id}
    decision = gate.decide_generator(candidate, comparison.base, comparison.production, margin, max_copy_rate_increase,
                                     metric=comparison.metric, previous_production=comparison.production_version)
    decision, duplicate = gate.register_gated(registry_name, {"config_hash": generator.lineage.get("config_hash")},
                                              decision, lambda: registry.log_generator(generator.model_dir), tags,
                                              on_registered=on_registered, on_promoted=on_promoted)
    outcome = "duplicate" if duplicate else "promoted" if decision.promoted else "refused"
    set_tags({"registered_generator_version": decision.version, "generator_promotion": outcome})
    logger.info("%s v%s: %s: %s", registry_name, decision.version, "PROMOTED to production" if decision.promoted
                else "not registered again" if duplicate else "not promoted", decision.reason)
    return GeneratorRegistration(decision, {"version": decision.version, "promoted": decision.promoted,
                                            "duplicate": duplicate, "reason": decision.reason})


@dataclass
class CPOResult:
    """The CPO flow's outputs (``run_cpo``)."""

    pairs: PreferencePairs
    generator: GeneratorModel
    comparison: Any  # synthir.cpo.evaluation.GeneratorComparison
    held_out_queries: Any  # pandas.DataFrame
    decision: Any  # synthir.lifecycle.gate.PromotionDecision


def run_cpo(collection: str, references: str = "qrels", reference_queries: Optional[SyntheticQueries] = None,
            teacher: Any = None, student: Any = None, prompt: str = "inpars", num_examples: int = 2,
            preferences: PreferenceConfig | dict | None = None, query_eval: QueryEvalConfig | dict | None = None,
            cpo: CPOTrainingConfig | dict | None = None, held_out: int = 32,
            evaluation_generator: LocalRuntime | dict | None = None, decoding: DecodingConfig | dict | None = None,
            registry_name: str = registry.GENERATOR_NAME, promotion_margin: float = 0.005,
            max_copy_rate_increase: float = 0.05, seed: int = 42) -> CPOResult:
    """``cpo_pipeline`` without ZenML, with its parameters: preference pairs from ``references``
    (``qrels``: the collection's judged pairs; ``synthetic``: ``reference_queries``, e.g. a run's filtered
    queries), CPO + LoRA on the student, the held-out comparison with the untuned student and
    production, registration and the copy-guarded gate. Figures go to the active MLflow run, else to
    one of its own."""
    from synthir.flow import data
    from synthir.preparation import DocumentsConfig

    teacher = pin_generator_spec(as_generator_spec(teacher or LocalGenerator(model="package:gemma3-270m")))
    student = pin_generator_spec(as_generator_spec(student or LocalGenerator()))
    if references not in ("qrels", "synthetic"):
        raise ValueError(f"references: expected qrels or synthetic, got {references!r}")
    if references == "synthetic" and reference_queries is None:
        raise ValueError("references: synthetic needs reference_queries (checked and filtered synthetic queries)")
    with run_of_its_own(f"cpo {collection}"):
        if references == "qrels":  # judged documents looked up by id: documents as read, neither split nor de-duplicated
            loaded = data.load_collection(collection, documents=DocumentsConfig.off())
            reference_queries = qrels_reference_queries(loaded.corpus, loaded.queries, loaded.qrels).value
        else:
            loaded = data.load_collection(collection)
        corpus = loaded.corpus
        cpo = cpo_config_for(student, cpo)
        preferences = preference_config_for(preferences, seed)
        pairs = build_preference_pairs(corpus, reference_queries, teacher, student, prompt, num_examples, preferences,
                                       query_eval)
        generator = train_cpo_generator(pairs, cpo)
        evaluated = evaluate_generators(generator, pairs, corpus, held_out, prompt, num_examples, evaluation_generator,
                                        decoding, query_eval, registry_name, seed)
        decision = register_generator(generator, evaluated.comparison, registry_name, promotion_margin,
                                      max_copy_rate_increase).decision
        return CPOResult(pairs, generator, evaluated.comparison, evaluated.held_out_queries, decision)


def preference_config_for(preferences: PreferenceConfig | dict | None, seed: int) -> PreferenceConfig:
    """``preferences`` with the run's ``seed``, unless ``preferences.seed`` is set."""
    return PreferenceConfig.from_dict({"seed": seed, **PreferenceConfig.from_dict(preferences)
                                       .model_dump(exclude_unset=True)})


def cpo_config_for(student: Any, cpo: CPOTrainingConfig | dict | None) -> CPOTrainingConfig:
    """``cpo`` with the student as the model CPO tunes, unless ``cpo.base_model`` names another."""
    given = CPOTrainingConfig.from_dict(cpo).model_dump(exclude_unset=True) if cpo is not None else {}
    return CPOTrainingConfig.from_dict({"base_model": as_generator_spec(student).model, **given})
