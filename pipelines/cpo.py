from typing import Any, Dict, Optional

from zenml import pipeline

from steps.cpo.build_preference_pairs import build_preference_pairs
from steps.cpo.evaluate_generators import evaluate_generators
from steps.cpo.qrels_reference_queries import qrels_reference_queries
from steps.cpo.register_generator import register_generator
from steps.cpo.train_cpo_generator import train_cpo_generator
from steps.data.load_collection import load_collection
from steps.data.load_corpus import load_corpus
from steps.validation.load_synthetic_queries import load_synthetic_queries
from synthir.generation.backends import pin_generator_spec
from synthir.preflight import validate_parameters


@pipeline
def cpo_pipeline(
    collection: str = "data/demo",
    references: str = "qrels",
    references_artifact: str = "filtered_queries",
    references_artifact_version: Optional[str] = None,
    teacher: Dict[str, Any] = {"backend": "local", "model": "package:gemma3-270m"},
    student: Dict[str, Any] = {"backend": "local", "model": "package:smollm2-135m-instruct"},
    prompt: str = "inpars",
    num_examples: int = 2,
    preferences: Dict[str, Any] = {},
    query_eval: Dict[str, Any] = {},
    cpo: Dict[str, Any] = {},
    held_out: int = 32,
    evaluation_generator: Dict[str, Any] = {"batch_size": 8},
    decoding: Dict[str, Any] = {"max_new_tokens": 48},
    registry_name: str = "inpars-generator",
    promotion_margin: float = 0.005,
    max_copy_rate_increase: float = 0.05,
    seed: int = 42,
) -> None:
    """Preference-tune the query generator (InPars+'s CPO): teacher and student queries for documents
    with a reference query, QueryEval scores, ALMA pairs, CPO + LoRA, held-out evaluation against the
    untuned student and production, registration, promotion through the copy-guarded gate.

    ``references``: ``qrels`` (the collection's judged pairs) or ``synthetic`` (a filtered synthetic
    query artifact, by default the latest ``filtered_queries``)."""
    validate_parameters(locals())
    if references not in ("qrels", "synthetic"):
        raise ValueError(f"references must be 'qrels' or 'synthetic', got {references!r}")
    # a registry alias is cached and recorded as the version it names now
    teacher, student = pin_generator_spec(teacher), pin_generator_spec(student)
    if references == "qrels":
        corpus, queries, qrels = load_collection(collection=collection)
        reference_queries = qrels_reference_queries(corpus, queries, qrels)
    elif references == "synthetic":
        corpus = load_corpus(collection=collection)
        reference_queries = load_synthetic_queries(artifact=references_artifact, version=references_artifact_version)
    cpo = {"base_model": student.get("model", "package:smollm2-135m-instruct"), **cpo}
    pairs = build_preference_pairs(corpus, reference_queries, teacher=teacher, student=student, prompt=prompt,
                                   num_examples=num_examples, preferences={"seed": seed, **preferences},
                                   query_eval=query_eval)
    generator = train_cpo_generator(pairs, cpo=cpo)
    comparison, _ = evaluate_generators(generator, pairs, corpus, held_out=held_out, prompt=prompt,
                                        num_examples=num_examples, generation=evaluation_generator, decoding=decoding,
                                        query_eval=query_eval, registry_name=registry_name, seed=seed)
    register_generator(generator, comparison, registry_name=registry_name, margin=promotion_margin,
                       max_copy_rate_increase=max_copy_rate_increase)
