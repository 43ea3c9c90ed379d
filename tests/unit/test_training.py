import dataclasses

import pytest

from synthir.data import Qrels, load_collection
from synthir.data.synthetic import SyntheticQueries, SyntheticQuery
from synthir.retrieval.reranker import Reranker
from synthir.training import RerankerTrainingConfig, build_triples, train_reranker
from synthir.training.rerankers import last_checkpoint


@pytest.fixture(scope="module")
def demo(demo_dir):
    return load_collection(demo_dir)


@pytest.fixture(scope="module")
def one_layer_minilm(tmp_path_factory) -> str:
    """all-MiniLM-L6-v2 cut to its first layer (its embeddings, tokenizer and pooling kept): the training
    mechanics (losses, checkpoints, resuming, dev selection) on a model that still knows words, at about a
    fifth of the cost. The flow tests train the real one."""
    from sentence_transformers import SentenceTransformer

    from synthir.models import resolve_model

    model = SentenceTransformer(str(resolve_model("package:all-minilm-l6-v2")), device="cpu")
    encoder = model[0].auto_model
    encoder.encoder.layer = encoder.encoder.layer[:1]
    encoder.config.num_hidden_layers = 1
    folder = tmp_path_factory.mktemp("one-layer-minilm")
    model.save(str(folder))
    return str(folder)


def synthetic(demo, count=24):
    rows = []
    for doc in list(demo.corpus)[:count]:
        rows.append(SyntheticQuery(doc_id=doc.doc_id, query=" ".join(doc.title.lower().split()[:6]), log_probs=[-1.0],
                                   doc_text=doc.contents, extra={"index": 0}))
    return SyntheticQueries(rows, corpus_fingerprint=demo.corpus.fingerprint())


def test_triples_exclude_positives_and_judged_documents(demo):
    queries = synthetic(demo)
    first = queries.queries[0]
    qid = f"{first.doc_id}-0"
    # pretend a second document is judged relevant for the first query: it must never be a negative
    judged_doc = next(d for d in demo.corpus.documents if d != first.doc_id)
    triples = build_triples(queries, demo.corpus, negatives_per_query=5, depth=50, seed=1,
                            judged=Qrels({qid: {judged_doc: 1}}))
    frame = triples.frame
    assert len(frame) == 5 * len(queries)
    assert (frame["pos_id"] != frame["neg_id"]).all()
    assert judged_doc not in set(frame[frame["query_id"] == qid]["neg_id"])
    again = build_triples(queries, demo.corpus, negatives_per_query=5, depth=50, seed=1, judged=Qrels({qid: {judged_doc: 1}}))
    assert again.frame.equals(frame)  # seeded


def test_queries_of_another_corpus_are_refused_naming_both_fingerprints(demo):
    """The latest filtered_queries may come from another collection's run: once a bare KeyError: '415'."""
    from dataclasses import replace

    other = replace(synthetic(demo, 3), corpus_fingerprint="0123abcd")
    other.queries[0].doc_id = "415"
    with pytest.raises(ValueError, match=r"1 document\(s\) the queries were written for are not in the corpus \(e\.g\. "
                                         rf"\['415'\]\): the queries belong to corpus 0123abcd, the collection's is "
                                         rf"{demo.corpus.fingerprint()}; pick the queries artifact of this collection by "
                                         r"its version .*artifact_version"):
        build_triples(other, demo.corpus, seed=0)


def test_triples_tsv(demo, tmp_path):
    triples = build_triples(synthetic(demo, 3), demo.corpus, seed=0)
    lines = triples.write_tsv(tmp_path / "triples.tsv").read_text().splitlines()
    assert len(lines) == 3 and all(len(line.split("\t")) == 3 for line in lines)


def judged_pairs(demo) -> SyntheticQueries:
    """The demo's hand-written queries with a relevant document: paraphrases, so not trivially easy."""
    rows = []
    for qid, text in demo.queries:
        doc_id = sorted(demo.qrels.relevant(qid, 2))[0]
        rows.append(SyntheticQuery(doc_id=doc_id, query=text, doc_text=demo.corpus[doc_id].contents, extra={"index": 0}))
    return SyntheticQueries(rows)


