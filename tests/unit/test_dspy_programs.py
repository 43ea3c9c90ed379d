"""DSPy query programs: the prefill adapter, output checks, retry/repair/fallback, the program artifact,
generation over a corpus with checkpoints, and the self-retrieval metric. The LM is scripted."""

import json
import re

import dspy
import pytest

from synthir.data import Corpus, Document, load_collection
from synthir.generation import QueryGenerationConfig
from synthir.generation.dspy_optimise import (
    PromptOptimisationConfig,
    SelfRetrievalMetric,
    SelfRetrievalMetricConfig,
    is_copy,
    split_documents,
)
from synthir.generation.dspy_programs import (
    CompiledQueryProgram,
    GenerateQuery,
    PrefilledChatAdapter,
    build_program,
    generate_queries_with_program,
    make_dspy_lm,
    parse_output,
    predict_queries,
    program_kind,
    seed_demos,
    zero_shot_or_seeded,
)
from synthir.generation.prompts import FewShotExample

COT = dspy.ChainOfThought(GenerateQuery).predict.signature
GOOD = "[[ ## reasoning ## ]]\nThe document is about bees.\n\n[[ ## query ## ]]\nhow do bees make honey\n\n[[ ## completed ## ]]"
EXAMPLES = [FewShotExample(id="e1", document="Heat pumps move heat from outside air.", query="how do heat pumps work",
                           reasoning="It explains heat pumps.")]


class ScriptedLM:
    """Called like a dspy.LM (``lm(messages=..., temperature=...)``); answers from a function of the
    conversation and the temperature, and records every call."""

    def __init__(self, answer):
        self.answer = answer
        self.calls = []

    def __call__(self, messages, temperature=0.0, **kwargs):
        self.calls.append((messages, temperature))
        return [self.answer(messages, temperature)]


def document_of(messages) -> str:
    """The document field of the last user message (the adapter writes ``[[ ## document ## ]]\n<text>``)."""
    user = next(m["content"] for m in reversed(messages) if m["role"] == "user")
    return re.search(r"\[\[ ## document ## \]\]\n(.*?)(\n\n|$)", user, re.DOTALL).group(1).strip()


def test_adapter_prefills_the_first_output_header_and_parses_the_continuation():
    adapter = PrefilledChatAdapter()
    messages = adapter.format(COT, [], {"document": "Bees make honey."})
    assert messages[-1] == {"role": "assistant", "content": "[[ ## reasoning ## ]]\n"}
    fields = adapter.parse(COT, "It is about bees.\n\n[[ ## query ## ]]\nhow do bees make honey")
    assert fields == {"reasoning": "It is about bees.", "query": "how do bees make honey"}
    # an endpoint that ignores the prefill writes the header itself
    assert adapter.parse(COT, GOOD)["query"] == "how do bees make honey"


def test_repair_keeps_the_first_paragraph_of_a_rambling_reasoning_and_writes_the_query_header():
    adapter = PrefilledChatAdapter()
    prefill = adapter.repair_prefill(COT, "Bees are insects.\n\nMore text that never ends " * 3)
    assert prefill == "[[ ## reasoning ## ]]\nBees are insects.\n\n[[ ## query ## ]]\n"
    assert adapter.repair_prefill(dspy.Predict(GenerateQuery).signature, "anything") is None


@pytest.mark.parametrize("completion, problem", [
    ("no fields at all", "unparseable"),
    ("x\n\n[[ ## query ## ]]\n   \n", "empty_query"),
    ("x\n\n[[ ## query ## ]]\n{query}", "template_echo"),
    ("x\n\n[[ ## query ## ]]\n[[ ## completed", "template_echo"),
    ("x\n\n[[ ## query ## ]]\nhow do heat pumps work in winter", "demo_echo"),
])
def test_parse_output_rejects_what_small_models_get_wrong(completion, problem):
    output, why = parse_output(PrefilledChatAdapter(), COT, completion, {"how do heat pumps work"})
    assert output is None and why == problem


def test_parse_output_keeps_the_first_line_of_a_good_query():
    output, why = parse_output(PrefilledChatAdapter(), COT, "Bees.\n\n[[ ## query ## ]]\nhow do bees make honey\nextra", set())
    assert why == "" and output.query == "how do bees make honey" and output.reasoning == "Bees."


