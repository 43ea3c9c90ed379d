from pipelines.checked import checked_pipeline
from pipelines.generation import optimise_if_configured
from steps.data.load_collection import load_collection
from steps.evaluation.hold_out_documents import hold_out_documents
from steps.evaluation.write_synthetic_judgments import write_synthetic_judgments
from steps.generation.expand_documents import expand_documents
from steps.generation.generate_synthetic_queries import generate_synthetic_queries
from steps.generation.merge_synthetic_queries import merge_synthetic_queries
from steps.training.add_teacher_margins import add_teacher_margins
from steps.training.build_training_triples import build_training_triples
from steps.training.evaluate_rerankers import evaluate_rerankers
from steps.training.plan_warm_start import plan_warm_start
from steps.training.register_reranker import register_reranker
from steps.training.train_reranker_model import train_reranker_model
from steps.validation.check_synthetic_queries import check_synthetic_queries
from steps.validation.enforce_validation_policy import enforce_validation_policy
from steps.validation.filter_synthetic_queries import filter_synthetic_queries
from synthir.flow.inpars import pipeline_config_hash
from synthir.generation.backends import pin_generator_spec
from synthir.inpars_config import InParsConfig
from synthir.judgments.config import EvaluationConfig, llm_judge_queries, resolve_source
from synthir.parameters import Collection
from synthir.training.config import RerankerTrainingConfig


def in_dynamic_pipeline() -> bool:
    """A dynamic pipeline runs steps in call order (a failing policy check stops it there); a static
    DAG needs the ordering spelled out with ``after``."""
    from zenml.execution.pipeline.dynamic.run_context import DynamicPipelineRunContext

    return DynamicPipelineRunContext.get() is not None


def evaluation_set(corpus, queries, qrels, source: str, evaluation: EvaluationConfig, collection: str,
                   documents=None):
    """(training corpus, evaluation corpus, evaluation queries, evaluation qrels) for ``source``:
    judged (the collection's own), golden (another labelled collection), synthetic (held-out
    documents, queries by the evaluation generator; training never sees those documents), or
    llm_judge (the user's queries, or the held-out synthetic ones; the judge grades them later)."""
    if source == "golden":
        golden = load_collection(collection=evaluation.golden, split=evaluation.golden_split, documents=documents,
                                 id="load_golden_collection")
        return (corpus, *golden)
    if source == "synthetic" or (source == "llm_judge" and llm_judge_queries(evaluation, collection) == "synthetic"):
        training_corpus, held_out = hold_out_documents(corpus, synthetic=evaluation.synthetic)
        evaluation_queries, evaluation_qrels = write_synthetic_judgments(held_out, synthetic=evaluation.synthetic)
        return training_corpus, corpus, evaluation_queries, evaluation_qrels
    return corpus, corpus, queries, qrels


def gate(model, training_queries, eval_set, config: EvaluationConfig, source: str, depth, fusion_weight, seed,
         registry_name, margin, exclude_query_ids, collection_corpus, pipeline_config_hash=None):
    """Evaluation against BM25, the untrained model and production on ``eval_set`` (from
    ``evaluation_set``), then registration and the gated promotion; returns the decision artifact."""
    _, eval_corpus, eval_queries, eval_qrels = eval_set
    comparison, _ = evaluate_rerankers(model, eval_corpus, eval_queries, eval_qrels, training_queries, depth=depth,
                                       fusion_weight=fusion_weight, seed=seed, registry_name=registry_name,
                                       exclude_query_ids=list(exclude_query_ids), source=source,
                                       significance_test=config.significance_test,
                                       llm_judge=config.llm_judge if source == "llm_judge" else None,
                                       untrained_bias=config.synthetic.untrained_bias if source == "synthetic" else 0.0,
                                       calibration=config.calibration if source == "synthetic" else None,
                                       alpha=config.alpha)
    return register_reranker(model, comparison, registry_name=registry_name, margin=margin, alpha=config.alpha,
                             min_queries=config.min_queries, allow_weak_gate=config.allow_weak_gate,
                             collection_corpus=collection_corpus,
                             pipeline_config_hash=pipeline_config_hash)


def train(triples, queries, corpus, training: RerankerTrainingConfig, registry_name: str, depth: int = 100):
    """The training step, after the warm-start plan when ``training.init_from`` is production
    (production fine-tuned on the new documents' triples, plus replay), and after the teacher's
    margins when ``training.loss`` distils them."""
    training = RerankerTrainingConfig.from_dict(training)
    init_model = None
    if training.init_from == "production":
        triples, init_model = plan_warm_start(triples, corpus, training=training, registry_name=registry_name)
    if training.uses_teacher:
        triples = add_teacher_margins(triples, corpus, training=training, depth=depth)
    return train_reranker_model(triples, queries, training=training, init_model=init_model)


