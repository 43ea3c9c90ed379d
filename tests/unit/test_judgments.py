"""Label-free evaluation: held-out documents and the synthetic judgments written for them."""

import pytest

from synthir.config import ConfigError
from synthir.data import Corpus, Document
from synthir.generation.backends.base import Completion, GeneratorBackend
from synthir.judgments.config import EvaluationConfig, SyntheticJudgmentsConfig, resolve_source
from synthir.judgments.synthetic import hold_out, synthetic_judgments


def corpus(n: int) -> Corpus:
    return Corpus({f"d{i:03d}": Document(f"d{i:03d}", f"topic{i} words about thing {i}") for i in range(n)}
                  | {"empty": Document("empty", " ")})


def test_hold_out_is_seeded_capped_disjoint_and_stable_as_the_corpus_grows():
    config = SyntheticJudgmentsConfig(held_out_documents=10, max_held_out_fraction=0.2)
    training, held = hold_out(corpus(100), config)
    assert len(held) == 10 and not set(held.documents) & set(training.documents)
    assert set(held.documents) | set(training.documents) == set(corpus(100).documents)
    assert "empty" not in held  # an empty document makes no evaluation query
    assert set(hold_out(corpus(100), config)[1].documents) == set(held.documents)
    assert set(hold_out(corpus(100), config.model_copy(update={"seed": 7}))[1].documents) != set(held.documents)
    # growing the corpus: a document held out before stays held out unless a newcomer outranks it
    _, grown = hold_out(corpus(110), config)
    assert len(set(grown.documents) & set(held.documents)) >= 8
    _, small = hold_out(corpus(20), config)
    assert len(small) == 4  # at most 20% of the corpus


class TopicBackend(GeneratorBackend):
    """Writes the document's first word as its query; a 'topic0' document gets an empty one."""

    name = "topics"

    def generate(self, prefix, targets, params, on_batch=None):
        out = []
        for target in targets:
            document = target.split("\n")[-2].split(": ", 1)[1]
            word = document.split()[0]
            out.append([Completion("" if word == "topic0" else f" {word} thing\nExample", [-0.5])])
        return out


def test_synthetic_judgments_judge_each_query_by_its_source_document(tmp_path):
    held = Corpus({f"d{i}": Document(f"d{i}", f"topic{i} words about thing {i}") for i in range(6)})
    judgments = synthetic_judgments(held, SyntheticJudgmentsConfig(), checkpoint_root=tmp_path, backend=TopicBackend())
    assert len(judgments.queries) == 5  # the empty query is quarantined by the checks
    for qid, text in judgments.queries:
        (doc_id,) = judgments.qrels.judgments[qid]
        assert judgments.qrels.judgments[qid] == {doc_id: 1} and text == f"{held[doc_id].text.split()[0]} thing"
    assert judgments.figures["held_out_documents"] == 6 and judgments.figures["evaluation_queries"] == 5
    assert judgments.generator == "topics"


def test_the_evaluation_generator_defaults_to_a_different_model_from_the_training_one():
    from synthir.generation.backends import LocalGenerator

    assert EvaluationConfig().synthetic.generator.model != LocalGenerator().model


def test_sources_resolve_against_the_collection(demo_dir, tmp_path):
    assert resolve_source(EvaluationConfig(), str(demo_dir)) == "judged"
    corpus_only = tmp_path / "c"
    corpus_only.mkdir()
    (corpus_only / "corpus.jsonl").write_text((demo_dir / "corpus.jsonl").read_text())
    assert resolve_source(EvaluationConfig(), str(corpus_only)) == "synthetic"
    assert resolve_source(EvaluationConfig(), str(demo_dir / "corpus.jsonl")) == "synthetic"
    with pytest.raises(ConfigError, match="evaluation.source: judged, but .* has no qrels/test.tsv"):
        resolve_source(EvaluationConfig(source="judged"), str(corpus_only))
    assert resolve_source(EvaluationConfig(source="golden", golden=str(demo_dir)), str(corpus_only)) == "golden"
    with pytest.raises(ConfigError, match="source: golden needs `golden:`"):
        EvaluationConfig.from_dict({"source": "golden"})


