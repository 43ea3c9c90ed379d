"""Promotion logic against a real MLflow sqlite store: promote, refuse a regression, roll back."""

import mlflow
import pandas as pd
import pytest

from synthir import registry
from synthir.lifecycle import gate
from synthir.models import resolve_model


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A reranker folder (zero-shot MiniLM) to log: training is tested elsewhere."""
    import shutil

    target = tmp_path_factory.mktemp("reranker") / "model"
    shutil.copytree(resolve_model("package:all-minilm-l6-v2"), target)
    (target / "synthir_reranker.txt").write_text("bi-encoder")
    return target


def new_version(client, model_dir, ndcg: float) -> str:
    with mlflow.start_run():
        uri = registry.log_reranker(model_dir)
    return registry.register_version(uri, "inpars-reranker", {"ndcg_at_10": ndcg, "prompt_id": "inpars@v1"}, client)


def test_decide_rules():
    assert gate.decide("ndcg_at_10", 0.45, baseline=0.36, production=None, margin=0.01).promoted
    refused = gate.decide("ndcg_at_10", 0.365, baseline=0.36, production=None, margin=0.01)
    assert not refused.promoted and "does not beat BM25" in refused.reason
    regression = gate.decide("ndcg_at_10", 0.44, baseline=0.36, production=0.45, margin=0.0)
    assert not regression.promoted and "does not beat production 0.4500" in regression.reason
    assert gate.decide("ndcg_at_10", 0.46, baseline=0.36, production=0.45, margin=0.005).promoted


def test_promote_refuse_and_roll_back(client, model_dir, monkeypatch, tmp_path):
    v1 = new_version(client, model_dir, 0.44)
    registry.apply_decision("inpars-reranker", v1, gate.decide("ndcg_at_10", 0.44, 0.36, None, 0.01), client)
    assert str(registry.production_version("inpars-reranker", client).version) == v1
    assert client.get_model_version("inpars-reranker", v1).tags["promotion.decision"] == "promoted"

    v2 = new_version(client, model_dir, 0.43)  # a regression: refused, production unchanged
    registry.apply_decision("inpars-reranker", v2, gate.decide("ndcg_at_10", 0.43, 0.36, 0.44, 0.01), client)
    tags = client.get_model_version("inpars-reranker", v2).tags
    assert tags["promotion.decision"] == "refused" and tags["promotion.production"] == "0.440000"
    assert str(registry.production_version("inpars-reranker", client).version) == v1

    v3 = new_version(client, model_dir, 0.47)
    registry.apply_decision("inpars-reranker", v3, gate.decide("ndcg_at_10", 0.47, 0.36, 0.44, 0.01), client)
    assert str(registry.production_version("inpars-reranker", client).version) == v3
    assert registry.rollback("inpars-reranker", client) == v1
    assert str(registry.production_version("inpars-reranker", client).version) == v1

    registry.promote("inpars-reranker", v2, reason="by hand", client=client)
    assert str(registry.production_version("inpars-reranker", client).version) == v2

    # the production model loads anywhere through the registry URI and scores pairs
    model = mlflow.pyfunc.load_model("models:/inpars-reranker@production")
    scores = model.predict(pd.DataFrame({"query": ["how do bees make honey"] * 2,
                                         "document": ["Bees turn nectar into honey.", "Solar panels make electricity."]}))
    assert scores[0] > scores[1]
    from synthir.models import ModelNotAvailableError

    assert (resolve_model("registry:inpars-reranker@production") / "synthir_reranker.txt").exists()
    # from a store elsewhere (S3, a tracking server) a version is downloaded once into the cache, not into
    # a new temp folder on every load
    import tempfile

    from mlflow.store.artifact.models_artifact_repo import ModelsArtifactRepository

    import synthir.models as models

    downloads, download = [], ModelsArtifactRepository.download_artifacts
    monkeypatch.setattr(models, "_stored_in_place", lambda repository: False)
    monkeypatch.setattr(ModelsArtifactRepository, "download_artifacts",
                        lambda self, *args, **kwargs: downloads.append(kwargs) or download(self, *args, **kwargs))
    monkeypatch.setenv("SYNTHIR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "temp"))
    (tmp_path / "temp").mkdir()
    first = resolve_model("registry:inpars-reranker@production")
    assert resolve_model(f"registry:inpars-reranker/{v2}") == first and len(downloads) == 1
    versions = list((tmp_path / "cache" / "registry").glob("*/inpars-reranker/*"))  # one, complete: no staging left
    assert [v.name for v in versions] == [str(v2)] and first.is_relative_to(versions[0])
    assert (first / "synthir_reranker.txt").exists() and list((tmp_path / "temp").iterdir()) == []
    # the most recently loaded versions are kept, the others removed (a model retrained nightly)
    monkeypatch.setattr(models, "REGISTRY_VERSIONS_KEPT", 2)
    for version in (v1, v3, v2):  # loading v3 removes v2 (then the least recently loaded); v2 comes back
        resolve_model(f"registry:inpars-reranker/{version}")
    assert sorted(v.name for v in versions[0].parent.iterdir()) == sorted([str(v3), str(v2)]) and len(downloads) == 4
    with pytest.raises(ModelNotAvailableError, match="could not load models:/nope@production"):
        resolve_model("registry:nope@production")


def test_rollback_without_history_is_refused(client, model_dir):
    with pytest.raises(RuntimeError, match="no production alias"):
        registry.rollback("inpars-reranker", client)
    v1 = new_version(client, model_dir, 0.44)
    registry.promote("inpars-reranker", v1, client=client)
    with pytest.raises(RuntimeError, match="first production version"):
        registry.rollback("inpars-reranker", client)


def test_versions_are_strings_on_both_branches_of_the_gate(client, model_dir):
    """MLflow returns alias versions as int and registered versions as str; the registry boundary
    hands out strings only, so a promoted version compares equal to the alias, and a refused one never."""
    promoted = new_version(client, model_dir, 0.44)
    registry.apply_decision("inpars-reranker", int(promoted), gate.decide("ndcg_at_10", 0.44, 0.36, None, 0.01), client)
    assert registry.alias_versions("inpars-reranker", client) == {"production": promoted}
    assert registry.production_version_id("inpars-reranker", client) == promoted
    assert isinstance(promoted, str)

    refused = new_version(client, model_dir, 0.30)
    registry.apply_decision("inpars-reranker", refused, gate.decide("ndcg_at_10", 0.30, 0.36, 0.44, 0.01), client)
    assert registry.production_version_id("inpars-reranker", client) == promoted != refused
    assert client.get_model_version("inpars-reranker", refused).tags["promotion.decision"] == "refused"
    # promoting the version already in production by hand is a no-op that still answers with a string
    assert registry.promote("inpars-reranker", int(promoted), client=client) == promoted


def small_model_uri() -> str:
    """A logged stand-in model (the transaction does not look inside it)."""
    with mlflow.start_run():
        return mlflow.pyfunc.log_model(name="model", python_model=StandIn(), pip_requirements=[]).model_uri


class StandIn(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input


def test_a_registration_cut_short_by_a_kill_is_completed_by_the_next_run(client):
    """A kill between registering a version and recording the gate's decision once left a version with
    lineage but no decision, which the next run called identical and never promoted."""
    identity = {"config_hash": "same"}
    decision = gate.decide("ndcg_at_10", 0.44, 0.36, None, 0.01)

    def killed(version, recorded):
        raise KeyboardInterrupt  # the process dies after the version exists, before the decision is applied

    with pytest.raises(KeyboardInterrupt):
        gate.register_gated("inpars-reranker", identity, decision, small_model_uri, {"ndcg_at_10": 0.44},
                                on_registered=killed, client=client)
    left = client.get_model_version("inpars-reranker", "1")
    assert left.tags["registration"] == "pending" and "promotion.decision" not in left.tags
    assert registry.production_version("inpars-reranker", client) is None

    mirrored = []
    again, duplicate = gate.register_gated("inpars-reranker", identity, gate.decide("ndcg_at_10", 0.43, 0.36, None, 0.01),
                                               small_model_uri, {}, on_registered=lambda v, d: mirrored.append(v), client=client)
    assert duplicate and again.version == "1" and not again.promoted
    assert "an interrupted run had left its registration incomplete, completed now" in again.reason
    assert "that version was promoted" in again.reason
    tags = client.get_model_version("inpars-reranker", "1").tags
    assert tags["registration"] == "complete" and tags["promotion.decision"] == "promoted"
    assert tags["promotion.candidate"] == "0.440000"  # the decision the interrupted run's gate made, not this one's
    assert registry.production_version_id("inpars-reranker", client) == "1" and mirrored == ["1"]
    assert [str(v.version) for v in client.search_model_versions("name='inpars-reranker'")] == ["1"]


def test_a_version_without_any_recorded_decision_is_never_counted_as_identical(client):
    legacy = registry.register_version(small_model_uri(), "inpars-reranker", {"config_hash": "same"}, client)
    decision, duplicate = gate.register_gated("inpars-reranker", {"config_hash": "same"},
                                                  gate.decide("ndcg_at_10", 0.44, 0.36, None, 0.01), small_model_uri,
                                                  {}, client=client)
    assert not duplicate and decision.version != legacy and decision.promoted
    assert registry.production_version_id("inpars-reranker", client) == decision.version


def test_two_identical_runs_at_once_register_one_version(client):
    import threading

    barrier = threading.Barrier(2)
    outcomes = {}

    def run(name):
        def log_model():
            uri = small_model_uri()
            barrier.wait(timeout=60)  # both have looked for an identical version and found none
            return uri
        outcomes[name] = gate.register_gated("inpars-reranker", {"config_hash": "same"},
                                                 gate.decide("ndcg_at_10", 0.44, 0.36, None, 0.01), log_model, {},
                                                 client=mlflow.MlflowClient(client.tracking_uri))

    threads = [threading.Thread(target=run, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    (first, first_duplicate), (second, second_duplicate) = outcomes.values()
    assert sorted([first_duplicate, second_duplicate]) == [False, True]
    kept = [str(v.version) for v in client.search_model_versions("name='inpars-reranker'")]
    assert len(kept) == 1 and first.version == second.version == kept[0]
    loser = first if first_duplicate else second
    assert "registered by a concurrent run" in loser.reason and f"v{kept[0]}" in loser.reason
    assert registry.production_version_id("inpars-reranker", client) == kept[0]


def test_the_served_model_cuts_documents_as_its_corpus_was_cut_and_can_name_the_best_passage(client, model_dir):
    from synthir.preparation.passages import PassageConfig, PassageSplitter
    from synthir.retrieval.reranker import Reranker

    manual = " ".join(f"Section {n}. " + ("Installing the package needs root rights and a network. " * 3
                                          if n == 7 else f"Unrelated chapter {n} about colours and fonts. " * 3)
                      for n in range(1, 13))
    pairs = pd.DataFrame({"query": ["how do I install the package", "which fonts"], "document": [manual, "Fonts."]})
    passages = PassageConfig(max_tokens=48, overlap_tokens=0)
    with mlflow.start_run():
        cut = mlflow.pyfunc.load_model(registry.log_reranker(model_dir, passages=passages.model_dump()))
        whole = mlflow.pyfunc.load_model(registry.log_reranker(model_dir, passages=None))
    pieces = PassageSplitter(passages).split(manual)
    scorer = Reranker(model_dir)
    expected = max(scorer.score([pairs["query"][0]] * len(pieces), pieces))
    best = cut.predict(pairs, params={"return_passage": True})
    assert len(pieces) > 3 and best["score"][0] == pytest.approx(expected, abs=0.01)  # bf16 batches round apart
    assert best["passage"][0] in pieces and "Installing the package" in best["passage"][0]
    assert cut.predict(pairs)[0] == pytest.approx(best["score"][0])  # scores alone by default
    # a corpus read whole: the served model scores the whole document, as training saw it
    assert whole.predict(pairs, params={"return_passage": True})["passage"][0] == manual
    assert whole.predict(pairs)[0] == pytest.approx(scorer.score([pairs["query"][0]], [manual])[0], abs=0.01)
