"""The transformers backend with the real offline generator (SmolLM2-135M-Instruct from its package)."""

import pytest

from synthir.data import load_collection
from synthir.generation import load_prompt
from synthir.generation.backends.base import DecodingParams
from synthir.generation.backends.local import TransformersGenerator


@pytest.fixture(scope="module")
def generators():
    cached = TransformersGenerator(dtype="fp32", reuse_prefix_cache=True, batch_size=3)
    plain = TransformersGenerator(dtype="fp32", reuse_prefix_cache=False, batch_size=3)
    plain.model, plain.tokenizer = cached.model, cached.tokenizer  # one copy of the weights
    return cached, plain


@pytest.fixture(scope="module")
def targets(demo_dir):
    template = load_prompt("inpars", num_examples=2)
    docs = list(load_collection(demo_dir).corpus)[:5]
    return template, [template.target(d.contents) for d in docs]


def test_prefix_cache_gives_the_same_queries(generators, targets):
    cached, plain = generators
    template, prompts = targets
    with_cache = cached.generate(template.prefix(), prompts, DecodingParams())
    without = plain.generate(template.prefix(), prompts, DecodingParams())
    for a, b in zip(with_cache, without):
        assert a[0].text == b[0].text
        assert a[0].token_logprobs == pytest.approx(b[0].token_logprobs, abs=1e-3)


def test_stops_at_newline_and_keeps_logprobs(generators, targets):
    cached, _ = generators
    template, prompts = targets
    results = cached.generate(template.prefix(), prompts, DecodingParams(max_new_tokens=48))
    for (completion,) in results:
        assert completion.text.strip() and "\n" not in completion.text
        assert 0 < len(completion.token_logprobs) <= 48
        assert all(lp <= 0 for lp in completion.token_logprobs)
        # the log-probs cover the kept tokens: re-tokenising the text gives about as many tokens
        assert abs(len(cached.tokenizer(completion.text, add_special_tokens=False).input_ids) - len(completion.token_logprobs)) <= 2


def test_custom_stop_string_and_sampling(generators, targets):
    cached, _ = generators
    template, prompts = targets
    results = cached.generate(template.prefix(), prompts[:2],
                              DecodingParams(do_sample=True, temperature=1.0, num_return_sequences=3, stop=["s"], seed=3))
    assert [len(r) for r in results] == [3, 3]
    texts = [c.text for completions in results for c in completions]
    assert all("s" not in text for text in texts)  # cut before the first "s"
    assert sum(1 for text in texts if text.strip()) >= 3


def test_truncate_counts_tokens(generators):
    cached, _ = generators
    text = "Honey bees collect nectar and turn it into honey inside the hive during summer."
    short = cached.truncate(text, 5)
    assert len(cached.tokenizer(short, add_special_tokens=False).input_ids) == 5 and text.startswith(short)
    assert cached.truncate(text, 1000) == text
