"""The generation stages in plain Python (``synthir.flow.generation``), as generation_pipeline runs them as steps."""

import mlflow
import yaml

from synthir.flow import generation

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def test_a_dspy_program_is_optimised_on_the_corpus_then_generates(client, demo_dir, tmp_path):
    """The inpars_plus_dspy preset's generation part, made offline and tiny: SmolLM2, 2 train / 2 dev
    documents, 4 queries."""
    from synthir.data import load_collection
    from synthir.generation.dspy_config import OptimiseConfig

    inpars = yaml.safe_load((ROOT / "configs" / "inpars" / "inpars_plus_dspy.yaml").read_text())["parameters"]["inpars"]
    optimise = OptimiseConfig.from_dict(inpars["optimise"]).model_copy(deep=True)
    optimise.optimisation = optimise.optimisation.model_copy(update={
        "optimiser": "bootstrap", "train_size": 2, "dev_size": 2, "max_bootstrapped_demos": 1,
        "score_zero_shot": False, "max_tokens": 64})
    generator = {"backend": "local", "model": "package:smollm2-135m-instruct", "batch_size": 4}
    corpus = load_collection(demo_dir).corpus
    with mlflow.start_run() as run:
        program = generation.optimise_query_program(corpus, generator, optimise.optimisation, optimise.metric).program
        queries = generation.generate_synthetic_queries(
            corpus, inpars["prompt"], inpars.get("num_examples"), None, generator, 4, inpars.get("seed", 42),
            inpars.get("decoding"), tmp_path / "generation", query_program=program,
            dspy={**inpars.get("dspy", {}), "max_tokens": 64}).queries

    assert program.kind == "cot" and program.figures["dev_documents"] == 2
    assert "dev_zero_shot_metric" not in program.figures
    assert {"dev_seeded_metric", "dev_compiled_metric", "dev_selected_copy_rate"} <= set(program.figures)
    assert len(queries) == 4 and queries.prompt_id == program.prompt_id
    sources = [q.extra["source"] for q in queries]
    assert set(sources) <= {"dspy", "repair", "retry", "fallback", "failed"}
    assert all(q.query for q in queries if q.extra["source"] != "failed")

    logged = client.get_run(run.info.run_id).data
    assert logged.metrics["generation.queries"] == 4
    assert logged.metrics["generation.dspy_fallbacks"] == sources.count("fallback")
    assert "optimise_prompt.dev_selected_metric" in logged.metrics
    assert logged.params["generation.prompt"] == program.prompt_id


def test_generation_writes_a_question_for_each_of_20_cisi_documents(client, cisi_dir, tmp_path):
    """configs/generation/default.yaml as shipped, on 20 CISI documents."""
    import re

    from synthir.data import load_collection

    question_start = re.compile(r"^(how|what|why|when|where|which|who|whom|whose|is|are|can|does|do|should|could|will)\b",
                                re.I)
    preset = yaml.safe_load((ROOT / "configs" / "generation" / "default.yaml").read_text())["parameters"]
    corpus = load_collection(str(cisi_dir)).corpus  # as the pipeline loads it: copies aliased, long abstracts split
    with mlflow.start_run() as run:
        queries = generation.generate_synthetic_queries(
            corpus, preset["prompt"], preset["num_examples"], None, preset["generator"], 20, preset["seed"],
            preset["decoding"], tmp_path / "generation").queries
    assert len(queries) == 20 and len({q.doc_id for q in queries}) == 20
    assert queries.prompt_id == "inpars@v1" and queries.corpus_fingerprint == corpus.fingerprint()
    questions = 0
    for q in queries:
        document = corpus[q.doc_id].contents.lower()
        assert q.query, f"empty query for {q.doc_id}"
        assert "\n" not in q.query and 2 <= len(q.query.split()) <= 40
        assert q.query.lower() not in document, f"query copies its document: {q.query!r}"
        assert q.log_probs and all(lp <= 0 for lp in q.log_probs)
        questions += bool(question_start.match(q.query) or q.query.endswith("?"))
    assert questions >= 16, [q.query for q in queries]

    logged = client.get_run(run.info.run_id).data
    assert logged.metrics["generation.queries"] == 20 and logged.metrics["generation.docs_per_s"] > 0
    assert {"generation.tokens_per_s", "generation.mean_query_words", "generation.empty_rate"} <= set(logged.metrics)
    assert logged.params["generation.prompt"] == "inpars@v1"
    assert logged.params["generation.generator_model"] == "package:smollm2-135m-instruct"
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "generation")}
    assert artifacts == {"generation/synthetic_queries.inpars.jsonl"}
