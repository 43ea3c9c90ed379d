"""The generation loop (sampling, checkpoints, resume) with a deterministic backend that needs no model."""

import json

import pytest

from synthir.data import Corpus, Document
from synthir.data.synthetic import read_inpars_jsonl, write_inpars_jsonl
from synthir.generation import QueryGenerationConfig, generate_queries, load_prompt, sample_documents
from synthir.generation.backends.base import Completion, GeneratorBackend


class EchoBackend(GeneratorBackend):
    """Writes 'about <first word of the document>' and counts the documents it was asked for."""

    name = "echo"

    def __init__(self, fail_after: int | None = None):
        self.seen: list[str] = []
        self.fail_after = fail_after

    def generate(self, prefix, targets, params, on_batch=None):
        out = []
        for target in targets:
            if self.fail_after is not None and len(self.seen) >= self.fail_after:
                raise KeyboardInterrupt("killed")
            document = target.split("\n")[-2].split(": ", 1)[1]  # the "Document:"/"Article:" line
            self.seen.append(document)
            out.append([Completion(f" about {document.split()[0]} {i}\nExample", [-0.5, -1.0])
                        for i in range(params.num_return_sequences)])
        if on_batch:
            on_batch(len(targets))
        return out


CORPUS = Corpus({f"d{i:02d}": Document(f"d{i:02d}", f"word{i} and more text") for i in range(20)}
                | {"empty": Document("empty", "  ")})


def test_sampling_is_seeded_and_skips_empty_documents():
    a = sample_documents(CORPUS, 5, seed=1)
    assert [d.doc_id for d in a.documents] == [d.doc_id for d in sample_documents(CORPUS, 5, seed=1).documents]
    assert [d.doc_id for d in a.documents] != [d.doc_id for d in sample_documents(CORPUS, 5, seed=2).documents]
    everything = sample_documents(CORPUS, None, seed=1)
    assert len(everything.documents) == 20 and everything.skipped_empty == 1


def test_generation_rows_and_figures():
    config = QueryGenerationConfig(max_generations=6, queries_per_doc=2, shard_size=4)
    run = generate_queries(CORPUS, EchoBackend(), load_prompt("inpars"), config, show_progress=False)
    queries = run.queries
    assert len(queries) == 12 and queries.prompt_id == "inpars@v1" and queries.generator == "echo"
    first = queries.queries[0]
    assert first.query == f"about {CORPUS[first.doc_id].text.split()[0]} 0"  # cut at the stop string
    assert [q.extra["index"] for q in queries.queries[:2]] == [0, 1]
    assert first.log_probs == [-0.5, -1.0] and first.fewshot_examples == ["synthir-inpars-1", "synthir-inpars-2", "synthir-inpars-3"]
    assert run.figures["queries"] == 12 and run.figures["empty_rate"] == 0
    assert queries.corpus_fingerprint == CORPUS.fingerprint()


def test_truncation_by_tokens():
    long = Corpus({"x": Document("x", " ".join(f"w{i}" for i in range(500)))})
    backend = EchoBackend()
    generate_queries(long, backend, load_prompt("inpars"), QueryGenerationConfig(max_doc_tokens=10), show_progress=False)
    assert backend.seen[0] == " ".join(f"w{i}" for i in range(10))


def test_resume_after_interruption_loses_nothing(tmp_path):
    config = QueryGenerationConfig(max_generations=10, shard_size=3)
    template = load_prompt("inpars")
    with pytest.raises(KeyboardInterrupt):
        generate_queries(CORPUS, EchoBackend(fail_after=7), template, config, checkpoint_root=tmp_path, show_progress=False,
                         run_label="run-A")
    shards = sorted(tmp_path.glob("*/shard-*.jsonl"))
    assert len(shards) == 2  # two full shards of 3 documents survived; the third was in flight
    resumed_backend = EchoBackend()
    resumed = generate_queries(CORPUS, resumed_backend, template, config, checkpoint_root=tmp_path, show_progress=False,
                               run_label="run-B")
    assert len(resumed_backend.seen) == 4  # only the documents not yet checkpointed
    # the resumed run names the run whose checkpoint it continues
    assert resumed.resumed_from == ["run-A"] and resumed.figures["documents_resumed"] == 6
    assert resumed.checkpoint == str(shards[0].parent)
    fresh = generate_queries(CORPUS, EchoBackend(), template, config, show_progress=False)
    assert [(q.doc_id, q.query) for q in resumed.queries] == [(q.doc_id, q.query) for q in fresh.queries]
    # a different configuration does not reuse those checkpoints
    other = EchoBackend()
    generate_queries(CORPUS, other, template, QueryGenerationConfig(max_generations=10, shard_size=3, seed=7),
                     checkpoint_root=tmp_path, show_progress=False)
    assert len(other.seen) == 10