@pytest.mark.parametrize("model_type", ["bi-encoder", "cross-encoder"])
def test_tiny_training_run_lowers_the_loss(demo, tmp_path, model_type, one_layer_minilm):
    triples = build_triples(judged_pairs(demo), demo.corpus, negatives_per_query=1, seed=0)  # 40 triples
    # a cross-encoder's new classification head learns on 80 pairs only above a full MiniLM (on one or two
    # layers the loss stays at log 2 for 4 epochs at 3e-4 and 1e-3)
    base_model = one_layer_minilm if model_type == "bi-encoder" else "package:all-minilm-l6-v2"
    config = RerankerTrainingConfig(model_type=model_type, base_model=base_model, epochs=4, batch_size=8,
                                    loss="mnrl" if model_type == "bi-encoder" else "auto",
                                    learning_rate=1e-4 if model_type == "bi-encoder" else 3e-4,
                                    max_length=96, logging_steps=1, save_steps=10, warmup_ratio=0.0)
    result = train_reranker(triples, config, tmp_path / model_type)
    steps_per_epoch = result.steps // 4
    assert result.steps > 0 and len(result.losses) == result.steps
    first_epoch = sum(result.losses[:steps_per_epoch]) / steps_per_epoch
    last_epoch = sum(result.losses[-steps_per_epoch:]) / steps_per_epoch
    assert last_epoch < first_epoch, result.losses
    assert (tmp_path / model_type / "checkpoints").is_dir()
    reranker = Reranker(result.model_dir)
    assert reranker.model_type == model_type and reranker.max_length == 96  # the trained length travels with it
    doc = demo.corpus["d001"]
    other = demo.corpus["d200"]
    scores = reranker.score([doc.title.lower()] * 2, [doc.contents, other.contents], ["d001", "d200"])
    assert scores[0] > scores[1]


def test_a_checkpoint_cut_short_by_a_kill_is_skipped_and_training_resumes(demo, tmp_path, caplog, one_layer_minilm):
    """A ``kill -9`` while the trainer saves ``checkpoint-N`` leaves it without ``trainer_state.json``
    (written last); resuming from it failed on every rerun until the folder was deleted by hand."""
    import shutil

    triples = build_triples(judged_pairs(demo), demo.corpus, negatives_per_query=1, seed=0)
    config = RerankerTrainingConfig(loss="mnrl", base_model=one_layer_minilm, batch_size=8, max_length=64, save_steps=2,
                                    max_steps=2, warmup_ratio=0.0)
    train_reranker(triples, config, tmp_path)
    checkpoints = tmp_path / "checkpoints"
    assert last_checkpoint(tmp_path) == str(checkpoints / "checkpoint-2")
    shutil.copytree(checkpoints / "checkpoint-2", checkpoints / "checkpoint-4")
    (checkpoints / "checkpoint-4" / "trainer_state.json").unlink()  # killed before the state was written
    shutil.copytree(checkpoints / "checkpoint-2", checkpoints / "checkpoint-3")
    (checkpoints / "checkpoint-3" / "trainer_state.json").write_text('{"global_step": 3, "log_hi')  # killed mid-write
    with caplog.at_level("WARNING"):
        assert last_checkpoint(tmp_path) == str(checkpoints / "checkpoint-2")
    assert "incomplete checkpoint" in caplog.text and "checkpoint-4" in caplog.text and "checkpoint-3" in caplog.text
    result = train_reranker(triples, config.model_copy(update={"max_steps": 4}), tmp_path)
    assert result.steps == 4 and (result.model_dir / "config.json").exists()


