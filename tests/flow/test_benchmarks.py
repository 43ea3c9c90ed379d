"""Each quality benchmark runs on a tiny slice of the demo, through the product's flow and gate, so
the scripts cannot drift from what the pipelines run (their figures come from full runs, not these)."""

import importlib.util
import sys

import pytest

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def benchmark(name: str):
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def temp_folder(tmp_path, monkeypatch):
    """The process's temp folder, empty, so a test can see what a benchmark leaves in it (torch's compile
    cache is meant to stay; a benchmark's scratch is not)."""
    import tempfile

    folder = tmp_path / "temp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_reranker_quality_runs_a_recipe_through_the_flow_and_the_comparison(client, demo_dir, tmp_path, capsys):
    reranker_quality = benchmark("reranker_quality")
    assert all(recipe.config() for recipe in reranker_quality.RECIPES.values())  # every recipe is a valid inpars config
    reranker_quality.main(["--collection", str(demo_dir), "--held-out", "16", "--recipes", "all-mnrl-margin-mse",
                           "--documents", "24", "--max-steps", "2", "--work", str(tmp_path / "work"),
                           "--checkpoint-root", str(tmp_path / "generation"), "--fusion-weight-for", "trained"])
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| all-mnrl-margin-mse |")]
    assert len(rows) == 1 and len(rows[0].split("|")) == 16, out
    untrained = [line for line in out.splitlines() if line.startswith("| untrained |")]
    assert len(untrained) == 1 and "fusion weight chosen on dev for each trained model" in out, out
    # the last column: the final system (test fused) against the untrained row's test fused, at its own weight
    trained_cells, untrained_cells = rows[0].split("|"), untrained[0].split("|")
    final = float(trained_cells[11]) - float(untrained_cells[11])
    assert abs(float(trained_cells[-2]) - final) < 2e-4, out
    for target, cell in (("alone", 9), ("fused", 12), ("final", 14)):  # each target judged on the table's figure
        verdict = "met" if float(trained_cells[cell]) >= reranker_quality.TARGETS[target] else "MISSED"
        assert f"target {target} >= +{reranker_quality.TARGETS[target]:.2f}: {verdict} (best: all-mnrl-margin-mse, " in out


def test_reranker_quality_promptagator_queries_show_judged_queries_that_test_then_leaves_out(demo_dir, tmp_path):
    from synthir.data import load_collection
    from synthir.generation.query_store import QueryStore

    reranker_quality = benchmark("reranker_quality")
    demo = load_collection(demo_dir)
    recipe = reranker_quality._smoke(reranker_quality.RECIPES["all-mnrl-margin-mse-promptagator"], 4, 1)
    generated, _ = reranker_quality.training_queries(
        {"promptagator": recipe}, demo.corpus, QueryStore(str(tmp_path / "store")), str(tmp_path / "generation"),
        tmp_path / "work", str(demo_dir))
    queries = generated["promptagator"]
    shown = queries.fewshot_query_ids
    assert len(shown) == 4 and set(shown) <= set(demo.qrels.judgments)  # the examples are judged queries of the demo
    assert len(queries) == 4 and all(set(q.fewshot_examples) == set(shown) for q in queries)


def test_label_free_gate_calls_the_products_gate(client, demo_dir, tmp_path, capsys):
    label_free_gate = benchmark("label_free_gate")
    from commands.main import inpars_recipe
    from synthir.config import ConfigError

    recipe = inpars_recipe(label_free_gate.RECIPE)  # the recipe is a valid inpars config
    assert recipe.evaluation.synthetic.generator.model == "package:gemma3-270m" and recipe.max_generations is None
    with pytest.raises(ConfigError, match="min_queries"):  # an override is checked like the YAML
        inpars_recipe(label_free_gate.RECIPE, ["evaluation.min_queries=5"])
    with pytest.raises(SystemExit, match="expected KEY=VALUE"):
        inpars_recipe(label_free_gate.RECIPE, ["max_generations"])
    smoke = ["evaluation.synthetic.held_out_documents=16", "max_generations=24", "training.max_steps=2",
             "evaluation.min_queries=5", "evaluation.allow_weak_gate=true"]
    label_free_gate.main(["--collection", str(demo_dir), *(f"--set={a}" for a in smoke), "--skip-broken",
                          "--work", str(tmp_path / "work"), "--checkpoint-root", str(tmp_path / "generation")])
    out = capsys.readouterr().out
    assert "The product's gate (compare_rerankers + gate.decide_reranker: margin 0.005, paired randomisation p < 0.05, " \
           "at least 5 queries" in out  # the recipe's gate, with the --set override
    rows = [line.split("|") for line in out.splitlines() if line.startswith(("| trained |", "| trained-fused |"))]
    calls = [(row[1].strip(), row[2].strip()) for row in rows if row[2].strip() in ("vs BM25", "vs untrained", "promote")]
    assert len(calls) == 6 and all(row[3].strip() in ("True", "False") for row in rows if len(row) > 6), out
    assert "Kendall's tau, synthetic vs judged" in out