def test_a_full_disk_while_writing_a_shard_loses_only_that_shard(tmp_path, monkeypatch):
    """The atomic write fails as on a full disk: the error reaches the user, the shards written before
    stay whole, no temporary file is left, and the next run resumes from them."""
    import errno
    import os

    from synthir.data import io

    config = QueryGenerationConfig(max_generations=9, shard_size=3)
    template = load_prompt("inpars")
    real_replace, calls = os.replace, []

    def full_disk_on_second_shard(source, target):
        if "shard-" in str(target):
            calls.append(target)
            if len(calls) == 2:
                raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(source, target)

    monkeypatch.setattr(io.os, "replace", full_disk_on_second_shard)
    with pytest.raises(OSError, match="No space left on device"):
        generate_queries(CORPUS, EchoBackend(), template, config, checkpoint_root=tmp_path, show_progress=False)
    monkeypatch.setattr(io.os, "replace", real_replace)
    # the first shard whole, and nothing half-written (runs.json: who wrote this checkpoint)
    assert [p.name for p in sorted(tmp_path.glob("*/*"))] == ["runs.json", "shard-00000.jsonl"]
    backend = EchoBackend()
    resumed = generate_queries(CORPUS, backend, template, config, checkpoint_root=tmp_path, show_progress=False)
    assert len(backend.seen) == 6 and len(resumed.queries) == 9


def test_inpars_jsonl_roundtrip(tmp_path):
    run = generate_queries(CORPUS, EchoBackend(), load_prompt("inpars-gbq"), QueryGenerationConfig(max_generations=3),
                           show_progress=False)
    path = write_inpars_jsonl(run.queries, tmp_path / "q.jsonl")
    record = json.loads(path.read_text().splitlines()[0])
    assert {"doc_id", "doc_text", "query", "log_probs", "prompt_text", "fewshot_examples"} <= set(record)
    back = read_inpars_jsonl(path)
    assert [(q.doc_id, q.query, q.log_probs, q.prompt_id) for q in back] == \
        [(q.doc_id, q.query, q.log_probs, q.prompt_id) for q in run.queries]


def test_inpars_jsonl_from_the_inpars_toolkit(tmp_path):
    path = tmp_path / "inpars.jsonl"
    path.write_text(json.dumps({"doc_id": "7", "text": "doc", "query": " q? ", "log_probs": [-1, -2],
                                "prompt_text": "p", "fewshot_examples": [1, 2]}) + "\n" + "{broken\n")
    from synthir.data import DataFormatError

    with pytest.raises(DataFormatError, match=r"inpars\.jsonl:2: malformed JSON"):
        read_inpars_jsonl(path)
    queries = read_inpars_jsonl(path, on_bad_line="skip", generator="gpt-j")
    (q,) = queries.queries
    assert (q.doc_id, q.query, q.doc_text, q.log_probs, q.fewshot_examples) == ("7", "q?", "doc", [-1.0, -2.0], ["1", "2"])


def test_promptagator_records_its_example_query_ids():
    from synthir.data import Qrels, Queries
    from synthir.generation import with_collection_examples

    queries = Queries({f"q{i}": f"question {i}" for i in range(6)})
    qrels = Qrels({f"q{i}": {f"d{i:02d}": 1} for i in range(6)})
    template = with_collection_examples(load_prompt("promptagator"), CORPUS, queries, qrels, num_examples=3, seed=0)
    run = generate_queries(CORPUS, EchoBackend(), template, QueryGenerationConfig(max_generations=2), show_progress=False)
    assert sorted(run.queries.fewshot_query_ids) == sorted(e.id for e in template.selected_examples())
    assert len(run.queries.fewshot_query_ids) == 3
    assert run.queries.prompt_id == "promptagator@v1"


class BatchedEchoBackend(EchoBackend):
    """EchoBackend that reports a batch size, as the local backend does in its description."""

    def __init__(self, batch_size: int, **kwargs):
        super().__init__(**kwargs)
        self.batch_size = batch_size

    def describe(self):
        return {**super().describe(), "batch_size": str(self.batch_size)}


def test_a_restart_with_a_smaller_batch_or_shard_size_resumes(tmp_path):
    """batch_size and shard_size cannot change the queries: after running out of memory, a restart
    with a smaller batch resumes the checkpoints instead of regenerating everything."""
    template = load_prompt("inpars")
    with pytest.raises(KeyboardInterrupt):
        generate_queries(CORPUS, BatchedEchoBackend(32, fail_after=7), template,
                         QueryGenerationConfig(max_generations=10, shard_size=3), checkpoint_root=tmp_path, show_progress=False)
    smaller = BatchedEchoBackend(4)
    resumed = generate_queries(CORPUS, smaller, template, QueryGenerationConfig(max_generations=10, shard_size=2),
                               checkpoint_root=tmp_path, show_progress=False)
    assert len(smaller.seen) == 4 and len(resumed.queries) == 10
    assert len(list(tmp_path.iterdir())) == 1  # one checkpoint folder: the same key