def tiny_t5(folder):
    """A tiny randomly initialised T5 with the byte-level ByT5 tokenizer (no vocabulary file needed):
    enough to exercise the monoT5 code path offline, where no T5 checkpoint can be downloaded."""
    from transformers import ByT5Tokenizer, T5Config, T5ForConditionalGeneration

    tokenizer = ByT5Tokenizer()
    config = T5Config(vocab_size=len(tokenizer), d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=2,
                      decoder_start_token_id=tokenizer.pad_token_id, pad_token_id=tokenizer.pad_token_id,
                      eos_token_id=tokenizer.eos_token_id)
    T5ForConditionalGeneration(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_monot5_training_and_scoring(demo, tmp_path):
    base = tiny_t5(tmp_path / "tiny-t5")
    triples = build_triples(judged_pairs(demo), demo.corpus, negatives_per_query=1, seed=0)
    config = RerankerTrainingConfig(model_type="monot5", base_model=str(base), epochs=6, batch_size=8,
                                    learning_rate=3e-3, max_length=128, logging_steps=1, save_steps=100, warmup_ratio=0.0)
    result = train_reranker(triples, config, tmp_path / "monot5")
    per_epoch = result.steps // 6
    assert sum(result.losses[-per_epoch:]) < sum(result.losses[:per_epoch])
    reranker = Reranker(result.model_dir)
    assert reranker.model_type == "monot5" and reranker.max_length == 128
    scores = reranker.score(["bees", "bees"], ["honey bees", "solar panels"])
    assert len(scores) == 2 and all(s <= 0 for s in scores)  # log P(true) under the true/false choice

    # monoT5 as a filter (InPars-v2): type and length from the model's marker
    from synthir.quality.filters import reranker_filter

    rows = judged_pairs(demo).queries[:6]
    kept = reranker_filter(rows, keep=0.5, model=str(result.model_dir), batch_size=4)
    assert len(kept) == 3 and all(r in rows for r in kept)


def test_training_checkpoints_are_keyed_on_the_triples_content_not_their_count(demo):
    from synthir.training.config import training_run_key

    triples = build_triples(judged_pairs(demo), demo.corpus, negatives_per_query=1, seed=0)
    other_negatives = build_triples(judged_pairs(demo), demo.corpus, negatives_per_query=1, seed=1)
    assert len(triples) == len(other_negatives) and not triples.frame.equals(other_negatives.frame)
    config = RerankerTrainingConfig()
    assert training_run_key(config, triples) != training_run_key(config, other_negatives)
    assert training_run_key(config, triples) == training_run_key(RerankerTrainingConfig(), triples)
    assert training_run_key(config, triples) != training_run_key(RerankerTrainingConfig(learning_rate=1e-5), triples)
    # a teacher's margins recomputed after a crash move in the last digits: the run still resumes
    margins = triples.with_frame(triples.frame.assign(teacher_margin=[0.25 + i / 7 for i in range(len(triples))]))
    noisy = margins.with_frame(margins.frame.assign(teacher_margin=margins.frame["teacher_margin"] + 1e-9))
    moved = margins.with_frame(margins.frame.assign(teacher_margin=margins.frame["teacher_margin"] + 1e-3))
    assert training_run_key(config, noisy) == training_run_key(config, margins) != training_run_key(config, moved)


def test_teacher_margins_follow_the_base_model_and_bm25_and_anchor_the_positive(demo, one_layer_minilm):
    import numpy as np
    from scipy.stats import spearmanr
    from sentence_transformers import SentenceTransformer

    from synthir.models import resolve_model
    from synthir.training import add_teacher_margins

    triples = build_triples(judged_pairs(demo), demo.corpus, negatives_per_query=3, seed=0)
    anchored = add_teacher_margins(triples, demo.corpus, one_layer_minilm, weight=0.5).frame
    assert len(anchored) == len(triples) and (anchored["teacher_margin"] >= 0).all()
    assert np.allclose(anchored["teacher_margin"], anchored["pos_teacher"] - anchored["neg_teacher"])

    # weight 1: the teacher is the base model alone, so a negative's grade is its cosine
    dense = add_teacher_margins(triples, demo.corpus, one_layer_minilm, weight=1.0, anchor_positive=False).frame
    model = SentenceTransformer(str(resolve_model(one_layer_minilm)), device="cpu")
    queries = model.encode(list(dense["query"]), normalize_embeddings=True)
    negatives = model.encode(list(dense["negative"]), normalize_embeddings=True)
    assert np.allclose(dense["neg_teacher"], (queries * negatives).sum(axis=1), atol=1e-4)
    plain = add_teacher_margins(triples, demo.corpus, one_layer_minilm, weight=0.5, anchor_positive=False).frame
    assert (plain["neg_teacher"] == anchored["neg_teacher"]).all()
    assert (plain["pos_teacher"] <= anchored["pos_teacher"] + 1e-6).all()  # anchoring only raises the positive
    assert (plain["pos_teacher"] < anchored["pos_teacher"] - 1e-6).any()  # ... where the teacher ranked it below another

    # weight 0: BM25 alone orders each query's negatives
    lexical = add_teacher_margins(triples, demo.corpus, one_layer_minilm, weight=0.0).frame
    from synthir.data import Queries
    from synthir.retrieval import BM25Index

    run = BM25Index.build(demo.corpus).search(Queries(dict(zip(lexical["query_id"], lexical["query"]))), k=100,
                                              show_progress=False)
    for qid, group in lexical.groupby("query_id"):
        bm25 = [run.scores[qid].get(d, 0.0) for d in group["neg_id"]]
        if len(set(bm25)) == len(bm25):
            assert spearmanr(bm25, group["neg_teacher"]).statistic == pytest.approx(1.0)


def test_an_ensemble_teacher_averages_its_encoders_before_bm25(demo, tmp_path, one_layer_minilm):
    import numpy as np
    import torch
    from pydantic import ValidationError
    from sentence_transformers import SentenceTransformer

    from synthir.models import resolve_model
    from synthir.training import add_teacher_margins

    base = one_layer_minilm
    triples = build_triples(judged_pairs(demo), demo.corpus, negatives_per_query=3, seed=0)
    triples = triples.with_frame(triples.frame.head(24))
    alone = add_teacher_margins(triples, demo.corpus, base, weight=0.5).frame
    twin = add_teacher_margins(triples, demo.corpus, base, weight=0.5, encoders=[str(resolve_model(base))]).frame
    assert np.allclose(twin["teacher_margin"], alone["teacher_margin"])  # an encoder beside itself changes nothing

    other = SentenceTransformer(str(resolve_model(base)), device="cpu")  # a second opinion: the base model, perturbed
    torch.manual_seed(0)
    with torch.no_grad():
        for parameter in other.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.05)
    other.save(str(tmp_path / "other"))
    # weight 1 and a pool of the triples' own documents: the grades are the two encoders' min-max average,
    # put back on the base model's cosine range of the pool
    pair = add_teacher_margins(triples, demo.corpus, base, weight=1.0, depth=0, anchor_positive=False,
                               encoders=[str(tmp_path / "other")]).frame
    base_only = add_teacher_margins(triples, demo.corpus, base, weight=1.0, depth=0, anchor_positive=False).frame
    assert not np.allclose(pair["neg_teacher"], base_only["neg_teacher"], atol=1e-3)  # the second opinion counts
    encoders = [SentenceTransformer(str(resolve_model(base)), device="cpu"), other]
    for _, group in pair.groupby("query_id"):
        documents = [group["positive"].iloc[0], *group["negative"]]
        cosines = []
        for encoder in encoders:
            query, *docs = encoder.encode([group["query"].iloc[0], *documents])
            cosines.append(np.asarray(docs) @ query)
        normalised = [(c - c.min()) / (c.max() - c.min()) for c in cosines]
        mean = (normalised[0] + normalised[1]) / 2
        expected = cosines[0].min() + (cosines[0].max() - cosines[0].min()) * (mean - mean.min()) / (mean.max() - mean.min())
        assert np.allclose([group["pos_teacher"].iloc[0], *group["neg_teacher"]], expected, atol=1e-4)

    with pytest.raises(ValidationError, match="teacher_encoders grades pairs for a distilling loss"):
        RerankerTrainingConfig(loss="mnrl", teacher_encoders=["package:all-mpnet-base-v2"])
    with pytest.raises(ValidationError, match="teacher_encoders joins the offline teacher"):
        RerankerTrainingConfig(loss="margin_mse", teacher_encoders=["package:all-mpnet-base-v2"], teacher_model="x")


