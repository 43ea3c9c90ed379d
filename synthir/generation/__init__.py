"""Query generation: prompt templates, generator backends, the resumable generation loop."""

from synthir.generation.backends import DecodingParams, GeneratorBackend, make_backend
from synthir.generation.generate import GenerationRun, QueryGenerationConfig, generate_queries, sample_documents
from synthir.generation.prompts import PromptTemplate, load_prompt, with_collection_examples

__all__ = [
    "DecodingParams", "GenerationRun", "GeneratorBackend", "PromptTemplate", "QueryGenerationConfig",
    "generate_queries", "load_prompt", "make_backend", "sample_documents", "with_collection_examples",
]
