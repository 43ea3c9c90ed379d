"""CPO building blocks: the ALMA rule, QueryEval scores, a tiny real CPO run that registers a
generator version, and the copy-rate guard of the promotion gate."""

import math
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from synthir import registry
from synthir.cpo import (
    Candidate,
    CPOTrainingConfig,
    PreferenceConfig,
    PreferencePairs,
    QueryEvalConfig,
    alma_select,
    bm25_softmax,
    references_from_qrels,
    train_generator,
)
from synthir.cpo.preferences import completion
from synthir.data import load_collection
from synthir.generation import load_prompt
from synthir.lifecycle import gate

R, T, S = "reference", "teacher", "student"


def pick(*triples):
    selected = alma_select([Candidate(source, query, score) for source, query, score in triples])
    return None if selected is None else (selected[0].source, selected[1].source)


def test_alma_chosen_is_highest_rejected_is_lowest():
    assert pick((R, "ref query", 0.5), (T, "teacher query", 0.9), (S, "student query", 0.2)) == (T, S)
    assert pick((R, "ref query", 0.7), (T, "teacher query", 0.1), (S, "student query", 0.4)) == (R, T)
    assert pick((R, "ref query", 0.1), (T, "teacher query", 0.3), (S, "student query", 0.8)) == (S, R)


def test_alma_drops_ties_and_identical_texts():
    assert pick((R, "a", 0.5), (T, "b", 0.5), (S, "c", 0.5)) is None  # no preference at all
    assert pick((R, "a", 0.5), (T, "b", 0.5 + 1e-9), (S, "c", 0.5)) is None  # within the tie tolerance
    # the best and the worst are the same query (case and punctuation aside)
    assert pick((R, "How do bees fly?", 0.9), (S, "how do bees fly", 0.1)) is None
    assert pick((R, "only one", 0.9)) is None


def test_alma_breaks_ties_by_source_priority():
    # reference and teacher share the top: the reference is chosen; teacher and student share the bottom: the student is rejected
    assert pick((R, "a", 0.9), (T, "b", 0.9), (S, "c", 0.1)) == (R, S)
    assert pick((R, "a", 0.9), (T, "b", 0.1), (S, "c", 0.1)) == (R, S)


def test_bm25_softmax_is_a_distribution_over_the_whole_corpus():
    hits = {"d1": 12.0, "d2": 9.0, "d3": 3.0}
    total = sum(bm25_softmax(hits, d, corpus_size=10) for d in hits) + 7 * bm25_softmax(hits, "unseen", corpus_size=10)
    assert total == pytest.approx(1.0)
    assert bm25_softmax(hits, "d1", 10) > bm25_softmax(hits, "d2", 10) > bm25_softmax(hits, "unseen", 10)
    # a higher temperature flattens it; large scores do not overflow
    assert bm25_softmax(hits, "d1", 10, temperature=5.0) < bm25_softmax(hits, "d1", 10)
    assert math.isfinite(bm25_softmax({"d1": 5000.0}, "d1", 10)) and bm25_softmax({"d1": 5000.0}, "d1", 10) == pytest.approx(1.0)


def test_config_errors_name_the_field():
    from synthir.config import ConfigError

    with pytest.raises(ConfigError, match=r"^cpo\.loss_type: Input should be 'sigmoid', 'hinge', 'ipo' or 'simpo' \(got 'dpo'\)"):
        CPOTrainingConfig(loss_type="dpo")
    with pytest.raises(ConfigError, match=r"^cpo\.lr: Extra inputs are not permitted"):
        CPOTrainingConfig.from_dict({"lr": 1e-4})
    with pytest.raises(ConfigError, match=r"^preferences\.teacher: Extra inputs are not permitted"):
        PreferenceConfig.from_dict({"teacher": "x"})
    with pytest.raises(ConfigError, match=r"^query_eval\.bm25_temperature: Input should be greater than 0 \(got 0\)"):
        QueryEvalConfig(bm25_temperature=0)


