import subprocess
import sys

import pytest

from synthir.data import Corpus, Document, Qrels, Queries, Run, load_collection, write_qrels_trec, write_run_trec
from synthir.evaluation import evaluate
from synthir.retrieval import BM25Config, BM25Index


@pytest.fixture(scope="module")
def demo(demo_dir):
    return load_collection(demo_dir)


def test_bm25_ranks_the_matching_document_first(tmp_path):
    corpus = Corpus({
        "bees": Document("bees", "Honey bees collect nectar and turn it into honey in the hive.", "Beekeeping"),
        "sun": Document("sun", "Photovoltaic panels convert sunlight into electricity.", "Solar power"),
        "bread": Document("bread", "Sourdough bread rises thanks to wild yeast in the starter.", "Baking"),
    })
    index = BM25Index.build(corpus, cache_dir=tmp_path)
    run = index.search(Queries({"q1": "how do bees make honey", "q2": "solar electricity"}), k=3)
    assert run.ranked("q1")[0][0] == "bees"
    assert run.ranked("q2")[0][0] == "sun"
    # title is part of the contents by default, so a title-only word matches
    assert index.search(Queries({"q": "beekeeping"}), k=3).ranked("q")[0][0] == "bees"
    no_title = BM25Index.build(corpus, BM25Config(include_title=False), cache_dir=tmp_path)
    assert no_title.search(Queries({"q": "beekeeping"}), k=3).scores["q"] == {}


def test_ids_with_spaces_and_percent_signs_come_back_exact(tmp_path):
    # file names become ids: "my notes.txt" once came back as 'my' with score 1.0, and "a ..b c.txt"
    # broke the TREC file BM25 reads back
    corpus = Corpus({
        "my notes.txt": Document("my notes.txt", "Honey bees collect nectar and turn it into honey."),
        "a ..b c.txt": Document("a ..b c.txt", "Photovoltaic panels convert sunlight into electricity."),
        "50%20off\tsale": Document("50%20off\tsale", "Sourdough bread rises thanks to wild yeast."),
        "plain": Document("plain", "Granite is an igneous rock."),
    })
    index = BM25Index.build(corpus, cache_dir=tmp_path)
    run = index.search(Queries({"bees q": "bees honey", "q2": "solar sunlight electricity", "q3": "sourdough yeast"}), k=4)
    assert run.ranked("bees q")[0][0] == "my notes.txt"
    assert run.ranked("q2")[0][0] == "a ..b c.txt"
    assert run.ranked("q3")[0][0] == "50%20off\tsale"
    assert {d for hits in run.scores.values() for d in hits} <= {d.doc_id for d in corpus}
    assert index.rank_of("bees honey", "my notes.txt", k=3) == 1


def test_trec_writers_refuse_ids_they_cannot_carry_and_beir_qrels_keep_spaces(tmp_path):
    from synthir.data import read_qrels, write_qrels_tsv

    run = Run({"q1": {"my notes.txt": 1.0}}, name="bm25")
    with pytest.raises(ValueError, match=r"run.trec: document id 'my notes.txt' contains white space"):
        write_run_trec(run, tmp_path / "run.trec")
    qrels = Qrels({"q 1": {"my notes.txt": 1}})
    with pytest.raises(ValueError, match=r"query id 'q 1' contains white space"):
        write_qrels_trec(qrels, tmp_path / "qrels.txt")
    assert not (tmp_path / "run.trec").exists() and not (tmp_path / "qrels.txt").exists()
    # BEIR's TSV qrels split on tabs: spaces in ids survive the round trip
    assert read_qrels(write_qrels_tsv(qrels, tmp_path / "qrels.tsv")).judgments == qrels.judgments
    with pytest.raises(ValueError, match=r"document id 'a\\tb' contains a tab or newline"):
        write_qrels_tsv(Qrels({"q": {"a\tb": 1}}), tmp_path / "bad.tsv")


def test_index_is_cached_per_fingerprint(tmp_path, demo):
    first = BM25Index.build(demo.corpus, cache_dir=tmp_path)
    second = BM25Index.build(demo.corpus, cache_dir=tmp_path)
    assert not first.info.cached and second.info.cached
    assert first.info.path == second.info.path
    assert first.info.fingerprint in first.info.path.name
    # nothing half-built is left beside the index
    assert sorted(p.name for p in (tmp_path / "bm25").iterdir()) == [first.info.path.name]


def test_bm25_on_demo_and_trec_eval_agrees(tmp_path, demo):
    index = BM25Index.build(demo.corpus, cache_dir=tmp_path)
    run = index.search(demo.judged_queries(), k=100)
    result = evaluate(run, demo.qrels, measures=["nDCG@10", "R@100"])
    assert len(result.per_query) == len(demo.qrels.judgments)
    # Hand-written demo queries paraphrase their documents: BM25 finds most but not all.
    assert 0.4 < result.aggregate["nDCG@10"] < 1.0

    run_file = write_run_trec(run, tmp_path / "bm25.run")
    qrels_file = write_qrels_trec(demo.qrels, tmp_path / "qrels.txt")
    out = subprocess.run(
        [sys.executable, "-m", "synthir.trec_eval", "-m", "ndcg_cut.10", str(qrels_file), str(run_file)],
        capture_output=True, text=True, check=True, timeout=300,
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("ndcg_cut_10"))
    assert float(line.split()[-1]) == pytest.approx(result.aggregate["nDCG@10"], abs=1e-4)
    # a malformed run file ends with one line naming it, not pyserini's traceback
    first, *rest = run_file.read_text().splitlines()
    run_file.write_text("\n".join([first.rsplit(" ", 1)[0], *rest]) + "\n")  # line 1 loses its tag
    failed = subprocess.run([sys.executable, "-m", "synthir.trec_eval", "-m", "ndcg_cut.10", str(qrels_file),
                             str(run_file)], capture_output=True, text=True, timeout=300)
    assert failed.returncode == 2 and failed.stderr.strip().splitlines() == [
        f"synthir eval: {run_file}:1: expected 6 fields (qid Q0 docid rank score tag), got 5"]


def test_bm25_on_cisi_matches_reference(tmp_path, cisi_dir):
    collection = load_collection(cisi_dir)
    index = BM25Index.build(collection.corpus, cache_dir=tmp_path)
    result = evaluate(index.search(collection.judged_queries(), k=1000), collection.qrels)
    assert result.aggregate["nDCG@10"] == pytest.approx(0.358, abs=0.005)
    assert result.aggregate["RR@10"] == pytest.approx(0.613, abs=0.005)


def test_qrels_type_roundtrip_for_empty_judgments():
    assert Qrels({}).to_frame().empty