@pytest.mark.parametrize("loss", ["cached_mnrl", "gist", "margin_mse", "mnrl_margin_mse"])
def test_each_bi_encoder_loss_trains(demo, tmp_path, loss, one_layer_minilm):
    from synthir.training import add_teacher_margins

    triples = build_triples(judged_pairs(demo), demo.corpus, negatives_per_query=1, seed=0)
    if "margin_mse" in loss:
        triples = add_teacher_margins(triples, demo.corpus, one_layer_minilm, depth=10)
    config = RerankerTrainingConfig(loss=loss, base_model=one_layer_minilm, epochs=4, batch_size=8, learning_rate=1e-4, max_length=96,
                                    logging_steps=1, save_steps=100, warmup_ratio=0.0)
    result = train_reranker(triples, config, tmp_path / loss)
    per_epoch = result.steps // 4
    assert result.steps > 0 and sum(result.losses[-per_epoch:]) < sum(result.losses[:per_epoch]), result.losses
    doc, other = demo.corpus["d001"], demo.corpus["d200"]
    scores = Reranker(result.model_dir).score([doc.title.lower()] * 2, [doc.contents, other.contents], ["d001", "d200"])
    assert scores[0] > scores[1]


def test_losses_with_in_batch_negatives_batch_without_duplicate_texts(demo, tmp_path, monkeypatch, one_layer_minilm):
    """A copy of a query's positive elsewhere in its batch would be scored as its negative: the trainer gets
    sentence-transformers' no-duplicates sampler for those losses (unless training.batch_sampler: random)."""
    from sentence_transformers.training_args import BatchSamplers

    import synthir.training.rerankers as rerankers

    samplers, real = {}, rerankers.training_arguments

    def spy(args_class, config, output_dir, **extra):
        samplers[config.loss, config.batch_sampler] = extra.get("batch_sampler", BatchSamplers.BATCH_SAMPLER)
        return real(args_class, config, output_dir, **extra)

    monkeypatch.setattr(rerankers, "training_arguments", spy)
    pairs = judged_pairs(demo)
    twice = dataclasses.replace(pairs, queries=pairs.queries + [dataclasses.replace(q, query=q.query + " please")
                                                                for q in pairs.queries])  # two queries a document
    triples = build_triples(twice, demo.corpus, negatives_per_query=1, seed=0)
    for loss, sampler in (("mnrl", "no_duplicates"), ("mnrl", "random"), ("cached_mnrl", "no_duplicates")):
        config = RerankerTrainingConfig(loss=loss, batch_sampler=sampler, base_model=one_layer_minilm, max_steps=2,
                                        batch_size=8, max_length=32, save_steps=100)
        assert train_reranker(triples, config, tmp_path / f"{loss}-{sampler}").steps == 2
    assert samplers == {("mnrl", "no_duplicates"): BatchSamplers.NO_DUPLICATES,
                        ("mnrl", "random"): BatchSamplers.BATCH_SAMPLER,
                        ("cached_mnrl", "no_duplicates"): BatchSamplers.NO_DUPLICATES}
    assert not RerankerTrainingConfig(loss="margin_mse").in_batch_negatives  # margins only: its batches as they come