@pytest.fixture(scope="module")
def demo(demo_dir):
    return load_collection(str(demo_dir))


@pytest.fixture(scope="module")
def scorer(demo):
    from synthir.cpo import QueryEvalScorer

    return QueryEvalScorer(demo.corpus)


def test_query_eval_rewards_on_topic_queries_and_penalises_copies(demo, scorer):
    refs = references_from_qrels(demo.queries, demo.qrels, demo.corpus)
    row = refs.queries[0]
    other = next(r for r in refs if demo.corpus[r.doc_id].contents != demo.corpus[row.doc_id].contents
                 and not set(r.query.split()) & set(row.query.split()))
    copied = " ".join(demo.corpus[row.doc_id].text.split()[:12])
    on_topic, off_topic, copy, empty = scorer.score([row.query, other.query, copied, ""], [row.doc_id] * 4)
    assert 0 < off_topic.score < on_topic.score <= 1
    assert 0 <= on_topic.similarity <= 1 and 0 <= on_topic.retrieval <= 1
    assert copy.is_copy and copy.copy_share == 1.0 and not on_topic.is_copy
    # the copy penalty takes back what copying gains on retrieval and similarity
    assert copy.score == pytest.approx(0.5 * copy.similarity + 0.5 * copy.retrieval - 0.5 * 1.0)
    assert empty.empty and empty.score == 0.0 and empty.rank is None
    summary = scorer.summary([on_topic, off_topic, copy, empty])
    assert summary["copy_rate"] == 0.25 and summary["empty_rate"] == 0.25 and summary["queries"] == 4


def test_references_from_qrels_cover_every_relevant_pair(demo):
    refs = references_from_qrels(demo.queries, demo.qrels, demo.corpus)
    expected = sum(len(demo.qrels.relevant(q) & demo.corpus.documents.keys()) for q in demo.qrels.judgments if q in demo.queries)
    assert len(refs) == expected and all(r.query == demo.queries[r.extra["query_id"]] for r in refs)


def tiny_pairs(demo) -> PreferencePairs:
    template = load_prompt("inpars", num_examples=1)
    refs = references_from_qrels(demo.queries, demo.qrels, demo.corpus).queries[:4]
    rows = [{"doc_id": r.doc_id, "prompt": template.render(demo.corpus[r.doc_id].contents[:400]),
             "chosen": completion(r.query, template), "rejected": completion(demo.corpus[r.doc_id].text[:60], template),
             "chosen_source": "reference", "rejected_source": "student", "chosen_score": 0.8, "rejected_score": 0.2,
             "reference": r.query, "teacher": "", "student": demo.corpus[r.doc_id].text[:60],
             "reference_score": 0.8, "teacher_score": 0.0, "student_score": 0.2} for r in refs]
    return PreferencePairs(pd.DataFrame(rows), teacher="none", student="package:smollm2-135m-instruct",
                           prompt_id=template.full_id, reference_source="qrels", corpus_fingerprint=demo.corpus.fingerprint(),
                           prompt_source=template.source, num_examples=1, max_doc_tokens=96)


