"""Retraining decisions against a real MLflow registry, generation shards, and the batch rerank command."""

import mlflow
import pytest

from synthir import registry
from synthir.data import load_collection
from synthir.data.synthetic import SyntheticQueries, SyntheticQuery
from synthir.generation.shards import merge_shards, shard_corpus
from synthir.retraining import RetrainingPolicy, decide_retraining, log_manifest


def production_with(client, tmp_path, tags: dict, manifest: dict | None = None, promote: bool = True) -> str:
    folder = tmp_path / "reranker"
    folder.mkdir(exist_ok=True)
    (folder / "synthir_reranker.txt").write_text("bi-encoder")
    with mlflow.start_run():
        uri = registry.log_reranker(folder)
        if manifest is not None:
            log_manifest(manifest)
    version = registry.register_version(uri, "inpars-reranker", tags, client)
    if promote:
        registry.promote("inpars-reranker", version, client=client)
    return version


def test_the_policy_counts_new_changed_and_removed_documents(client, tmp_path, monkeypatch):
    import tempfile

    then = {f"d{i}": f"h{i}" for i in range(100)}
    production_with(client, tmp_path, {"corpus_fingerprint": "abc"}, manifest=then)
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))  # reading production's manifest leaves nothing there
    now = {**{k: v for k, v in then.items() if k != "d0"}, "d1": "edited", "new1": "x", "new2": "y"}
    decision = decide_retraining("def", client=client, manifest=now)
    assert decision.retrain and (decision.new_documents, decision.changed_documents, decision.removed_documents) == (2, 1, 1)
    assert "2 new, 1 changed, 1 removed documents (3.9%)" in decision.reason
    strict = decide_retraining("def", client=client, manifest=now, policy=RetrainingPolicy(min_new_documents=5))
    assert not strict.retrain and "below the policy (min_new_documents 5" in strict.reason
    share = decide_retraining("def", client=client, manifest=now, policy=RetrainingPolicy(min_changed_fraction=0.1))
    assert not share.retrain
    assert decide_retraining("def", client=client, manifest=now, force=True,
                             policy=RetrainingPolicy(min_new_documents=5)).retrain
    assert list(temp.iterdir()) == []


def test_a_refused_corpus_and_config_is_not_retried_until_one_changes(client, tmp_path):
    production_with(client, tmp_path, {"corpus_fingerprint": "old"})
    refused = production_with(client, tmp_path, {"corpus_fingerprint": "new", "pipeline_config_hash": "cfg1",
                                                 "promotion.decision": "refused", "promotion.reason": "not significant"},
                              promote=False)
    again = decide_retraining("new", client=client, config_hash="cfg1")
    assert not again.retrain and again.refused_version == refused and "not significant" in again.reason
    assert decide_retraining("new", client=client, config_hash="cfg2").retrain  # the config changed
    assert decide_retraining("newer", client=client, config_hash="cfg1").retrain  # the corpus changed
    assert decide_retraining("new", client=client, config_hash="cfg1", force=True).retrain
    assert decide_retraining("new", client=client, config_hash="cfg1", policy=RetrainingPolicy(retry_refused=True)).retrain


def test_find_version_by_tag(client, tmp_path):
    first = production_with(client, tmp_path, {"config_hash": "same"}, promote=False)
    second = production_with(client, tmp_path, {"config_hash": "same"}, promote=False)
    assert str(registry.find_version("inpars-reranker", {"config_hash": "same"}, client).version) == second != first
    assert registry.find_version("inpars-reranker", {"config_hash": "other"}, client) is None
    assert registry.find_version("no-such-model", {"config_hash": "same"}, client) is None


def test_no_production_model_means_retrain(client):
    decision = decide_retraining("abc", client=client)
    assert decision.retrain and "no inpars-reranker@production yet" in decision.reason


def test_unchanged_corpus_is_skipped_and_changed_corpus_retrains(client, tmp_path):
    version = production_with(client, tmp_path, {"corpus_fingerprint": "abc"})
    same = decide_retraining("abc", client=client)
    assert not same.retrain and "unchanged" in same.reason and same.production_version == version
    changed = decide_retraining("def", client=client)
    assert changed.retrain and "trained on abc, the corpus is now def" in changed.reason
    assert decide_retraining("abc", force=True, client=client).retrain


def test_production_without_lineage_retrains(client, tmp_path):
    production_with(client, tmp_path, {})
    decision = decide_retraining("abc", client=client)
    assert decision.retrain and "no corpus_fingerprint tag" in decision.reason


def test_shards_cover_the_sample_once_and_merge_in_order(demo_dir):
    corpus = load_collection(str(demo_dir)).corpus
    shards = [shard_corpus(corpus, 20, 7, i, 3) for i in range(3)]
    ids = [d for s in shards for d in s.documents]
    assert len(ids) == len(set(ids)) == 20
    parts = [SyntheticQueries([SyntheticQuery(doc_id=d, query=f"q {d}") for d in s.documents], generator="g", prompt_id="p",
                              stats={"documents": float(len(s)), "queries": float(len(s)), "empty_rate": 0.0})
             for s in shards]
    merged = merge_shards(parts, corpus.fingerprint())
    assert len(merged) == 20 and merged.corpus_fingerprint == corpus.fingerprint()
    assert merged.stats["documents"] == 20 and merged.stats["shards"] == 3
    with pytest.raises(ValueError, match="repeats document"):
        merge_shards([parts[0], parts[0]], corpus.fingerprint())
    with pytest.raises(ValueError, match="must share"):
        merge_shards([parts[0], SyntheticQueries([], generator="other", prompt_id="p")], corpus.fingerprint())
    with pytest.raises(ValueError, match="0 <= index < count"):
        shard_corpus(corpus, 20, 7, 3, 3)