def test_predict_queries_first_try_repair_retry_fallback_and_failure_are_told_apart():
    def answer(messages, temperature):
        document = document_of(messages)
        if document == "good":
            return GOOD
        if document == "rambles":  # reasoning only; the repaired call (query header prefilled) answers
            if messages[-1]["content"].endswith("[[ ## query ## ]]\n"):
                return "what is this about"
            return "This is about many things.\n\nAnd more and more"
        if document == "sampled":  # broken when greedy, fine when sampled
            return "{query}" if temperature == 0 else "Bees.\n\n[[ ## query ## ]]\nwhere do bees live"
        return "[#]"  # never usable

    lm = ScriptedLM(answer)
    fallback_calls = []

    def fallback(documents):
        fallback_calls.append(list(documents))
        return ["static query" for _ in documents]

    docs = ["good", "rambles", "sampled", "hopeless"]
    outputs, stats = predict_queries(build_program("cot"), lm, docs, fallback=fallback, retries=1)
    assert [o.source for o in outputs] == ["dspy", "repair", "retry", "fallback"]
    assert [o.query for o in outputs] == ["how do bees make honey", "what is this about", "where do bees live", "static query"]
    assert fallback_calls == [["hopeless"]]
    figures = stats.figures()
    assert figures["dspy_first_try_rate"] == 0.25 and figures["dspy_fallbacks"] == 1 and figures["dspy_fallback_rate"] == 0.25
    assert figures["dspy_repaired"] == 1 and figures["dspy_retry_successes"] == 1
    assert outputs[3].problem == "unparseable"


def test_predict_queries_never_raises_when_the_lm_fails_and_counts_failures_without_a_fallback():
    def broken(messages, temperature):
        raise ConnectionError("endpoint down")

    outputs, stats = predict_queries(build_program("predict"), ScriptedLM(broken), ["a", "b"], fallback=None, retries=2)
    assert [o.source for o in outputs] == ["failed", "failed"] and [o.query for o in outputs] == ["", ""]
    assert stats.failed == 2 and stats.retried == 4 and stats.fallbacks == 0


def test_compiled_program_round_trips_through_dspy_json_state(tmp_path):
    program = zero_shot_or_seeded("cot", None, 0)
    the = build_program("cot")
    the.predict.demos = seed_demos(EXAMPLES, "cot")
    compiled = CompiledQueryProgram.from_program(the, "cot", generator="local/x", figures={"dev_metric": 0.5})
    assert compiled.prompt_id.startswith("dspy-cot@") and compiled.prompt_id != program.prompt_id
    folder = compiled.save(tmp_path / "program")
    assert sorted(p.name for p in folder.iterdir()) == ["meta.json", "program.json"]
    loaded = CompiledQueryProgram.load(folder)
    assert loaded.prompt_id == compiled.prompt_id and loaded.figures == {"dev_metric": 0.5}
    assert loaded.demos[0]["query"] == "how do heat pumps work" and loaded.demos[0]["reasoning"] == "It explains heat pumps."
    # DSPy itself reads the state
    plain = dspy.ChainOfThought(GenerateQuery)
    plain.load(str(folder / "program.json"))
    assert plain.predict.demos[0]["query"] == "how do heat pumps work"


def test_loading_a_missing_or_foreign_program_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="program.json"):
        CompiledQueryProgram.load(tmp_path)
    (tmp_path / "program.json").write_text(json.dumps({"predict": {"demos": "not a list"}}))
    (tmp_path / "meta.json").write_text(json.dumps({"kind": "cot"}))
    with pytest.raises(ValueError, match="program.json"):
        CompiledQueryProgram.load(tmp_path)
    (tmp_path / "meta.json").write_text(json.dumps({"kind": "tree"}))
    with pytest.raises(ValueError, match="meta.json"):
        CompiledQueryProgram.load(tmp_path)


