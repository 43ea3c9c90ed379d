"""The top-level pipeline parameters that are not blocks, typed once with their descriptions.

Each is a ``synthir.config.scalar``: pydantic checks it when the run starts and a bad value names it."""

from __future__ import annotations

from typing import List, Literal, Optional

from synthir.config import ModelName, scalar
from synthir.inpars_config import FusionWeight, Prompt

Collection = scalar(str, "collection", description="a BEIR folder, a corpus file, or an ir_datasets id")
Split = scalar(str, "split", description="the qrels split evaluated (qrels/<split>.tsv)")
TopK = scalar(int, "top_k", ge=1, description="BM25 hits retrieved per query")
MaxQueries = scalar(Optional[int], "max_queries", ge=1, description="judged queries evaluated; null: all")
Rerankers = scalar(List[str], "rerankers", description="models re-scoring BM25's top rerank_depth: package:, registry:, folders")
RerankDepth = scalar(int, "rerank_depth", ge=1, description="BM25 hits re-scored")
Fusion = scalar(FusionWeight, "fusion_weight",
                description="BM25 fusion weight in [0, 1]; tune: chosen on a dev split; null: reranker alone")
MaxGenerations = scalar(Optional[int], "max_generations", ge=1, description="documents to sample (seeded); null: all")
PromptName = scalar(Prompt, "prompt", description="inpars | inpars-gbq | promptagator | dspy-cot | dspy-predict | a template file")
NumExamples = scalar(Optional[int], "num_examples", ge=0, description="few-shot examples shown; null: the template's own")
ExamplesFrom = scalar(Optional[str], "examples_from", description="promptagator: the labelled collection the examples come from")
Seed = scalar(int, "seed", description="sampling seed")
ImportQueries = scalar(Optional[str], "import_queries", description="import these published synthetic queries instead "
                       "of generating: an InPars JSONL file, a GPL/BEIR qgen folder, or a saved Hugging Face dataset")
QueryStoreLocation = scalar(Optional[str], "query_store", description="queries kept per document for the next corpus "
                            "version: artifact_store (the stack's), a path or fsspec URL, or null (off)")
DSPyProgram = scalar(Optional[str], "dspy_program", description="a saved compiled DSPy program (folder)")
Artifact = scalar(str, "artifact", description="the ZenML artifact read (its latest version unless artifact_version)")
ArtifactVersion = scalar(Optional[str], "artifact_version", description="the artifact version read; null: the latest")
NegativesPerQuery = scalar(int, "negatives_per_query", ge=1, description="hard negatives sampled per query")
NegativeDepth = scalar(int, "negative_depth", ge=1, description="BM25 depth the negatives are sampled from")
RegistryName = scalar(ModelName, "registry_name", description="the MLflow registered model")
PromotionMargin = scalar(float, "promotion_margin", ge=0,
                         description="gain the candidate needs over the baseline and production (never negative)")
ExcludeQueryIds = scalar(List[str], "exclude_query_ids", description="judged queries left out of evaluation")
Force = scalar(bool, "force", description="retrain even when the corpus is unchanged")
References = scalar(Literal["qrels", "synthetic"], "references",
                    description="qrels: the collection's judged pairs | synthetic: a filtered synthetic query artifact")
HeldOut = scalar(int, "held_out", ge=1, description="held-out documents the generators are compared on")
MaxCopyRateIncrease = scalar(float, "max_copy_rate_increase", ge=0,
                             description="refuse promotion when the copy rate rises more than this")
