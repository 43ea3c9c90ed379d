from typing import Optional

from pipelines.checked import checked_pipeline
from steps.cpo.build_preference_pairs import build_preference_pairs
from steps.cpo.evaluate_generators import evaluate_generators
from steps.cpo.qrels_reference_queries import qrels_reference_queries
from steps.cpo.register_generator import register_generator
from steps.cpo.train_cpo_generator import train_cpo_generator
from steps.data.load_collection import load_collection
from steps.data.load_corpus import load_corpus
from steps.validation.load_synthetic_queries import load_synthetic_queries
from synthir.config import named_block
from synthir.cpo import CPOTrainingConfig, PreferenceConfig, QueryEvalConfig
from synthir.flow.cpo import cpo_config_for, preference_config_for
from synthir.generation.backends import LocalGenerator, LocalRuntime, generator_block, pin_generator_spec
from synthir.generation.generate import DecodingConfig
from synthir.parameters import (
    Artifact,
    ArtifactVersion,
    Collection,
    HeldOut,
    MaxCopyRateIncrease,
    NumExamples,
    PromotionMargin,
    PromptName,
    References,
    RegistryName,
    Seed,
)
from synthir.preparation import DocumentsConfig


@checked_pipeline
def cpo_pipeline(
    collection: Collection = "data/demo",
    references: References = "qrels",
    references_artifact: Artifact = "filtered_queries",
    references_artifact_version: ArtifactVersion = None,
    teacher: generator_block("teacher") = LocalGenerator(model="package:gemma3-270m"),
    student: generator_block("student") = LocalGenerator(),
    prompt: PromptName = "inpars",
    num_examples: NumExamples = 2,
    preferences: PreferenceConfig = PreferenceConfig(),
    query_eval: QueryEvalConfig = QueryEvalConfig(),
    cpo: Optional[CPOTrainingConfig] = None,
    held_out: HeldOut = 32,
    evaluation_generator: named_block(LocalRuntime, "evaluation_generator") = LocalRuntime(batch_size=8),
    decoding: DecodingConfig = DecodingConfig(max_new_tokens=48),
    registry_name: RegistryName = "inpars-generator",
    promotion_margin: PromotionMargin = 0.005,
    max_copy_rate_increase: MaxCopyRateIncrease = 0.05,
    seed: Seed = 42,
) -> None:
    """Preference-tune the query generator (InPars+'s CPO): teacher and student queries for documents
    with a reference query, QueryEval scores, ALMA pairs, CPO + LoRA, held-out evaluation against the
    untuned student and production, registration, promotion through the copy-guarded gate.

    ``references``: ``qrels`` (the collection's judged pairs) or ``synthetic`` (a filtered synthetic
    query artifact, by default the latest ``filtered_queries``)."""
    # a registry alias is cached and recorded as the version it names now
    teacher, student = pin_generator_spec(teacher), pin_generator_spec(student)
    if references == "qrels":
        # judged documents looked up by id: documents as read, neither split nor de-duplicated
        corpus, queries, qrels = load_collection(collection=collection, documents=DocumentsConfig.off())
        reference_queries = qrels_reference_queries(corpus, queries, qrels)
    elif references == "synthetic":
        corpus = load_corpus(collection=collection)
        reference_queries = load_synthetic_queries(artifact=references_artifact, version=references_artifact_version)
    # the student is what CPO tunes, unless cpo.base_model says otherwise
    cpo = cpo_config_for(student, cpo)
    preferences = preference_config_for(preferences, seed)
    pairs = build_preference_pairs(corpus, reference_queries, teacher=teacher, student=student, prompt=prompt,
                                   num_examples=num_examples, preferences=preferences, query_eval=query_eval)
    generator = train_cpo_generator(pairs, cpo=cpo)
    comparison, _ = evaluate_generators(generator, pairs, corpus, held_out=held_out, prompt=prompt,
                                        num_examples=num_examples, generation=evaluation_generator, decoding=decoding,
                                        query_eval=query_eval, registry_name=registry_name, seed=seed)
    register_generator(generator, comparison, registry_name=registry_name, margin=promotion_margin,
                       max_copy_rate_increase=max_copy_rate_increase)