def test_imported_promptagator_queries_keep_their_example_query_ids(tmp_path):
    """Written and read back, the judged example queries are still known, so evaluation leaves them out."""
    from synthir.data import Qrels, Queries
    from synthir.generation import with_collection_examples

    queries = Queries({f"q{i}": f"question {i}" for i in range(6)})
    qrels = Qrels({f"q{i}": {f"d{i:02d}": 1} for i in range(6)})
    template = with_collection_examples(load_prompt("promptagator"), CORPUS, queries, qrels, num_examples=3, seed=0)
    run = generate_queries(CORPUS, EchoBackend(), template, QueryGenerationConfig(max_generations=2), show_progress=False)
    back = read_inpars_jsonl(write_inpars_jsonl(run.queries, tmp_path / "promptagator.jsonl"))
    assert back.fewshot_query_ids == sorted(run.queries.fewshot_query_ids) and len(back.fewshot_query_ids) == 3
    assert all("fewshot_query_ids" not in q.extra for q in back)
    # a static prompt's example ids are not judged queries: nothing to leave out
    static = generate_queries(CORPUS, EchoBackend(), load_prompt("inpars"), QueryGenerationConfig(max_generations=2),
                              show_progress=False)
    assert read_inpars_jsonl(write_inpars_jsonl(static.queries, tmp_path / "static.jsonl")).fewshot_query_ids == []


class SlowBackend(EchoBackend):
    """Each document takes ``seconds`` of (fake) generation time."""

    def __init__(self, clock, seconds: float):
        super().__init__()
        self.clock, self.seconds = clock, seconds

    def generate(self, prefix, targets, params, on_batch=None):
        self.clock.now += self.seconds * len(targets)
        return super().generate(prefix, targets, params, on_batch)


def test_a_time_budget_generates_what_fits_in_stable_order_and_the_next_run_continues(tmp_path, monkeypatch):
    from types import SimpleNamespace

    import synthir.generation.generate as generate_module

    clock = SimpleNamespace(now=0.0)
    monkeypatch.setattr(generate_module.time, "perf_counter", lambda: clock.now)
    config = QueryGenerationConfig(max_generations=None, shard_size=4, budget_s=10.0)
    # 1 s a document: shards start at 0, 4 and 8 s; the one due at 12 s does not
    first = generate_queries(CORPUS, SlowBackend(clock, 1.0), load_prompt("inpars"), config, checkpoint_root=tmp_path,
                             show_progress=False)
    order = [d.doc_id for d in sample_documents(CORPUS, None, seed=42).documents]
    assert [q.doc_id for q in first.queries] == order[:12]  # the first of the stable order, not any 12
    assert first.figures["documents_left_for_next_run"] == 8 and first.figures["documents_generated_now"] == 12
    # the next run resumes the checkpoint (the budget is not part of its key) and spends its budget on the rest
    backend = SlowBackend(clock, 1.0)
    second = generate_queries(CORPUS, backend, load_prompt("inpars"), config, checkpoint_root=tmp_path,
                              show_progress=False)
    assert [q.doc_id for q in second.queries] == order and len(backend.seen) == 8
    assert second.figures["documents_resumed"] == 12 and second.figures["documents_left_for_next_run"] == 0
    # without a budget, the same queries
    whole = generate_queries(CORPUS, EchoBackend(), load_prompt("inpars"), QueryGenerationConfig(max_generations=None),
                             show_progress=False)
    assert [(q.doc_id, q.query) for q in whole.queries] == [(q.doc_id, q.query) for q in second.queries]


def test_a_budget_is_a_duration_and_applies_to_template_prompts():
    from synthir.config import ConfigError, seconds_of
    from synthir.inpars_config import InParsConfig

    assert [seconds_of(v) for v in ("90s", "30m", "2h", "1h30m", 45, None)] == [90, 1800, 7200, 5400, 45, None]
    assert InParsConfig.from_dict({"generation_budget": "30m", "max_generations": None}).generation_budget == "30m"
    with pytest.raises(ConfigError, match="generation_budget.*such as 90s, 30m"):
        InParsConfig.from_dict({"generation_budget": "half an hour"})
    with pytest.raises(ValueError, match="generation_budget applies to template prompts"):
        InParsConfig.from_dict({"generation_budget": "30m", "prompt": "dspy-cot"})