def test_margin_mse_needs_teacher_margins_and_a_bi_encoder(demo, tmp_path):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="training.loss 'margin_mse' is for bi-encoders"):
        RerankerTrainingConfig(model_type="cross-encoder", loss="margin_mse")
    triples = build_triples(judged_pairs(demo), demo.corpus, seed=0)
    for loss in ("margin_mse", "auto"):  # auto: mnrl_margin_mse for a bi-encoder
        with pytest.raises(ValueError, match="needs teacher margins"):
            train_reranker(triples, RerankerTrainingConfig(loss=loss, max_steps=1), tmp_path)


def test_dev_set_holds_out_whole_documents_with_their_bm25_candidates(demo):
    queries = synthetic(demo)  # one query for each of 24 documents
    triples = build_triples(queries, demo.corpus, seed=3, dev_fraction=0.25, dev_depth=5)
    dev = triples.dev
    assert dev["query_id"].nunique() == 6 and len(triples) == 18  # 25% of the 24 documents
    dev_documents = set(dev.loc[dev["relevant"], "doc_id"])
    assert len(dev_documents) == 6 and not dev_documents & set(triples.frame["pos_id"])  # never a training positive
    for _, group in dev.groupby("query_id"):
        assert group["relevant"].sum() == 1 and len(group) <= 6 and group["doc_id"].is_unique
    samples = triples.dev_samples()
    assert len(samples) == 6 and all(len(s["positive"]) == 1 and s["negative"] for s in samples)
    again = build_triples(queries, demo.corpus, seed=3, dev_fraction=0.25, dev_depth=5)
    assert again.dev.equals(dev) and again.fingerprint() == triples.fingerprint()  # seeded
    assert build_triples(queries, demo.corpus, seed=3).fingerprint() != triples.fingerprint()
    # the teacher and the warm-start plan replace the training rows and keep the dev set
    assert triples.with_frame(triples.frame.head(3)).dev is dev


