"""The ``synthir`` command: presets by pipeline, stack overlays merged over them, checked before a run."""

import mlflow
import pytest
import yaml

from commands import main as cli
from synthir.config import ConfigError


def test_a_stack_overlay_adds_where_steps_run_and_leaves_parameters_alone():
    preset = cli.load_yaml(cli.config_path("inpars", "inpars_v2_vllm"))
    config = cli.compose("inpars", "inpars_v2_vllm", "k8s_gpu")
    assert config["parameters"] == preset["parameters"]
    assert config["settings"]["experiment_tracker.mlflow"] == preset["settings"]["experiment_tracker.mlflow"]
    assert config["settings"]["docker"]["pyproject_path"] == "pyproject.toml"
    assert config["steps"]["train_reranker_model"]["step_operator"] == "k8s_gpu"
    assert cli.compose("inpars", "quickstart", None) == cli.load_yaml(cli.config_path("inpars", "quickstart"))


def test_overlays_hold_no_parameters_and_name_only_real_steps():
    from test_configs import STACK_OVERLAYS, STEP_NAMES

    assert STACK_OVERLAYS
    for path in STACK_OVERLAYS:
        overlay = yaml.safe_load(path.read_text())
        assert "parameters" not in overlay and set(overlay) <= {"settings", "steps"}, path.name
        assert set(overlay.get("steps", {})) <= STEP_NAMES, path.name


def test_merge_is_deep_and_the_overlay_wins():
    assert cli.merge({"a": {"x": 1, "y": 2}, "b": [1]}, {"a": {"y": 3}, "b": [2]}) == {"a": {"x": 1, "y": 3}, "b": [2]}


def test_merge_replaces_a_block_that_switches_its_union_member():
    local = {"generator": {"backend": "local", "model": "m", "batch_size": 8}}
    served = {"generator": {"backend": "served", "base_url": "http://x/v1", "model": "s"}}
    assert cli.merge(local, served) == served  # batch_size is not a served generator's key
    assert cli.merge({"generator": {"model": "m", "batch_size": 8}}, served) == served  # the default member, unnamed
    assert cli.merge(local, {"generator": {"backend": "local", "batch_size": 2}}) == {
        "generator": {"backend": "local", "model": "m", "batch_size": 2}}  # the same member: merged