class OverlapJudge(GeneratorBackend):
    """Grades a pair by shared words (3 for two or more), or replies without a digit when told to."""

    name = "overlap-judge"

    def __init__(self, broken: bool = False):
        self.calls = 0
        self.broken = broken

    def generate(self, prefix, targets, params, on_batch=None):
        self.calls += len(targets)
        out = []
        for target in targets:
            query = target.split("Query: ", 1)[1].split("\n", 1)[0]
            passage = target.split("Passage: ", 1)[1].split("\n", 1)[0]
            shared = len(set(query.lower().split()) & set(passage.lower().split()))
            out.append([Completion("I think so" if self.broken else f" {min(3, shared)}", [-0.1])])
        return out


def test_the_llm_judge_grades_pooled_documents_once_and_caches_them(tmp_path):
    from synthir.data import Run
    from synthir.judgments.llm_judge import JudgmentCache, LLMJudge, parse_grade, pool

    corpus_ = Corpus({"a": Document("a", "honey bees make honey"), "b": Document("b", "solar panels"),
                      "c": Document("c", "bees and wasps")})
    runs = {"x": Run({"q1": {"a": 3.0, "b": 2.0, "c": 1.0}}), "y": Run({"q1": {"c": 5.0, "b": 1.0}})}
    assert pool(runs, depth=1) == {"q1": ["a", "c"]}
    assert parse_grade(" 2") == 2 and parse_grade("##final score: 3") == 3 and parse_grade("none") is None
    backend = OverlapJudge()
    judge = LLMJudge(backend, JudgmentCache(tmp_path / "j.sqlite"), depth=2)
    qrels = judge(runs, {"q1": "how do honey bees work"}, corpus_)
    assert qrels.judgments == {"q1": {"a": 2, "b": 0, "c": 1}} and backend.calls == 3
    assert judge.figures["new_judgments"] == 3
    again = LLMJudge(backend, JudgmentCache(tmp_path / "j.sqlite"), depth=2)
    assert again(runs, {"q1": "how do honey bees work"}, corpus_).judgments == qrels.judgments
    assert backend.calls == 3 and again.figures["cached_judgments"] == 3  # nothing judged twice
    changed = Corpus({**corpus_.documents, "a": Document("a", "honey bees honey work")})
    again(runs, {"q1": "how do honey bees work"}, changed)
    assert backend.calls == 4  # a changed document is judged again
    with pytest.raises(RuntimeError, match="none of 3 replies held a grade 0-3"):
        LLMJudge(OverlapJudge(broken=True), JudgmentCache(tmp_path / "k.sqlite"), depth=2)(
            runs, {"q1": "bees"}, corpus_)


def test_compare_rerankers_with_a_judge_scores_every_query_on_its_grades(demo_dir, tmp_path):
    from synthir.data import Qrels, load_collection
    from synthir.judgments.llm_judge import JudgmentCache, LLMJudge
    from synthir.lifecycle.gate import compare_rerankers

    class Overlap:
        def score(self, queries, documents, doc_ids=None):
            return [float(len(set(q.lower().split()) & set(d.lower().split()))) for q, d in zip(queries, documents)]

    demo = load_collection(demo_dir)
    queries = demo.queries.subset(list(demo.queries.queries)[:8])
    judge = LLMJudge(OverlapJudge(), JudgmentCache(tmp_path / "j.sqlite"), depth=3)
    comparison, results, _ = compare_rerankers(demo.corpus, queries, Qrels({}), Overlap(), zero_shot=Overlap(),
                                               depth=10, fusion_weight=0.5, source="llm_judge", judge=judge)
    assert comparison.source == "llm_judge" and comparison.eval_queries == 8
    assert comparison.judgments == judge.figures["judgments"] > 0
    assert {r.system for r in results} == {"bm25", "zero-shot", "zero-shot-fused", "trained", "fused"}
