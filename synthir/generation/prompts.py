"""Prompt templates as data: YAML files with an id, a version, examples and stop strings.

Presets live in ``synthir/generation/prompts/<id>.yaml``; ``custom`` prompts are a user's YAML file
with the same fields (pass its path as the prompt). Rendering uses Jinja2, so documents containing
braces or other template syntax are inserted verbatim.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import jinja2
import yaml
from pydantic import AfterValidator

from synthir.data.errors import DataFormatError
from synthir.data.records import Corpus, Qrels, Queries

PRESET_DIR = Path(__file__).parent / "prompts"
KINDS = ("static", "gbq", "promptagator")
_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)


@dataclass(frozen=True)
class FewShotExample:
    id: str
    document: str
    query: str
    bad_question: str = ""
    reasoning: str = ""  # why the query fits the document: the seed demos of DSPy chain-of-thought


@dataclass
class PromptTemplate:
    id: str
    version: int
    kind: str
    example_template: str
    target_template: str
    stop: list[str] = field(default_factory=lambda: ["\n"])
    header: str = ""
    examples: list[FewShotExample] = field(default_factory=list)
    num_examples: int | None = None
    description: str = ""
    reference: str = ""
    source: str = ""

    @property
    def full_id(self) -> str:
        """The id that travels with every generated query, e.g. ``inpars@v1``."""
        return f"{self.id}@v{self.version}"

    def selected_examples(self) -> list[FewShotExample]:
        return self.examples[: self.num_examples] if self.num_examples is not None else list(self.examples)

    def prefix(self) -> str:
        """Everything before the target document: identical for all documents of a run."""
        parts = [self.header]
        for n, example in enumerate(self.selected_examples(), start=1):
            parts.append(_ENV.from_string(self.example_template).render(
                n=n, document=example.document, query=example.query, bad_question=example.bad_question))
        return "".join(parts)

    def target(self, document: str) -> str:
        return _ENV.from_string(self.target_template).render(n=len(self.selected_examples()) + 1, document=document)

    def render(self, document: str) -> str:
        return self.prefix() + self.target(document)

    def parse(self, completion: str) -> tuple[str, dict[str, str]]:
        """The query in a completion, plus extra fields (the bad question of ``gbq``)."""
        text = completion
        for stop in self.stop:
            cut = text.find(stop)
            if cut >= 0:
                text = text[:cut]
        if self.kind == "gbq":
            bad, marker, good = text.partition("Good Question:")
            if not marker:
                return "", {"bad_question": " ".join(bad.split()), "parse_error": "no 'Good Question:' in output"}
            return " ".join(good.split()), {"bad_question": " ".join(bad.split())}
        return " ".join(text.split()), {}


def load_prompt(name_or_path: str, num_examples: int | None = None) -> PromptTemplate:
    """A preset by id (``inpars``, ``inpars-gbq``, ``promptagator``) or a custom YAML file by path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = PRESET_DIR / f"{name_or_path}.yaml"
        if not path.exists():
            presets = sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))
            raise DataFormatError(None, None, f"unknown prompt {name_or_path!r}: expected one of {presets} or a path to a YAML template")
    if not path.exists():
        raise DataFormatError(path, None, "prompt template file not found")
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        line = getattr(getattr(err, "problem_mark", None), "line", None)
        raise DataFormatError(path, None if line is None else line + 1, f"invalid YAML: {err}") from None
    template = _from_spec(spec, path)
    if num_examples is not None:
        template.num_examples = num_examples
    return template