def test_generation_with_a_program_checkpoints_counts_fallbacks_and_resumes(tmp_path):
    corpus = Corpus({f"d{i}": Document(f"d{i}", f"document number {i} about topic {i}") for i in range(5)})

    def answer(messages, temperature):
        document = document_of(messages)
        return "[#]" if "number 3" in document else f"R.\n\n[[ ## query ## ]]\nwhat about topic {document.split()[-1]}"

    lm = ScriptedLM(answer)
    program = zero_shot_or_seeded("cot", None, 0)
    config = QueryGenerationConfig(max_generations=None, shard_size=2)
    run = generate_queries_with_program(corpus, program, lm, config, checkpoint_root=tmp_path, retries=0,
                                        show_progress=False)
    rows = {q.doc_id: q for q in run.queries}
    assert len(rows) == 5 and rows["d1"].query == "what about topic 1" and rows["d1"].extra["source"] == "dspy"
    assert rows["d3"].extra["source"] == "failed" and rows["d3"].extra["problem"] == "unparseable"
    assert run.queries.prompt_id == program.prompt_id and rows["d1"].prompt_id == program.prompt_id
    assert run.figures["dspy_failed"] == 1 and run.figures["dspy_first_try_rate"] == 0.8
    assert len(list(next(tmp_path.iterdir()).glob("shard-*.jsonl"))) == 3
    calls = len(lm.calls)
    again = generate_queries_with_program(corpus, program, lm, config, checkpoint_root=tmp_path, retries=0,
                                          show_progress=False)
    assert len(lm.calls) == calls and again.figures["documents_generated_now"] == 0
    assert again.figures["dspy_failed"] == 1 and [q.query for q in again.queries] == [q.query for q in run.queries]
    with pytest.raises(ValueError, match="queries_per_doc"):
        generate_queries_with_program(corpus, program, lm, QueryGenerationConfig(queries_per_doc=2))


def test_self_retrieval_metric_rewards_queries_that_find_their_document_and_penalises_copies(demo_dir):
    corpus = load_collection(demo_dir).corpus
    metric = SelfRetrievalMetric(corpus, SelfRetrievalMetricConfig(k=10, copy_penalty=0.5))
    doc = corpus["d002"]
    about = metric.score("how do bees turn nectar into honey", doc.doc_id, doc.contents)
    copied_text = " ".join(doc.text.split()[:12])
    copied = metric.score(copied_text, doc.doc_id, doc.contents)
    unrelated = metric.score("history of the roman empire", doc.doc_id, doc.contents)
    assert about > unrelated and unrelated <= 0.0 and copied < about
    assert metric.score("", doc.doc_id, doc.contents) == 0.0
    figures = metric.figures(["how do bees turn nectar into honey", copied_text], [doc, doc])
    assert figures["self_retrieval_at_10"] == 1.0 and figures["copy_rate"] == 0.5
    assert is_copy(copied_text, doc.contents) and not is_copy("bee honey enzymes", doc.contents)
    example = dspy.Example(doc_id=doc.doc_id, full_text=doc.contents, document=doc.contents).with_inputs("document")
    assert metric(example, dspy.Prediction(query="how do bees turn nectar into honey"), trace=[]) is True
    assert metric(example, dspy.Prediction(query="roman empire"), trace=[]) is False


def test_train_and_dev_documents_are_disjoint_and_seeded(demo_dir):
    corpus = load_collection(demo_dir).corpus
    train, dev = split_documents(corpus, 3, 4, seed=1)
    assert len(train) == 3 and len(dev) == 4 and not {d.doc_id for d in train} & {d.doc_id for d in dev}
    assert [d.doc_id for d in split_documents(corpus, 3, 4, seed=1)[0]] == [d.doc_id for d in train]
    with pytest.raises(ValueError, match="at least 2"):
        split_documents(Corpus({"a": Document("a", "x")}), 1, 1, 0)


def test_configs_and_lm_specs_name_the_bad_field():
    from synthir.config import ConfigError

    with pytest.raises(ConfigError, match=r"^optimisation\.trainsize: Extra inputs are not permitted \(got 3\)"):
        PromptOptimisationConfig.from_dict({"trainsize": 3})
    with pytest.raises(ConfigError, match=r"^optimisation\.optimiser: Input should be 'bootstrap', 'random_search', "
                                          r"'mipro' or 'none' \(got 'grid'\)"):
        PromptOptimisationConfig(optimiser="grid")
    with pytest.raises(ConfigError, match=r"^metric\.rank: Extra inputs are not permitted"):
        SelfRetrievalMetricConfig.from_dict({"rank": 3})
    with pytest.raises(ConfigError, match=r"^metric\.retrieval: Input should be 'bm25' or 'reranker' \(got 'dense'\)"):
        SelfRetrievalMetricConfig(retrieval="dense")
    with pytest.raises(ConfigError, match=r"^generator\.base_url: Extra inputs are not permitted"):
        make_dspy_lm({"backend": "litellm", "model": "openai/x", "base_url": "http://h"})
    lm, backend = make_dspy_lm({"backend": "litellm", "model": "openai/x", "api_base": "http://h:8000/v1", "num_threads": 4})
    assert isinstance(lm, dspy.BaseLM) and backend is None and lm.num_threads == 4
    with pytest.raises(ValueError, match="dspy-cot"):
        program_kind("dspy-tree")