def test_batch_rerank_command_rewrites_a_run_file(demo_dir, tmp_path):
    from synthir.data.readers import read_run
    from synthir.data.writers import write_run_trec
    from synthir.rerank_run import rerank_run_file
    from synthir.retrieval import BM25Index

    collection = load_collection(str(demo_dir))
    queries = collection.judged_queries().subset(list(collection.judged_queries().queries)[:3])
    first_stage = BM25Index.build(collection.corpus).search(queries, k=20)
    bm25 = write_run_trec(first_stage, tmp_path / "bm25.trec")
    out = rerank_run_file(bm25, demo_dir / "queries.jsonl", demo_dir / "corpus.jsonl", tmp_path / "reranked.trec",
                          model="package:all-minilm-l6-v2", depth=10)
    reranked = read_run(out)
    assert set(reranked.scores) == set(queries.queries)
    for qid, hits in reranked.scores.items():  # each query's top 10 first-stage documents, re-scored
        assert set(hits) == {d for d, _ in first_stage.ranked(qid)[:10]}
    bad = tmp_path / "bad.trec"
    bad.write_text("nope Q0 d001 1 1.0 x\n")
    with pytest.raises(ValueError, match="query id"):
        rerank_run_file(bad, demo_dir / "queries.jsonl", demo_dir / "corpus.jsonl", tmp_path / "x.trec",
                        model="package:all-minilm-l6-v2")


def warm_start_triples(doc_ids: list[str]):
    import pandas as pd

    from synthir.training.triples import Triples

    rows = [(f"q{i}", f"query {i}", d, f"text {d}", "n", "negative") for i, d in enumerate(doc_ids)]
    return Triples(pd.DataFrame(rows, columns=["query_id", "query", "pos_id", "positive", "neg_id", "negative"]), "fp")


def test_warm_start_fine_tunes_production_on_new_documents_with_replay(client, tmp_path):
    from synthir.data import Corpus, Document
    from synthir.data.records import content_hash
    from synthir.training import RerankerTrainingConfig
    from synthir.warm_start import plan_warm_start

    old = [Document(f"d{i}", f"old {i}") for i in range(8)]
    corpus = Corpus({d.doc_id: d for d in [*old, Document("d0", "edited"), Document("new", "added")]})
    version = production_with(client, tmp_path, {"corpus_fingerprint": "abc", "model_type": "bi-encoder"},
                              manifest={d.doc_id: content_hash(d) for d in old})
    triples = warm_start_triples([f"d{i}" for i in range(8)] + ["new", "new"])
    config = RerankerTrainingConfig(init_from="production", replay_ratio=2.0)
    plan = plan_warm_start(triples, corpus, config, "inpars-reranker", client)
    assert plan.init_model == f"registry:inpars-reranker/{version}"
    kept = plan.triples.frame
    # d0 changed and "new" is new: 3 new triples, and 6 of the other 7 replayed, in their original order
    assert plan.figures == {"all_triples": 10.0, "new_triples": 3.0, "replayed_triples": 6.0}
    assert {"d0", "new"} <= set(kept["pos_id"]) and len(kept) == 9
    assert list(kept["query_id"]) == sorted(kept["query_id"], key=lambda q: int(q[1:]))
    again = plan_warm_start(triples, corpus, config, "inpars-reranker", client)
    assert again.triples.fingerprint() == plan.triples.fingerprint()  # seeded
    none = plan_warm_start(triples, corpus, config.model_copy(update={"replay_ratio": 0.0}), "inpars-reranker", client)
    assert set(none.triples.frame["pos_id"]) == {"d0", "new"}
    assert plan_warm_start(triples, corpus, RerankerTrainingConfig(), "inpars-reranker", client).triples is triples


def test_warm_start_without_production_trains_the_base_model_and_says_so(client):
    from synthir.data import Corpus, Document
    from synthir.training import RerankerTrainingConfig
    from synthir.warm_start import plan_warm_start

    corpus = Corpus({"d0": Document("d0", "text")})
    plan = plan_warm_start(warm_start_triples(["d0"]), corpus, RerankerTrainingConfig(init_from="production"),
                           "inpars-reranker", client)
    assert plan.init_model == "package:all-minilm-l6-v2" and "no production version yet" in plan.reason


def test_warm_start_refuses_another_model_type_or_nothing_new(client, tmp_path):
    from synthir.data import Corpus, Document
    from synthir.data.records import content_hash
    from synthir.training import RerankerTrainingConfig
    from synthir.warm_start import WarmStartError, plan_warm_start

    corpus = Corpus({"d0": Document("d0", "text"), "d1": Document("d1", "new")})
    production_with(client, tmp_path, {"model_type": "cross-encoder"}, manifest={"d0": content_hash(corpus["d0"])})
    with pytest.raises(WarmStartError, match="is a cross-encoder and training.model_type is bi-encoder"):
        plan_warm_start(warm_start_triples(["d0"]), corpus, RerankerTrainingConfig(init_from="production"),
                        "inpars-reranker", client)
    config = RerankerTrainingConfig(init_from="production", model_type="cross-encoder")
    with pytest.raises(WarmStartError, match="none of the 1 training triples is about one of the 1 documents"):
        plan_warm_start(warm_start_triples(["d0"]), corpus, config, "inpars-reranker", client)