def test_tiny_cpo_run_moves_the_adapter_and_registers_a_loadable_version(demo, tmp_path, client):
    from synthir.generation import make_backend
    from synthir.generation.backends import DecodingParams
    from synthir.models import resolve_model

    pairs = tiny_pairs(demo)
    config = CPOTrainingConfig(max_steps=2, batch_size=2, learning_rate=1e-3, lora_r=4, lora_alpha=8, save="adapter",
                               logging_steps=1, save_steps=1)
    result = train_generator(pairs, config, tmp_path / "cpo")
    assert result.steps == 2 and len(result.losses) == 2 and all(math.isfinite(x) for x in result.losses)
    assert result.adapter_norm > 0  # LoRA B starts at zero: training moved it
    assert {"rewards/margins", "nll_loss"} <= set(result.history[0])
    assert (result.model_dir / "adapter_model.safetensors").exists() and result.model_dir == result.adapter_dir
    assert list((tmp_path / "cpo" / "checkpoints").glob("checkpoint-*")), "checkpoints are written for resume"

    with mlflow.start_run():
        uri = registry.log_generator(result.model_dir)
    version = registry.register_version(uri, registry.GENERATOR_NAME, {"loss_type": "sigmoid"}, client)
    assert client.get_registered_model(registry.GENERATOR_NAME).description.startswith("Query generators")
    registry.promote(registry.GENERATOR_NAME, version, client=client)
    folder = resolve_model(f"registry:{registry.GENERATOR_NAME}@production")  # the adapter, merged into its base once
    assert (folder / "model.safetensors").exists() and (folder / "config.json").exists()
    # the merged copy still prompts as the student was tuned: its template, examples and document length
    from synthir.models import generator_prompt_source, read_generator_marker

    marker = read_generator_marker(folder)
    assert marker["format"] == "merged" and marker["num_examples"] == 1 and marker["max_doc_tokens"] == 96
    assert generator_prompt_source(folder).read_text() == Path(pairs.prompt_source).read_text()
    pyfunc = mlflow.pyfunc.load_model(f"models:/{registry.GENERATOR_NAME}/{version}").unwrap_python_model()
    assert pyfunc.max_doc_tokens == 96 and len(pyfunc.template.selected_examples()) == 1
    assert pyfunc.template.full_id == pairs.prompt_id
    backend = make_backend({"backend": "local", "model": f"registry:{registry.GENERATOR_NAME}@production", "batch_size": 2})
    assert backend.name == f"registry:{registry.GENERATOR_NAME}/{version}"  # lineage names the version, not the alias
    template = load_prompt("inpars", num_examples=2)
    out = backend.generate(template.prefix(), [template.target(demo.corpus.documents[pairs.frame.doc_id[0]].contents[:300])],
                           DecodingParams(max_new_tokens=16, stop=template.stop))
    assert out[0][0].text.strip()


def figures(query_eval: float, copy_rate: float) -> dict:
    return {"query_eval": query_eval, "copy_rate": copy_rate, "self_retrieval": 0.5}


def test_copy_rate_guard_refuses_a_better_scoring_generator_that_copies_more():
    base = figures(0.50, 0.02)
    ok = gate.decide_generator(figures(0.60, 0.05), base, None, margin=0.005, max_copy_rate_increase=0.05)
    assert ok.promoted, ok.reason
    copier = gate.decide_generator(figures(0.70, 0.20), base, None, margin=0.005, max_copy_rate_increase=0.05)
    assert not copier.promoted and "copy rate 0.200 rose beyond 0.020" in copier.reason
    assert copier.guards["copy_rate"] == 0.20
    # production copies less than the base: its rate is the reference
    against_production = gate.decide_generator(figures(0.70, 0.04), base, figures(0.60, 0.0), margin=0.005,
                                                   max_copy_rate_increase=0.03)
    assert not against_production.promoted and "rose beyond 0.000" in against_production.reason
    # no copy problem, but no gain over production either: the ordinary gate refuses
    flat = gate.decide_generator(figures(0.60, 0.0), base, figures(0.60, 0.0), margin=0.005, max_copy_rate_increase=0.05)
    assert not flat.promoted and "does not beat production" in flat.reason


def register_adapter_versions(client, folder_root, count: int) -> list[str]:
    """``count`` versions of inpars-generator: an adapter marker only (nothing here loads them)."""
    folder = folder_root / "gen"
    folder.mkdir()
    (folder / "synthir_generator.json").write_text('{"format": "adapter", "base_model": "package:smollm2-135m-instruct"}')
    versions = []
    for _ in range(count):
        with mlflow.start_run():
            uri = registry.log_generator(folder)
        versions.append(registry.register_version(uri, registry.GENERATOR_NAME, {}, client))
    return versions


