import pytest

from synthir.models import ModelNotAvailableError, resolve_model


def test_packaged_encoder_resolves_to_a_transformers_folder():
    path = resolve_model("package:all-minilm-l6-v2")
    assert (path / "config.json").exists()


@pytest.mark.parametrize("ref, message", [
    ("package:nope", r"unknown packaged model 'nope'; known: \['all-minilm-l6-v2', 'gemma3-270m', 'smollm2-135m-instruct'\]"),
    ("/no/such/folder", "unknown model reference '/no/such/folder'"),
    ("hf:org/definitely-not-here", "could not fetch 'hf:org/definitely-not-here' from the Hugging Face Hub"),
])
def test_bad_references_say_what_is_accepted(ref, message):
    with pytest.raises(ModelNotAvailableError, match=message):
        resolve_model(ref)


def test_converted_gguf_is_cached(session_dir):
    first = resolve_model("package:smollm2-135m-instruct")
    stamp = (first / "model.safetensors").stat().st_mtime_ns
    assert resolve_model("package:smollm2-135m-instruct") == first
    assert (first / "model.safetensors").stat().st_mtime_ns == stamp
    assert str(first).startswith(str(session_dir))
