"""Generator backends: local transformers models and OpenAI-compatible servers."""

from __future__ import annotations

from typing import Any

from synthir.generation.backends.base import Completion, DecodingParams, GeneratorBackend

BACKEND_FIELDS = {
    "local": {"model", "dtype", "device", "batch_size", "reuse_prefix_cache"},
    "served": {"base_url", "model", "api_key", "concurrency", "timeout_s", "max_retries", "backoff_s"},
}


def pin_generator_spec(spec: dict[str, Any] | None) -> dict[str, Any] | None:
    """``spec`` with a ``registry:<name>@<alias>`` model replaced by the version the alias names now.

    Pipelines call this while they are composed, so the step's cache key and lineage hold the version:
    after a promotion moves the alias, a re-run generates with the new model instead of reusing the
    old one's cached queries."""
    model = (spec or {}).get("model", "")
    if not isinstance(model, str) or not model.startswith("registry:") or "@" not in model:
        return spec
    from synthir.models import pin_registry_ref
    from synthir.tracking import use_stack_tracking_uri

    use_stack_tracking_uri()
    return {**spec, "model": pin_registry_ref(model)}


def make_backend(spec: dict[str, Any]) -> GeneratorBackend:
    """Build a backend from a config mapping: ``{"backend": "local" | "served", ...its fields}``."""
    spec = dict(spec)
    kind = spec.pop("backend", "local")
    if kind not in BACKEND_FIELDS:
        raise ValueError(f"generator.backend must be one of {sorted(BACKEND_FIELDS)}, got {kind!r}")
    unknown = set(spec) - BACKEND_FIELDS[kind]
    if unknown:
        raise ValueError(f"unknown field(s) {sorted(unknown)} for generator.backend={kind!r}; allowed: {sorted(BACKEND_FIELDS[kind])}")
    if kind == "local":
        from synthir.generation.backends.local import TransformersGenerator

        return TransformersGenerator(**spec)
    from synthir.generation.backends.served import OpenAICompletionsGenerator

    if "base_url" not in spec or "model" not in spec:
        raise ValueError("generator.backend=served needs base_url (e.g. http://vllm:8000/v1) and model")
    return OpenAICompletionsGenerator(**spec)


__all__ = ["BACKEND_FIELDS", "Completion", "DecodingParams", "GeneratorBackend", "make_backend", "pin_generator_spec"]
