import pytest

from synthir.data import Corpus, DataFormatError, Document, Qrels, Queries
from synthir.generation.prompts import load_prompt, with_collection_examples


def test_inpars_renders_examples_then_target():
    template = load_prompt("inpars")
    assert template.full_id == "inpars@v1" and len(template.examples) == 3
    prompt = template.render("A {weird} document with {{ braces }}.")
    assert prompt.count("Relevant Query:") == 4
    assert prompt.startswith("Example 1:\nDocument: The kakapo")
    assert prompt.endswith("Example 4:\nDocument: A {weird} document with {{ braces }}.\nRelevant Query:")
    two = load_prompt("inpars", num_examples=2)
    assert two.render("doc").count("Example") == 3 and two.prefix() in two.render("doc")


def test_gbq_keeps_good_and_bad_question():
    template = load_prompt("inpars-gbq")
    assert template.render("doc").endswith("Document: doc\nBad Question:")
    query, extra = template.parse(" what is a bee\nGood Question: how do bees make honey\n\nExample 5:")
    assert query == "how do bees make honey" and extra == {"bad_question": "what is a bee"}
    query, extra = template.parse(" only a bad one")
    assert query == "" and "parse_error" in extra


def test_static_parse_cuts_at_stop():
    assert load_prompt("inpars").parse(" how do  bees fly\nExample 5:") == ("how do bees fly", {})


def test_promptagator_draws_examples_from_the_collection():
    corpus = Corpus({f"d{i}": Document(f"d{i}", f"text {i}") for i in range(5)})
    queries = Queries({f"q{i}": f"query {i}" for i in range(5)})
    qrels = Qrels({f"q{i}": {f"d{i}": 1} for i in range(5)})
    template = with_collection_examples(load_prompt("promptagator"), corpus, queries, qrels, num_examples=2, seed=1)
    ids = [e.id for e in template.selected_examples()]
    assert len(ids) == 2 and set(ids) <= set(queries.queries)
    for example in template.selected_examples():
        assert example.query == queries[example.id] and example.document == f"text {example.id[1:]}"
    assert template.render("new doc").endswith("Article: new doc\nQuery:")
    again = with_collection_examples(load_prompt("promptagator"), corpus, queries, qrels, num_examples=2, seed=1)
    assert [e.id for e in again.selected_examples()] == ids  # seeded
    with pytest.raises(DataFormatError, match="needs 9 judged queries"):
        with_collection_examples(load_prompt("promptagator"), corpus, queries, qrels, num_examples=9, seed=1)


def test_custom_template_file(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(
        "id: mine\nversion: 3\nkind: static\nstop: ['?']\n"
        'example_template: "Text: {{ document }}\\nQ: {{ query }}?\\n"\n'
        'target_template: "Text: {{ document }}\\nQ:"\n'
        "examples:\n  - {document: 'Cats purr.', query: 'why do cats purr'}\n"
    )
    template = load_prompt(str(path))
    assert template.full_id == "mine@v3"
    assert template.render("Dogs bark.") == "Text: Cats purr.\nQ: why do cats purr?\nText: Dogs bark.\nQ:"
    assert template.parse(" why do dogs bark? because") == ("why do dogs bark", {})


@pytest.mark.parametrize("body, message", [
    ("id: x\nversion: 1\nkind: static\nexample_template: a\n", r"missing field\(s\) \['target_template'\]"),
    ("id: x\nversion: 1\nkind: odd\nexample_template: a\ntarget_template: '{{ document }}'\n", "kind must be one of"),
    ("id: x\nversion: 1\nkind: static\nexample_template: a\ntarget_template: 'no doc'\n", r"must contain \{\{ document \}\}"),
    ("id: x\nversion: 1\nkind: gbq\nexample_template: a\ntarget_template: '{{ document }}'\n"
     "examples: [{document: d, query: q}]\n", "needs 'bad_question'"),
    ("id: [unclosed\n", "invalid YAML"),
])
def test_bad_custom_templates_name_the_problem(tmp_path, body, message):
    path = tmp_path / "bad.yaml"
    path.write_text(body)
    with pytest.raises(DataFormatError, match=message):
        load_prompt(str(path))


def test_unknown_preset():
    with pytest.raises(DataFormatError, match=r"unknown prompt 'nope': expected one of \['inpars', 'inpars-gbq', 'promptagator'\]"):
        load_prompt("nope")
