import tempfile
from pathlib import Path
from typing import Annotated, Any, Dict, Optional

from zenml import step
from zenml.logger import get_logger

from synthir.data import Corpus
from synthir.generation import load_prompt
from synthir.generation.backends import LocalGenerator, as_generator_spec
from synthir.generation.dspy_config import PromptOptimisationConfig, SelfRetrievalMetricConfig
from synthir.generation.query_program import CompiledQueryProgram
from synthir.tracking import log_artifact, log_params, record_figures, set_tags

logger = get_logger(__name__)


@step(experiment_tracker=True)
def optimise_query_program(
    corpus: Corpus,
    generator: Optional[Dict[str, Any]] = None,
    optimisation: PromptOptimisationConfig = PromptOptimisationConfig(),
    metric: SelfRetrievalMetricConfig = SelfRetrievalMetricConfig(),
) -> Annotated[CompiledQueryProgram, "query_program"]:
    """Compile a DSPy query program on the corpus without labels: the metric rewards queries that
    retrieve their own source document and penalises copying it."""
    from synthir.generation.dspy_optimise import optimise_program  # DSPy only when the step runs
    from synthir.generation.dspy_programs import document_truncation, make_dspy_lm

    generator = as_generator_spec(generator or LocalGenerator())  # a mapping here: see synthir.config.as_data
    config = PromptOptimisationConfig.from_dict(optimisation)
    metric_config = SelfRetrievalMetricConfig.from_dict(metric)
    lm, backend = make_dspy_lm(generator, max_tokens=config.max_tokens)
    seed_template = load_prompt(config.seed_prompt, num_examples=2)
    result = optimise_program(corpus, lm, config, metric_config, seed_template=seed_template,
                              truncate=document_truncation(backend, config.max_doc_tokens))
    program = result.program
    log_params({**vars(config), **{f"metric_{k}": v for k, v in vars(metric_config).items()},
                **{f"generator_{k}": v for k, v in generator.model_dump().items() if k != "api_key"}}, prefix="optimise_prompt.")
    record_figures(result.figures, prefix="optimise_prompt.", prompt_id=program.prompt_id)
    set_tags({"query_program": program.prompt_id})
    with tempfile.TemporaryDirectory() as tmp:
        folder = program.save(Path(tmp) / "query_program")
        log_artifact(folder / "program.json", "optimise_prompt")
        log_artifact(folder / "meta.json", "optimise_prompt")
    logger.info("Query program %s: %d demo(s); dev metric %.3f (zero-shot %.3f), copy rate %.3f, self-retrieval@10 %.3f",
                program.prompt_id, len(program.demos), result.figures["dev_selected_metric"],
                result.figures.get("dev_zero_shot_metric", float("nan")), result.figures["dev_selected_copy_rate"],
                result.figures["dev_selected_self_retrieval_at_10"])
    return program
