from pathlib import Path

import pytest

from synthir.models import ModelNotAvailableError, resolve_model


def test_packaged_encoder_resolves_to_a_transformers_folder():
    path = resolve_model("package:all-minilm-l6-v2")
    assert (path / "config.json").exists()


@pytest.mark.parametrize("ref, message", [
    ("package:nope", r"unknown packaged model 'nope'; known: \['all-minilm-l6-v2', 'all-mpnet-base-v2', 'gemma3-270m', "
                     r"'smollm2-135m-instruct'\]"),
    ("/no/such/folder", "unknown model reference '/no/such/folder'"),
    ("hf:org/definitely-not-here", "could not fetch 'hf:org/definitely-not-here' from the Hugging Face Hub"),
])
def test_bad_references_say_what_is_accepted(ref, message):
    with pytest.raises(ModelNotAvailableError, match=message):
        resolve_model(ref)


def test_converted_gguf_is_cached():
    import os

    first = resolve_model("package:smollm2-135m-instruct")
    stamp = (first / "model.safetensors").stat().st_mtime_ns
    assert resolve_model("package:smollm2-135m-instruct") == first
    assert (first / "model.safetensors").stat().st_mtime_ns == stamp
    assert first.parent == Path(os.environ["SYNTHIR_MODEL_CACHE_DIR"])  # the session's, not ~/.cache


def test_a_model_zipped_over_several_packages_is_joined_and_extracted_once(tmp_path, monkeypatch):
    """all-mpnet-base-v2's layout (a zip cut into parts, one PyPI package each), made tiny."""
    import io
    import sys
    import zipfile

    from synthir import models

    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("tiny-encoder/modules.json", "[]")
        zipped.writestr("tiny-encoder/model.safetensors", b"weights" * 1000)
        zipped.writestr("tiny-encoder/1_Pooling/config.json", "{}")
        zipped.writestr("tiny-encoder/desktop.ini", "junk")
    data = archive.getvalue()
    cut = len(data) // 3
    for n, chunk in enumerate((data[:cut], data[cut:2 * cut], data[2 * cut:]), start=1):
        (tmp_path / "site" / f"tiny_part_{n:03d}" / "input").mkdir(parents=True)
        (tmp_path / "site" / f"tiny_part_{n:03d}" / "__init__.py").write_text("")
        (tmp_path / "site" / f"tiny_part_{n:03d}" / "input" / f"tiny-encoder.zip.{n:03d}").write_bytes(chunk)
    monkeypatch.setattr(sys, "path", [str(tmp_path / "site"), *sys.path])
    monkeypatch.setitem(models.PACKAGED_MODELS, "tiny-encoder",
                        models.PackagedModel("tiny_part_001", zip_parts=("tiny_part_001", "tiny_part_002", "tiny_part_003")))
    folder = resolve_model("package:tiny-encoder", cache_dir=tmp_path / "cache")
    assert folder == tmp_path / "cache" / "models" / "tiny-encoder"
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == [
        "1_Pooling/config.json", "model.safetensors", "modules.json"]
    stamp = (folder / "model.safetensors").stat().st_mtime_ns
    assert resolve_model("package:tiny-encoder", cache_dir=tmp_path / "cache") == folder
    assert (folder / "model.safetensors").stat().st_mtime_ns == stamp  # extracted once
    # processes resolving it at once: one extracts under the lock, the others load its folder
    from concurrent.futures import ThreadPoolExecutor

    extracted = []
    original = models._extract_split_zip
    monkeypatch.setattr(models, "_extract_split_zip", lambda *a: extracted.append(a) or original(*a))
    with ThreadPoolExecutor(4) as pool:
        folders = set(pool.map(lambda _: resolve_model("package:tiny-encoder", cache_dir=tmp_path / "fresh"), range(4)))
    assert folders == {tmp_path / "fresh" / "models" / "tiny-encoder"} and len(extracted) == 1
    monkeypatch.setitem(models.PACKAGED_MODELS, "tiny-encoder",
                        models.PackagedModel("tiny_part_001", zip_parts=("tiny_part_001", "missing_part_002")))
    with pytest.raises(ModelNotAvailableError, match="package 'missing_part_002' is not installed; run `make setup`"):
        resolve_model("package:tiny-encoder", cache_dir=tmp_path / "other-cache")


def test_two_overlapping_gguf_conversions_leave_the_reader_as_it_was():
    """The shared-reader swap is process-wide: without the lock, a conversion that started second and
    ended last restored the first one's wrapper, not gguf's own reader."""
    import threading

    import gguf

    from synthir.models import _one_gguf_reader

    original = gguf.GGUFReader
    events = {name: threading.Event() for name in ("a_in", "a_go", "b_in", "b_go")}

    def convert(entered, go):
        with _one_gguf_reader():
            events[entered].set()
            events[go].wait(10)

    first = threading.Thread(target=convert, args=("a_in", "a_go"))
    second = threading.Thread(target=convert, args=("b_in", "b_go"))
    first.start()
    assert events["a_in"].wait(10)
    second.start()
    assert not events["b_in"].wait(0.5)  # the second waits for the first to restore the reader
    events["a_go"].set()
    first.join(10)
    assert events["b_in"].wait(10)
    events["b_go"].set()
    second.join(10)
    assert gguf.GGUFReader is original