def test_refused_generator_keeps_production_where_it_was(client, tmp_path):
    versions = register_adapter_versions(client, tmp_path, 2)
    base = figures(0.5, 0.0)
    registry.apply_decision(registry.GENERATOR_NAME, versions[0],
                            gate.decide_generator(figures(0.6, 0.0), base, None, 0.005, 0.05), client)
    refused = gate.decide_generator(figures(0.9, 0.3), base, figures(0.6, 0.0), 0.005, 0.05, previous_production=versions[0])
    registry.apply_decision(registry.GENERATOR_NAME, versions[1], refused, client)
    assert str(registry.production_version(registry.GENERATOR_NAME, client).version) == versions[0]
    tags = client.get_model_version(registry.GENERATOR_NAME, versions[1]).tags
    assert tags["promotion.decision"] == "refused" and float(tags["promotion.copy_rate"]) == pytest.approx(0.3)
    assert tags["promotion.baseline_name"] == "base generator"


def test_a_run_keeps_the_version_it_pinned_when_the_alias_is_removed_mid_run(client, tmp_path):
    """Composed with ``@production`` (pinned to its version), then the alias is removed: the run's
    steps still load that version; a new run fails at once, naming the missing alias."""
    import mlflow

    from synthir.generation.backends import pin_generator_spec
    from synthir.models import ModelNotAvailableError, pin_registry_ref

    (version,) = register_adapter_versions(client, tmp_path, 1)
    registry.promote(registry.GENERATOR_NAME, version, client=client)
    pinned = pin_generator_spec({"model": f"registry:{registry.GENERATOR_NAME}@production"})
    client.delete_registered_model_alias(registry.GENERATOR_NAME, "production")
    assert pinned.model == f"registry:{registry.GENERATOR_NAME}/{version}"
    assert any(Path(mlflow.artifacts.download_artifacts(f"models:/{registry.GENERATOR_NAME}/{version}")).iterdir())
    with pytest.raises(ModelNotAvailableError, match="no version of 'inpars-generator' has the alias 'production'"):
        pin_registry_ref(f"registry:{registry.GENERATOR_NAME}@production")


def test_unknown_registry_alias_is_a_clear_error(client):
    from synthir.models import ModelNotAvailableError, pin_registry_ref

    with pytest.raises(ModelNotAvailableError, match="no version of 'inpars-generator' has the alias 'production'"):
        pin_registry_ref("registry:inpars-generator@production")
    assert pin_registry_ref("package:smollm2-135m-instruct") == "package:smollm2-135m-instruct"
    assert pin_registry_ref("registry:inpars-generator/3") == "registry:inpars-generator/3"


def test_a_registry_alias_is_pinned_before_the_step_cache_key_is_computed(client, tmp_path):
    """After a promotion moves the alias, a re-run's generation step gets another parameter (so it is
    not served from the cache of the old generator's queries) and records the version as lineage."""
    from pipelines.generation import generation_pipeline
    from synthir.generation.backends import as_generator_spec, pin_generator_spec

    versions = register_adapter_versions(client, tmp_path, 2)
    spec = {"backend": "local", "model": f"registry:{registry.GENERATOR_NAME}@production", "batch_size": 4}

    def generation_parameters():
        generation_pipeline.prepare(generator=spec)
        (invocation,) = [i for i in generation_pipeline.invocations.values() if i.step.name == "generate_synthetic_queries"]
        return as_generator_spec(invocation.parameters["generator"]).model

    registry.promote(registry.GENERATOR_NAME, versions[0], client=client)
    pinned = pin_generator_spec(spec)
    assert pinned.model == f"registry:{registry.GENERATOR_NAME}/{versions[0]}" and pinned.batch_size == 4
    assert generation_parameters() == f"registry:{registry.GENERATOR_NAME}/{versions[0]}"
    registry.promote(registry.GENERATOR_NAME, versions[1], client=client)
    assert generation_parameters() == f"registry:{registry.GENERATOR_NAME}/{versions[1]}"
    assert pin_generator_spec({"model": "package:smollm2-135m-instruct"}).model == "package:smollm2-135m-instruct"