@pytest.mark.parametrize("path", sorted((ROOT / "benchmarks" / "recipes").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_benchmark_recipe_is_a_valid_config_of_the_product(path):
    import yaml

    from commands.main import inpars_recipe, pipeline_recipe

    data = yaml.safe_load(path.read_text())
    if "inpars" in data:
        assert inpars_recipe(path).seed is not None
    elif path.stem == "cpo_generator":
        assert pipeline_recipe("cpo", path)["cpo"] is not None
    else:  # reranker_quality: a base block and each recipe's changes over it
        reranker_quality = benchmark("reranker_quality")
        assert path.stem == "reranker_quality" and all(r.config() for r in reranker_quality.RECIPES.values())
        assert all(name in reranker_quality.RECIPES for names in reranker_quality.SETS.values() for name in names)
        assert all(kind in reranker_quality.QUERY_KINDS for recipe in reranker_quality.RECIPES.values()
                   for kind in recipe.kinds)


@pytest.mark.parametrize("name", ["reranker_quality", "label_free_gate", "warm_start", "calibrated_gate"])
def test_the_benchmarks_hold_no_copy_of_the_gate(name):
    source = (ROOT / "benchmarks" / f"{name}.py").read_text()
    assert "paired_p_value" not in source and "def score_splits" not in source


def test_calibrated_gate_measures_coverage_through_the_products_judge_and_comparison(demo_dir, tmp_path, capsys):
    import torch
    from sentence_transformers import SentenceTransformer

    from synthir.models import resolve_model, write_reranker_marker

    calibrated_gate = benchmark("calibrated_gate")
    trained = SentenceTransformer(str(resolve_model("package:all-minilm-l6-v2")), device="cpu")
    torch.manual_seed(0)
    with torch.no_grad():  # a "trained" model that differs from the untrained one per query
        for parameter in trained.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.02)
    trained.save(str(tmp_path / "trained"))
    write_reranker_marker(tmp_path / "trained", "bi-encoder", 256)
    calibrated_gate.main(["--collection", str(demo_dir), "--model", str(tmp_path / "trained"), "--sizes", "5",
                          "--trials", "20", "--set", "evaluation.synthetic.held_out_documents=16",
                          "--set", "evaluation.calibration.judge_depth=1",
                          "--checkpoint-root", str(tmp_path / "generation")])
    out = capsys.readouterr().out
    rows = [line.split("|") for line in out.splitlines() if line.startswith("| 5 |")]
    assert [row[2].strip() for row in rows] == ["golden alone", "PPI++, synthetic queries",
                                                "PPI++, the other judged queries"] * 2, out
    assert all(0.0 <= float(row[3]) <= 1.0 and float(row[4]) >= 0.0 for row in rows)
    assert "## alone: gain on all 40 judged queries" in out and "## fused:" in out
    assert "16 held-out documents" in out and "over each system's top 1;" in out  # the --set overrides took


def test_warm_start_trains_through_the_flow_and_scores_through_the_comparison(client, demo_dir, temp_folder, capsys):
    warm_start = benchmark("warm_start")
    warm_start.main(["--collection", str(demo_dir), "--documents", "30", "--set", "evaluation.synthetic.held_out_documents=16",
                     "--set", "training.max_steps=2", "--set", "rerank_depth=20"])
    out = capsys.readouterr().out
    rows = {line.split("|")[1].strip() for line in out.splitlines() if line.startswith("| ") and "nDCG" not in line}
    assert {"bm25", "untrained", "untrained, fused", "incremental", "incremental, fused", "full retrain",
            "production (first 70%)"} <= rows, out
    assert "stage A: 21 training documents, stage B: 30 (9 added)" in out
    assert "incremental / full wall time:" in out and out.count("quality, ") == 4
    assert not list(temp_folder.glob("warm-start-*"))  # its checkpoints and store (a GB on CISI) are removed


def test_cpo_generator_runs_the_cpo_flows_stages(demo_dir, tmp_path, temp_folder, capsys):
    import mlflow

    from commands.main import pipeline_recipe
    from synthir.config import ConfigError

    cpo_generator = benchmark("cpo_generator")
    recipe = pipeline_recipe("cpo", cpo_generator.RECIPE)  # a valid cpo_pipeline config, defaults filled in
    assert recipe["cpo"].learning_rate == 3e-4 and recipe["query_eval"].copy_penalty >= 0
    with pytest.raises(ConfigError, match="cpo.loss_type"):  # an override is checked like the YAML
        pipeline_recipe("cpo", cpo_generator.RECIPE, ["cpo.loss_type=dpo"])
    try:
        cpo_generator.main(["--collection", str(demo_dir), "--set", "preferences.max_references=4", "--set", "held_out=2",
                            "--set", "cpo.max_steps=1", "--set", "cpo.batch_size=2",
                            "--tracking-uri", f"sqlite:///{tmp_path / 'mlflow.db'}", "--output", str(tmp_path / "figures.json")])
    finally:  # the script sets mlflow's process-wide store, as a script may; later tests use the session's
        mlflow.set_tracking_uri(None)
    out = capsys.readouterr().out
    rows = [line.split("|") for line in out.splitlines() if line.startswith(("| base |", "| cpo |"))]
    assert len(rows) == 2 and all(0.0 <= float(row[3]) <= 1.0 for row in rows), out
    figures = __import__("json").loads((tmp_path / "figures.json").read_text())
    assert figures["training"]["steps"] == 1 and figures["preferences"]["references"] == 4
    assert not list(temp_folder.glob("synthir-bench-cpo-*"))  # the generation shards and the tuned adapter are removed


def test_scale_runs_the_inpars_flow_with_the_stand_in_generator(tmp_path, capsys):
    scale = benchmark("scale")  # one size, in a child process of its own (its own MLflow store and peak memory)
    scale.main(["--passages", "300", "--set", "max_generations=12", "--set", "evaluation.synthetic.held_out_documents=8",
                "--set", "training.max_steps=1", "--work", str(tmp_path)])
    out = capsys.readouterr().out
    rows = {line.split("|")[1].strip(): line for line in out.splitlines() if line.startswith("| ")}
    assert {"load", "generation", "triples", "training", "evaluation", "registration", "total"} <= set(rows), out
    assert "training" in rows["peak resident memory at the end of each stage, GB"]
    assert float(rows["peak resident memory, GB"].split("|")[2]) > 0
    assert int(rows["split_documents"].split("|")[2].replace(",", "")) > 0, out  # long documents were cut
    assert rows["triples / evaluation queries"].split("|")[2].strip().endswith("/ 8"), out  # the --set reached the child


def test_the_plan_for_ten_million_passages_follows_the_stage_whose_peak_grows_fastest():
    scale = benchmark("scale")
    rows = [{"passages": 100_000, "stage_peak_rss_gb": {"load": 0.5, "training": 5.0}},
            {"passages": 1_100_000, "stage_peak_rss_gb": {"load": 2.5, "training": 5.5}}]
    # training: 5.0 + 0.5 * 9.9 = 9.95 GB; loading: 0.5 + 2.0 * 9.9 = 20.3 GB, the plan
    stage, growth, planned = scale.planned_peak(rows)
    assert stage == "load" and growth == pytest.approx(2.0) and planned == pytest.approx(20.3)


def test_real_documents_runs_the_own_documents_preset_on_a_folder_of_html_pages(demo_dir, tmp_path, capsys):
    import json

    import mlflow
    from fixtures.stand_in_generator import StandInGenerator

    real_documents = benchmark("real_documents")
    pages = tmp_path / "pages"
    pages.mkdir()
    navigation = "<nav><a href='/'>Home</a> | <a href='/docs'>Documentation</a> | <a href='/about'>About us</a></nav>"
    for line in (demo_dir / "corpus.jsonl").read_text().splitlines()[:40]:
        doc = json.loads(line)
        paragraphs = "".join(f"<p>{doc['text']}</p>" for _ in range(3))  # long enough for the extractor
        (pages / f"{doc['_id']}.html").write_text(
            f"<html><head><title>{doc['title']}</title></head><body>{navigation}<main><h1>{doc['title']}</h1>"
            f"{paragraphs}</main><footer>Copyright the demo team</footer></body></html>")
    with StandInGenerator() as url:
        served = f"{{backend: served, base_url: '{url}', model: stand-in}}"
        smoke = [f"generator={served}", f"evaluation.synthetic.generator={served}", "max_generations=20",
                 "evaluation.synthetic.held_out_documents=8", "training.max_steps=1", "evaluation.min_queries=5",
                 "evaluation.allow_weak_gate=true", "generation_budget=null"]
        try:
            real_documents.main(["--folder", str(pages), "--work", str(tmp_path / "work"),
                                 *(f"--set={a}" for a in smoke)])
        finally:  # the script sets mlflow's process-wide store, as a script may; later tests use the session's
            mlflow.set_tracking_uri(None)
    out = capsys.readouterr().out
    rows = {line.split("|")[1].strip(): line.split("|")[2].strip() for line in out.splitlines() if line.startswith("| ")}
    assert rows["documents_read"] == "41" and rows["exact_duplicates"] == "1", out  # the copy copy_pages adds
    assert int(rows["html_pages"]) == 41 and int(rows["main_content_chars_removed"]) > 0
    assert {"generation", "training", "evaluation", "total"} <= set(rows)
    gate = out.split("The gate (passages, MaxP):")[1]
    assert all(f"| {system} | 8 |" in gate for system in ("bm25", "zero-shot", "trained", "fused")), out
    assert "Decision: REFUSED" in gate and "min_queries 5" in gate  # the --set overrides reached the gate