def test_dev_set_options_are_checked(demo, tmp_path):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="early_stopping_patience stops on the dev set: set training.dev_fraction"):
        RerankerTrainingConfig(early_stopping_patience=2)
    with pytest.raises(ValidationError, match="dev_fraction: model selection on the dev set is for bi-encoder"):
        RerankerTrainingConfig(model_type="monot5", dev_fraction=0.1)
    triples = build_triples(judged_pairs(demo), demo.corpus, seed=0)  # no dev set
    with pytest.raises(ValueError, match="triples have no dev set"):
        train_reranker(triples, RerankerTrainingConfig(loss="mnrl", dev_fraction=0.1, max_steps=1), tmp_path)


@pytest.mark.parametrize("model_type", ["bi-encoder", "cross-encoder"])
def test_training_ends_on_the_best_dev_checkpoint_and_stops_early(demo, tmp_path, model_type, one_layer_minilm):
    from synthir.training.rerankers import DEV_METRIC, dev_evaluator

    queries = judged_pairs(demo)
    triples = build_triples(queries, demo.corpus, seed=0, dev_fraction=0.25, dev_depth=10)
    # the cross-encoder on the full MiniLM: on one layer its dev scores tie, and a tie moves the re-scored
    # best checkpoint's figure by more than the bf16 tolerance below
    base_model = one_layer_minilm if model_type == "bi-encoder" else "package:all-minilm-l6-v2"
    config = RerankerTrainingConfig(model_type=model_type, base_model=base_model,
                                    loss="mnrl" if model_type == "bi-encoder" else "auto", epochs=6, batch_size=8,
                                    learning_rate=1e-4 if model_type == "bi-encoder" else 3e-4,
                                    max_length=96, logging_steps=1, save_steps=100, warmup_ratio=0.0,
                                    dev_fraction=0.25, dev_depth=10, early_stopping_patience=2)
    result = train_reranker(triples, config, tmp_path / model_type)
    curve = result.dev["curve"]
    steps_per_epoch = -(-len(triples) * (1 if model_type == "bi-encoder" else 2) // 8)
    assert sorted(curve)[0] == steps_per_epoch  # evaluated once an epoch (save_steps is larger)
    assert result.dev["best"] == pytest.approx(max(curve.values()))
    assert result.dev["best_step"] == max(curve, key=lambda s: (curve[s], -s))
    # early stopping: at most `patience` evaluations after the best one, and never past the epochs
    assert sum(step > result.dev["best_step"] for step in curve) <= 2 and len(curve) <= 6
    # the saved model is the best checkpoint: the evaluator scores it as the trainer did (bf16 aside)
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.cross_encoder import CrossEncoder

    saved = (SentenceTransformer(str(result.model_dir), device="cpu") if model_type == "bi-encoder"
             else CrossEncoder(str(result.model_dir), device="cpu", max_length=96))
    assert dev_evaluator(triples, config)(saved)[DEV_METRIC] == pytest.approx(result.dev["best"], abs=0.03)


def test_negatives_mined_by_the_base_model_skip_its_top_ranks_and_keep_a_margin(demo):
    # the full MiniLM: a one-layer model's near-ties move ranks around 30 between batchings
    import numpy as np
    from sentence_transformers import SentenceTransformer

    from synthir.models import resolve_model
    from synthir.training import NegativeMiner

    queries = judged_pairs(demo)
    miner = NegativeMiner("package:all-minilm-l6-v2", skip=2, relative_margin=0.1)
    triples = build_triples(queries, demo.corpus, negatives_per_query=2, depth=30, seed=0, miner=miner)
    frame = triples.frame
    assert len(frame) > len(queries) and (frame["pos_id"] != frame["neg_id"]).all()
    again = build_triples(queries, demo.corpus, negatives_per_query=2, depth=30, seed=0, miner=miner)
    assert again.frame.equals(frame)  # seeded
    model = SentenceTransformer(str(resolve_model("package:all-minilm-l6-v2")), device="cpu")
    ids = list(demo.corpus.documents)
    docs = model.encode([demo.corpus[d].contents for d in ids], normalize_embeddings=True)
    for row in frame.drop_duplicates("query_id").itertuples():
        scores = docs @ model.encode(row.query, normalize_embeddings=True)
        ranked = [ids[i] for i in np.argsort(-scores) if ids[i] != row.pos_id]
        negatives = set(frame.loc[frame["query_id"] == row.query_id, "neg_id"])
        assert not negatives & set(ranked[:2]) and negatives <= set(ranked[:30])  # ranks 3..30
        positive = scores[ids.index(row.pos_id)]
        assert all(scores[ids.index(n)] <= positive - abs(positive) * 0.1 + 1e-4 for n in negatives)  # the guard
    with pytest.raises(ValueError, match="negative_skip 29 leaves 1 of negative_depth 30 ranks for 2 negatives"):
        build_triples(queries, demo.corpus, negatives_per_query=2, depth=30, miner=NegativeMiner("package:all-minilm-l6-v2", skip=29))
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="negative_miner: base_model mines with a bi-encoder"):
        RerankerTrainingConfig(model_type="cross-encoder", negative_miner="base_model")


