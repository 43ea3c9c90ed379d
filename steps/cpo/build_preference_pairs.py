from typing import Annotated, Optional

from zenml import step

from synthir.cpo import PreferenceConfig, PreferencePairs, QueryEvalConfig
from synthir.data import Corpus
from synthir.data.synthetic import SyntheticQueries
from synthir.flow import cpo
from synthir.generation.backends import GeneratorSpec


@step(experiment_tracker=True)
def build_preference_pairs(
    corpus: Corpus,
    references: SyntheticQueries,
    teacher: Optional[GeneratorSpec] = None,
    student: Optional[GeneratorSpec] = None,
    prompt: str = "inpars",
    num_examples: int = 2,
    preferences: PreferenceConfig = PreferenceConfig(),
    query_eval: QueryEvalConfig = QueryEvalConfig(),
    checkpoint_root: Optional[str] = None,
) -> Annotated[PreferencePairs, "preference_pairs"]:
    """``synthir.flow.cpo.build_preference_pairs``: teacher and student queries for the referenced documents,
    QueryEval scores, ALMA chosen/rejected."""
    return cpo.build_preference_pairs(corpus, references, teacher, student, prompt, num_examples, preferences,
                                      query_eval, checkpoint_root)
