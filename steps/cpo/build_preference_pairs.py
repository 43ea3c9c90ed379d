import tempfile
from pathlib import Path
from typing import Annotated, Any, Dict, Optional

from zenml import step
from zenml.logger import get_logger

from synthir.cpo import PreferenceConfig, PreferencePairs, QueryEvalConfig, QueryEvalScorer
from synthir.cpo import build_preference_pairs as build_pairs
from synthir.data import Corpus
from synthir.data.synthetic import SyntheticQueries
from synthir.generation import load_prompt, make_backend
from synthir.generation.backends import LocalGenerator, as_generator_spec
from synthir.runtime import default_cache_dir
from synthir.tracking import log_artifact, log_params, record_figures, set_tags

logger = get_logger(__name__)


@step(experiment_tracker=True)
def build_preference_pairs(
    corpus: Corpus,
    references: SyntheticQueries,
    teacher: Optional[Dict[str, Any]] = None,
    student: Optional[Dict[str, Any]] = None,
    prompt: str = "inpars",
    num_examples: int = 2,
    preferences: PreferenceConfig = PreferenceConfig(),
    query_eval: QueryEvalConfig = QueryEvalConfig(),
    checkpoint_root: Optional[str] = None,
) -> Annotated[PreferencePairs, "preference_pairs"]:
    """Teacher and student queries for the referenced documents, QueryEval scores, ALMA chosen/rejected.
    Generation checkpoints shard by shard, so a killed run resumes."""
    teacher = as_generator_spec(teacher or LocalGenerator(model="package:gemma3-270m"))  # mappings: see as_data
    student = as_generator_spec(student or LocalGenerator())
    config = PreferenceConfig.from_dict(preferences)
    scorer = QueryEvalScorer(corpus, QueryEvalConfig.from_dict(query_eval))
    template = load_prompt(prompt, num_examples=num_examples)
    root = Path(checkpoint_root) if checkpoint_root else default_cache_dir() / "preferences"
    pairs = build_pairs(corpus, references, lambda: make_backend(teacher), lambda: make_backend(student),
                                   template, scorer, config, checkpoint_root=root)
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
