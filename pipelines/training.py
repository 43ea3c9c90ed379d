from pipelines.checked import checked_pipeline
from steps.data.load_collection import load_collection
from steps.training.build_training_triples import build_training_triples
from steps.training.evaluate_rerankers import evaluate_rerankers
from steps.training.register_reranker import register_reranker
from steps.training.train_reranker_model import train_reranker_model
from steps.validation.load_synthetic_queries import load_synthetic_queries
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
    promotion_margin: PromotionMargin = 0.005,
    exclude_query_ids: ExcludeQueryIds = (),
    seed: Seed = 42,
) -> None:
    """Triples from the filtered queries, reranker training, evaluation against BM25, the zero-shot
    model and production on the same queries, registration and gated promotion."""
    corpus, queries, qrels = load_collection(collection=collection)
    synthetic = load_synthetic_queries(artifact=artifact, version=artifact_version)
    triples = build_training_triples(synthetic, corpus, negatives_per_query=negatives_per_query,
                                     depth=negative_depth, seed=seed)
    model = train_reranker_model(triples, synthetic, training=training)
    comparison, _ = evaluate_rerankers(model, corpus, queries, qrels, synthetic, depth=rerank_depth, fusion_weight=fusion_weight,
                                       seed=seed, registry_name=registry_name, exclude_query_ids=list(exclude_query_ids))
    register_reranker(model, comparison, registry_name=registry_name, margin=promotion_margin)
