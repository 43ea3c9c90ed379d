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
    with pytest.raises(ValueError, match="evaluation.source: judged, but .* has no qrels/test.tsv"):
        resolve_source(EvaluationConfig(source="judged"), str(corpus_only))
    assert resolve_source(EvaluationConfig(source="golden", golden=str(demo_dir)), str(corpus_only)) == "golden"
    with pytest.raises(ConfigError, match="source: golden needs `golden:`"):
        EvaluationConfig.from_dict({"source": "golden"})