def inpars_stages(corpus, queries, qrels, config: InParsConfig, collection: str, source: str = "judged"):
    """Generation -> validation -> training -> evaluation -> promotion, wired inside the calling
    pipeline (``inpars_pipeline``, ``retraining_pipeline``). Artifacts pass from step to step, never
    looked up as "the latest", so one run is one lineage. ``source`` is the evaluation's source of
    truth, resolved from ``config.evaluation`` while the pipeline is composed. Returns the promotion
    decision artifact."""
    config = InParsConfig.from_dict(config)
    eval_set = evaluation_set(corpus, queries, qrels, source, config.evaluation, collection, config.documents)
    collection_corpus, corpus = corpus, eval_set[0]  # what training sees: the held-out documents are not in it
    # an alias is cached and recorded as the version it names now
    generator = pin_generator_spec(config.generator)
    query_program = optimise_if_configured(corpus, generator, config.optimise)
    generation = dict(corpus=corpus, prompt=config.prompt, num_examples=config.num_examples,
                      examples_from=config.examples_from, generator=generator, max_generations=config.max_generations,
                      seed=config.seed, decoding=config.decoding, query_program=query_program,
                      dspy_program=config.dspy_program, dspy=config.dspy, query_store=config.query_store,
                      budget=None if config.generation_budget is None else str(config.generation_budget))
    if config.generation_shards > 1:  # parallel steps (pods, GPUs) on orchestrators that run them so
        shards = config.generation_shards
        parts = [generate_synthetic_queries(**generation, shard=[i, shards], id=f"generate_synthetic_queries_{i}")
                 for i in range(shards)]
        synthetic = merge_synthetic_queries(parts, corpus)
    else:
        synthetic = generate_synthetic_queries(**generation)
    checked, _, check_report = check_synthetic_queries(queries=synthetic, corpus=corpus, checks=config.checks)
    enforce_validation_policy(check_report)
    filtered, _ = filter_synthetic_queries(queries=checked, corpus=corpus, check_report=check_report, filters=config.filters,
                                           after=None if in_dynamic_pipeline() else "enforce_validation_policy")
    if config.expansion.enabled:  # the first stage indexes each passage with its filtered synthetic queries
        corpus, evaluation_corpus = expand_documents(
            corpus, eval_set[1], separate=source == "golden", expansion=config.expansion, prompt=config.prompt,
            num_examples=config.num_examples, examples_from=config.examples_from, generator=generator,
            decoding=config.decoding, seed=config.seed, query_store=config.query_store)
        eval_set = (corpus, evaluation_corpus, *eval_set[2:])
    triples = build_training_triples(filtered, corpus, negatives_per_query=config.negatives_per_query,
                                     depth=config.negative_depth, seed=config.seed, **config.training.triples_options())
    model = train(triples, filtered, corpus, config.training, config.registry_name, config.negative_depth)
    return gate(model, filtered, eval_set, config.evaluation, source, config.rerank_depth, config.fusion_weight, config.seed,
                config.registry_name, config.promotion_margin, config.exclude_query_ids, collection_corpus,
                pipeline_config_hash(config))


@checked_pipeline
def inpars_pipeline(collection: Collection = "data/demo", inpars: InParsConfig = InParsConfig()) -> None:
    """InPars end to end on any collection, labelled or not: synthetic queries for its corpus, checks
    and filters, reranker training, evaluation against BM25, the untrained model and production on
    the gate's source of truth (``inpars.evaluation``: the collection's judgments, a golden
    collection, or held-out synthetic judgments when it has none), registration and gated promotion
    (margin and paired significance). ``inpars`` holds every stage's parameters (typed:
    ``synthir.inpars_config.InParsConfig``), checked before any step runs. Steps whose inputs and
    parameters did not change are cached (the corpus artifact is keyed by its content fingerprint)."""
    inpars = InParsConfig.from_dict(inpars)
    corpus, queries, qrels = load_collection(collection=collection, queries_file=inpars.evaluation.queries_file,
                                             documents=inpars.documents)
    inpars_stages(corpus, queries, qrels, inpars, collection, resolve_source(inpars.evaluation, collection))
