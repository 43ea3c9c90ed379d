from pipelines.checked import checked_pipeline
from pipelines.inpars import evaluation_set, gate, train
from steps.data.load_collection import load_collection
from steps.training.build_training_triples import build_training_triples
from steps.training.keep_training_documents import keep_training_documents
from steps.validation.load_synthetic_queries import load_synthetic_queries
from synthir.judgments.config import EvaluationConfig, resolve_source
from synthir.parameters import (
    Artifact,
    ArtifactVersion,
    Collection,
    ExcludeQueryIds,
    Fusion,
    NegativeDepth,
    NegativesPerQuery,
    PromotionMargin,
    RegistryName,
    RerankDepth,
    Seed,
)
from synthir.training.config import RerankerTrainingConfig


@checked_pipeline
def training_pipeline(
    collection: Collection = "data/demo",
    artifact: Artifact = "filtered_queries",
    artifact_version: ArtifactVersion = None,
    negatives_per_query: NegativesPerQuery = 1,
    negative_depth: NegativeDepth = 100,
    training: RerankerTrainingConfig = RerankerTrainingConfig(),
    rerank_depth: RerankDepth = 100,
    fusion_weight: Fusion = 0.7,
    registry_name: RegistryName = "inpars-reranker",
    evaluation: EvaluationConfig = EvaluationConfig(),
    promotion_margin: PromotionMargin = 0.005,
    exclude_query_ids: ExcludeQueryIds = (),
    seed: Seed = 42,
) -> None:
    """Triples from the filtered queries, reranker training, evaluation against BM25, the untrained
    model and production on the gate's source of truth (``evaluation``: judged, golden, or held-out
    synthetic judgments; queries written for held-out documents are dropped from training),
    registration and gated promotion."""
    corpus, queries, qrels = load_collection(collection=collection, queries_file=evaluation.queries_file)
    source = resolve_source(evaluation, collection)
    eval_set = evaluation_set(corpus, queries, qrels, source, evaluation, collection)
    synthetic = load_synthetic_queries(artifact=artifact, version=artifact_version)
    collection_corpus = corpus
    if eval_set[0] is not corpus:  # documents were held out for evaluation
        corpus = eval_set[0]
        synthetic = keep_training_documents(synthetic, corpus, collection_corpus)
    training = RerankerTrainingConfig.from_dict(training)
    triples = build_training_triples(synthetic, corpus, negatives_per_query=negatives_per_query, depth=negative_depth,
                                     seed=seed, **training.triples_options())
    model = train(triples, synthetic, corpus, training, registry_name, negative_depth)
    gate(model, synthetic, eval_set, evaluation, source, rerank_depth, fusion_weight, seed, registry_name,
         promotion_margin, exclude_query_ids, collection_corpus)