def _from_spec(spec: Any, path: Path) -> PromptTemplate:
    if not isinstance(spec, dict):
        raise DataFormatError(path, None, "expected a YAML mapping with id, version, kind, example_template, target_template")
    required = ("id", "version", "kind", "example_template", "target_template")
    missing = [key for key in required if key not in spec]
    if missing:
        raise DataFormatError(path, None, f"missing field(s) {missing}; a template needs {list(required)}")
    if spec["kind"] not in KINDS:
        raise DataFormatError(path, None, f"kind must be one of {KINDS}, got {spec['kind']!r}")
    if "{{ document }}" not in spec["target_template"].replace("{{document}}", "{{ document }}"):
        raise DataFormatError(path, None, "target_template must contain {{ document }}")
    examples = []
    for i, example in enumerate(spec.get("examples") or []):
        if not isinstance(example, dict) or "document" not in example or "query" not in example:
            raise DataFormatError(path, None, f"examples[{i}] needs 'document' and 'query'")
        if spec["kind"] == "gbq" and not example.get("bad_question"):
            raise DataFormatError(path, None, f"examples[{i}] of a gbq template needs 'bad_question'")
        examples.append(FewShotExample(id=str(example.get("id", i)), document=" ".join(str(example["document"]).split()),
                                       query=str(example["query"]).strip(), bad_question=str(example.get("bad_question", "")).strip(),
                                       reasoning=" ".join(str(example.get("reasoning", "")).split())))
    stop = spec.get("stop", ["\n"])
    if not isinstance(stop, list) or not all(isinstance(s, str) and s for s in stop):
        raise DataFormatError(path, None, "stop must be a list of non-empty strings")
    try:
        for key in ("example_template", "target_template"):
            _ENV.parse(spec[key])
    except jinja2.TemplateSyntaxError as err:
        raise DataFormatError(path, None, f"{key}: invalid template syntax: {err}") from None
    return PromptTemplate(
        id=str(spec["id"]), version=int(spec["version"]), kind=spec["kind"],
        example_template=spec["example_template"], target_template=spec["target_template"], stop=stop,
        header=spec.get("header") or "", examples=examples, num_examples=spec.get("num_examples"),
        description=(spec.get("description") or "").strip(), reference=(spec.get("reference") or "").strip(),
        source=str(path),
    )


def with_collection_examples(
    template: PromptTemplate,
    corpus: Corpus,
    queries: Queries,
    qrels: Qrels,
    num_examples: int,
    seed: int,
    truncate=lambda text: text,
) -> PromptTemplate:
    """Promptagator: draw ``num_examples`` labelled (query, relevant document) pairs from the collection."""
    rng = random.Random(seed)
    candidates = sorted(q for q in qrels.judgments if q in queries and qrels.relevant(q) & corpus.documents.keys())
    if len(candidates) < num_examples:
        raise DataFormatError(
            qrels.source, None,
            f"promptagator needs {num_examples} judged queries with a relevant document in the corpus, found {len(candidates)}",
        )
    chosen = rng.sample(candidates, num_examples)
    examples = []
    for qid in chosen:
        doc_id = rng.choice(sorted(qrels.relevant(qid) & corpus.documents.keys()))
        examples.append(FewShotExample(id=qid, document=truncate(corpus[doc_id].contents), query=queries[qid]))
    template.examples = examples
    template.num_examples = num_examples
    return template


def prepare_template(prompt: str, num_examples: int | None, corpus: Corpus, backend, config,
                     examples_from: str | None = None) -> PromptTemplate:
    """The template a generation run prompts with: a preset or file, and for ``promptagator`` its
    examples drawn (seeded) from the judged queries of ``examples_from`` (default: the corpus's own
    collection), documents truncated to half of ``config.max_doc_tokens``."""
    from synthir.data import load_collection

    template = load_prompt(prompt, num_examples=num_examples)
    if template.kind != "promptagator":
        return template
    labelled = load_collection(examples_from or corpus.source.removesuffix("/corpus.jsonl"))
    if labelled.qrels is None:
        raise ValueError(f"prompt {prompt!r} draws its examples from judged queries; "
                         f"{examples_from or corpus.source!r} has no qrels")
    return with_collection_examples(template, corpus, labelled.queries, labelled.qrels,
                                    num_examples or template.num_examples or 4, config.seed,
                                    truncate=lambda text: backend.truncate(text, config.max_doc_tokens // 2))


PROGRAM_KINDS = ("predict", "cot")  # DSPy query programs: dspy-predict, dspy-cot


def program_kind(prompt: str) -> str:
    """``dspy-cot`` -> ``cot``, ``dspy-predict`` -> ``predict``."""
    kind = prompt.removeprefix("dspy-")
    if not prompt.startswith("dspy-") or kind not in PROGRAM_KINDS:
        raise ValueError(f"a DSPy prompt is one of {[f'dspy-{k}' for k in PROGRAM_KINDS]}, got {prompt!r}")
    return kind


def known_prompt(prompt: str) -> str:
    """A preset id, a template file, or ``dspy-cot`` / ``dspy-predict``; loaded now, so a typo fails the run at once."""
    # both raise ValueError (DataFormatError is one), which pydantic reports under the field's path
    program_kind(prompt) if prompt.startswith("dspy-") else load_prompt(prompt)
    return prompt


Prompt = Annotated[str, AfterValidator(known_prompt)]