def test_a_cross_encoder_teacher_grades_the_pairs_on_the_base_models_scale(demo, tmp_path, one_layer_minilm):
    import numpy as np
    from pydantic import ValidationError
    from scipy.stats import spearmanr
    from sentence_transformers import CrossEncoder, SentenceTransformer

    from synthir.models import resolve_model
    from synthir.training.teacher import add_cross_encoder_margins

    base = str(resolve_model(one_layer_minilm))
    CrossEncoder(base, num_labels=1).save_pretrained(str(tmp_path / "teacher"))  # a stand-in: no cross-encoder offline
    triples = build_triples(judged_pairs(demo), demo.corpus, negatives_per_query=2, seed=0)
    plain = add_cross_encoder_margins(triples, demo.corpus, str(tmp_path / "teacher"), one_layer_minilm,
                                      anchor_positive=False).frame
    logits = CrossEncoder(str(tmp_path / "teacher"), device="cpu").predict(list(zip(plain["query"], plain["negative"])))
    assert spearmanr(logits, plain["neg_teacher"]).statistic == pytest.approx(1.0)  # the teacher's order, rescaled
    student = SentenceTransformer(base, device="cpu")
    queries = student.encode(list(plain["query"]), normalize_embeddings=True)
    cosine = ((queries * student.encode(list(plain["positive"]), normalize_embeddings=True)).sum(1)
              - (queries * student.encode(list(plain["negative"]), normalize_embeddings=True)).sum(1))
    assert np.std(plain["teacher_margin"]) == pytest.approx(np.std(cosine), rel=1e-3)  # the base model's spread
    anchored = add_cross_encoder_margins(triples, demo.corpus, str(tmp_path / "teacher"), one_layer_minilm).frame
    assert (anchored["teacher_margin"] >= 0).all() and (anchored["pos_teacher"] >= plain["pos_teacher"] - 1e-9).all()
    with pytest.raises(ValidationError, match="teacher_model grades pairs for a distilling loss"):
        RerankerTrainingConfig(loss="mnrl", teacher_model=str(tmp_path / "teacher"))


def test_query_likelihood_batches_as_it_scores_one_pair_alone(demo):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from synthir.models import resolve_model
    from synthir.training.query_likelihood import UPR_PROMPT, QueryLikelihood

    documents = [demo.corpus[d] for d in ("d001", "d002", "d003", "d200")]
    pairs = [(doc.title.lower(), other.contents) for doc in documents for other in documents]  # lengths differ: padding
    scorer = QueryLikelihood("package:smollm2-135m-instruct", max_doc_tokens=40, batch_size=5, dtype="fp32")
    batched = scorer.score(pairs)

    # the definition, one unpadded pair at a time, the whole sequence through the LM head
    path = resolve_model("package:smollm2-135m-instruct")
    tokenizer, model = AutoTokenizer.from_pretrained(path), AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    for (query, document), score in zip(pairs, batched):
        cut = tokenizer.decode(tokenizer(document, add_special_tokens=False).input_ids[:40])
        prompt = tokenizer(UPR_PROMPT.format(document=cut)).input_ids
        target = tokenizer(" " + query, add_special_tokens=False).input_ids
        with torch.inference_mode():
            logits = model(input_ids=torch.tensor([prompt + target])).logits[0, len(prompt) - 1 : -1]
        expected = torch.log_softmax(logits, -1).gather(1, torch.tensor(target)[:, None]).mean().item()
        assert score == pytest.approx(expected, abs=2e-3)
    # a title is likelier after its own document than after another's
    own = [batched[4 * i + i] for i in range(4)]
    others = [batched[4 * i + j] for i in range(4) for j in range(4) if i != j]
    assert sum(own) / len(own) > sum(others) / len(others)