def test_mistakes_end_with_one_line_naming_them(tmp_path, capsys):
    with pytest.raises(ConfigError, match=r"inpars has no preset 'quickstrat'; choose one of \[.*'quickstart'"):
        cli.config_path("inpars", "quickstrat")
    with pytest.raises(ConfigError, match=r"stack overlay 'k8s': choose one of \['k8s_gpu'\]"):
        cli.compose("inpars", "quickstart", "k8s")
    bad = tmp_path / "bad.yaml"
    bad.write_text("parameters:\n  inpars:\n    training: {epochs: one\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml:\d+: invalid YAML"):
        cli.compose("inpars", str(bad), None)
    typo = tmp_path / "typo.yaml"
    typo.write_text(yaml.safe_dump({"parameters": {"inpars": {"training": {"epochs": "one"}}}}))
    assert cli.main(["check", "inpars", str(typo)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "synthir: inpars.training.epochs: Input should be a valid number, unable to parse string as a number (got 'one')"]
    assert cli.main(["check", "inpars", "quickstart", "--stack", "k8s_gpu"]) == 0


def test_check_names_a_collection_folder_that_does_not_exist(tmp_path, capsys):
    missing = tmp_path / "manuals"
    assert cli.main(["check", "inpars", "own_documents", "--collection", str(missing)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"synthir: collection: {missing}: no such file or folder; expected a BEIR folder")
    missing.mkdir()
    (missing / "a.md").write_text("# Bees\n\nBees make honey from nectar.\n")
    assert cli.main(["check", "inpars", "own_documents", "--collection", str(missing)]) == 0
    # an ir_datasets id or an object store is read only when the run loads it
    assert cli.main(["check", "inpars", "own_documents", "--collection", "beir/scifact/test"]) == 0
    assert cli.main(["check", "inpars", "own_documents", "--collection", "s3://bucket/manuals"]) == 0


@pytest.mark.parametrize("inpars, message", [
    ({"promotion_margin": -1.0}, "synthir: inpars.promotion_margin: Input should be greater than or equal to 0 (got -1.0)"),
    ({"evaluation": {"alpha": 1.0}}, "synthir: inpars.evaluation: Value error, evaluation: alpha 1.0 is above 0.1 (no "
                                     "significance required) would let a model no better than BM25 or production be "
                                     "promoted; raise it, or set evaluation.allow_weak_gate: true to weaken the gate on "
                                     "purpose (the decision and the registered version then say so)"),
    ({"evaluation": {"min_queries": 1}}, "synthir: inpars.evaluation: Value error, evaluation: min_queries 1 is below 20"),
    # once refused only at registration, after training
    ({"registry_name": "../x"}, "synthir: inpars.registry_name: Value error, expected a registered model name: letters, "
                                "digits, '.', '_' and '-', starting with a letter or digit, without '..'"),
])
def test_a_config_that_switches_the_gate_off_or_names_a_path_does_not_pass_check(tmp_path, capsys, inpars, message):
    config = tmp_path / "open.yaml"
    config.write_text(yaml.safe_dump({"parameters": {"inpars": inpars}}))
    assert cli.main(["check", "inpars", str(config)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(message)
    if "evaluation" in inpars:  # on purpose, by the named switch, it passes
        inpars["evaluation"]["allow_weak_gate"] = True
        config.write_text(yaml.safe_dump({"parameters": {"inpars": inpars}}))
        assert cli.main(["check", "inpars", str(config)]) == 0


def test_registry_command_without_a_store_says_so_instead_of_answering_from_an_empty_one(tmp_path, monkeypatch, capsys):
    import synthir.tracking as tracking
    from synthir import registry

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setattr(tracking, "PROJECT_STORE", tmp_path / "missing" / "mlflow.db")
    monkeypatch.setattr(tracking, "stack_tracker", lambda: None)  # whatever stack an earlier test activated
    monkeypatch.chdir(tmp_path)
    assert registry.main(["show"]) == 1
    assert "no MLflow store found" in capsys.readouterr().err
    assert not (tmp_path / "mlflow.db").exists()
    # a mistyped store once made a new empty mlflow.db there, then said the model was not found
    typo = tmp_path / "mlrun" / "mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{typo}")
    assert registry.main(["show"]) == 1
    assert capsys.readouterr().err.strip().splitlines() == [
        f"synthir registry: MLFLOW_TRACKING_URI names sqlite:///{typo}, but {typo} does not exist (a mistyped path? "
        f"nothing was created there); the project's local store is sqlite:///{tracking.PROJECT_STORE}"]
    assert registry.main(["show", "--tracking-uri", str(tmp_path / "no-such-folder")]) == 1
    assert "--tracking-uri names" in capsys.readouterr().err
    assert not typo.parent.exists() and not (tmp_path / "no-such-folder").exists()


def test_registry_command_errors_are_one_line(client, capsys):
    from synthir import registry

    assert registry.main(["show", "--name", "nope", "--tracking-uri", client.tracking_uri]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("synthir registry: ") and "nope" in err[0]


def test_rerank_command_rejects_a_corrupt_run_in_one_line(demo_dir, tmp_path, capsys):
    from synthir import rerank_run

    run = tmp_path / "bm25.trec"
    run.write_text("1 Q0 d001 1 2.5 bm25\n1 Q0 d002 2 nan bm25\n")
    code = rerank_run.main(["--run", str(run), "--queries", str(demo_dir / "queries.jsonl"), "--corpus",
                            str(demo_dir / "corpus.jsonl"), "--output", str(tmp_path / "out.trec"),
                            "--model", "package:all-minilm-l6-v2"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and err[0].startswith("synthir rerank: ") and "bm25.trec:2: score must be finite" in err[0]
    assert not (tmp_path / "out.trec").exists()
    # query ids the queries file lacks (once a 16-line traceback)
    run.write_text("q01 Q0 d001 1 2.5 bm25\nnot-a-query Q0 d002 1 2.0 bm25\n")
    code = rerank_run.main(["--run", str(run), "--queries", str(demo_dir / "queries.jsonl"), "--corpus",
                            str(demo_dir / "corpus.jsonl"), "--output", str(tmp_path / "out.trec"),
                            "--model", "package:all-minilm-l6-v2"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and err == [f"synthir rerank: {run}: 1 query id(s) of the run are not in {demo_dir / 'queries.jsonl'}, "
                                 "e.g. ['not-a-query']; expected the queries the run was made for"]


def test_a_locked_mlflow_store_is_one_line_and_changes_nothing(client, capsys):
    """Another writer holds the sqlite store: after MLflow's own retries the command says so, exit 1."""
    import sqlite3

    from synthir import registry

    client.create_registered_model("locked-model")
    uri = mlflow.get_tracking_uri()
    lock = sqlite3.connect(uri.removeprefix("sqlite:///"))
    lock.execute("BEGIN EXCLUSIVE")
    try:
        assert registry.main(["promote", "--name", "locked-model", "--version", "1", "--tracking-uri", uri]) == 1
    finally:
        lock.rollback()
        lock.close()
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("synthir registry: ") and "database is locked" in last and "another process is writing" in last
    assert client.get_registered_model("locked-model").aliases == {}


def test_a_read_only_mlflow_store_is_named_before_any_step(client, monkeypatch, capsys):
    """It once ended with "failure in step(s): load_collection". Tests run as root, which writes through
    a read-only file mode, so SQLite is made to open the store read-only, as it does for other users."""
    import sqlite3

    from synthir import tracking

    connect = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", lambda path, **kw: connect(f"file:{path}?mode=ro", uri=True, **kw))
    monkeypatch.setattr(cli, "root_cause", lambda name: pytest.fail("a pipeline ran"))
    store = client.tracking_uri
    assert cli.main(["run", "inpars", "quickstart"]) == 1
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"synthir: run failed: the MLflow store {store} cannot be written (attempt to write a readonly database); make "
        "it writable, or point MLFLOW_TRACKING_URI (or the stack's experiment tracker) at a writable store")
    monkeypatch.setattr(sqlite3, "connect", connect)
    tracking.require_writable_store(store)  # writable again: no complaint
