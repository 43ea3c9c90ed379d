"""The DSPy query program itself: the ``GenerateQuery`` signature, ``Predict`` / ``ChainOfThought``
programs over it, and seed demos from a prompt template's examples."""

from __future__ import annotations

from collections.abc import Sequence

import dspy

from synthir.generation.prompts import PROGRAM_KINDS, FewShotExample, program_kind  # noqa: F401 (re-exported)

COMPLETED_MARKER = "[[ ## completed ## ]]"


class GenerateQuery(dspy.Signature):
    """Write a short search query that a user would type to find this document. Ask about what the
    document is about; do not copy sentences from it."""

    document: str = dspy.InputField(desc="the document")
    query: str = dspy.OutputField(desc="a short search query that this document answers")


def build_program(kind: str) -> dspy.Module:
    """A zero-shot program: ``predict`` (document -> query) or ``cot`` (document -> reasoning -> query)."""
    if kind == "predict":
        return dspy.Predict(GenerateQuery)
    if kind == "cot":
        return dspy.ChainOfThought(GenerateQuery)
    raise ValueError(f"DSPy program kind must be one of {PROGRAM_KINDS}, got {kind!r}")


def the_predictor(program: dspy.Module) -> dspy.Predict:
    predictors = program.predictors()
    if len(predictors) != 1:
        raise ValueError(f"expected a program with one predictor, found {len(predictors)}")
    return predictors[0]


def seed_demos(examples: Sequence[FewShotExample], kind: str) -> list[dspy.Example]:
    """Few-shot examples of a static template as labelled DSPy demos (with their reasoning for CoT)."""
    demos = []
    for example in examples:
        fields = {"document": example.document, "query": example.query}
        if kind == "cot":
            fields["reasoning"] = example.reasoning or "This is what the document is about."
        demos.append(dspy.Example(**fields).with_inputs("document"))
    return demos