def test_query_likelihood_is_fused_into_the_teacher_over_each_querys_pool(demo, monkeypatch, one_layer_minilm):
    import numpy as np
    import torch
    from pydantic import ValidationError
    from scipy.stats import spearmanr

    from synthir.training import query_likelihood
    from synthir.training.query_likelihood import QueryLikelihood
    from synthir.training.teacher import add_teacher_margins

    # fp32 on every CPU: the orders compared below must not hang on bf16 rounding or on how pairs are batched
    monkeypatch.setattr(query_likelihood, "pick_dtype", lambda dtype, device: torch.float32)

    triples = build_triples(judged_pairs(demo), demo.corpus, negatives_per_query=2, seed=0)
    triples = triples.with_frame(triples.frame.head(16))
    model = "package:smollm2-135m-instruct"
    # share 1 over a pool of the triples' own documents: within a query the teacher orders them as likelihood does
    alone = add_teacher_margins(triples, demo.corpus, one_layer_minilm, anchor_positive=False,
                                likelihood_model=model, likelihood_share=1.0, likelihood_depth=0).frame
    likelihood = QueryLikelihood(model)
    for _, group in alone.groupby("query_id"):
        documents = [group["positive"].iloc[0], *group["negative"]]
        grades = likelihood.score([(group["query"].iloc[0], d) for d in documents])
        teacher = [group["pos_teacher"].iloc[0], *group["neg_teacher"]]
        assert spearmanr(grades, teacher).statistic == pytest.approx(1.0)

    plain = add_teacher_margins(triples, demo.corpus, one_layer_minilm).frame
    half = add_teacher_margins(triples, demo.corpus, one_layer_minilm, likelihood_model=model,
                               likelihood_depth=3).frame
    assert np.allclose(half["teacher_margin"], half["pos_teacher"] - half["neg_teacher"])
    assert (half["teacher_margin"] >= 0).all() and not np.allclose(half["teacher_margin"], plain["teacher_margin"])

    with pytest.raises(ValidationError, match="teacher_likelihood_model grades pairs for a distilling loss"):
        RerankerTrainingConfig(loss="mnrl", teacher_likelihood_model=model)
    with pytest.raises(ValidationError, match="leave one of them empty"):
        RerankerTrainingConfig(teacher_model="hf:cross-encoder/ms-marco-MiniLM-L6-v2", teacher_likelihood_model=model)


def test_a_large_teacher_pool_is_timed_before_it_is_encoded_and_a_small_one_encoded_once(caplog):
    import numpy as np

    from synthir.training.teacher import ESTIMATE_FROM_BATCHES, encode_with_estimate

    class CountingEncoder:
        def __init__(self):
            self.calls = []

        def encode(self, texts, **_):
            self.calls.append(len(texts))
            return np.zeros((len(texts), 2))

    small, large = CountingEncoder(), CountingEncoder()
    with caplog.at_level("INFO", logger="synthir.training.teacher"):
        assert encode_with_estimate(small, ["d"] * (ESTIMATE_FROM_BATCHES * 4), 4, "Teacher (x)").shape == (160, 2)
        assert small.calls == [160] and "Teacher (x): encoding 160 documents" in caplog.text
        assert "about" not in caplog.text
        assert encode_with_estimate(large, ["d"] * 161, 4, "Teacher (x)").shape == (161, 2)
    assert large.calls == [16, 161]  # four batches timed, then the pool in one call
    assert "encoding 161 documents, about" in caplog.text and "measured on the first 16" in caplog.text
