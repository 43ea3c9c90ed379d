"""Generator backends: local transformers models and OpenAI-compatible servers."""

from __future__ import annotations

import os
from typing import Any, Optional

from pydantic import BaseModel

from synthir.config import ConfigError
from synthir.generation.backends.base import Completion, DecodingParams, GeneratorBackend
from synthir.generation.backends.config import (
    API_KEY_VARIABLES,
    BACKENDS,
    DEFAULT_GENERATOR,
    GeneratorSpec,
    LiteLLMGenerator,
    LocalGenerator,
    LocalRuntime,
    ServedGenerator,
    as_generator_spec,
    generator_block,
)


def resolve_api_key(reference: Optional[str], field: str = "generator.api_key") -> Optional[str]:
    """The key to send: the ZenML secret ``reference`` names, read when the backend is built (so
    the key never enters a config or an artifact), else the first of ``API_KEY_VARIABLES`` set."""
    if not reference:
        return next((os.environ[v] for v in API_KEY_VARIABLES if os.environ.get(v)), None)
    from zenml.client import Client
    from zenml.utils.secret_utils import parse_secret_reference

    secret = parse_secret_reference(reference)
    try:
        values = Client().get_secret(secret.name, allow_partial_name_match=False).secret_values
    except KeyError:
        raise ConfigError(f"{field}: {reference} names the ZenML secret {secret.name!r}, which does not exist in the "
                          f"active ZenML store; create it: zenml secret create {secret.name} --{secret.key}=...") from None
    if secret.key not in values:
        raise ConfigError(f"{field}: the ZenML secret {secret.name!r} has no key {secret.key!r} (it has: "
                          f"{sorted(values)}); add it: zenml secret update {secret.name} --{secret.key}=...")
    return values[secret.key]


def pin_generator_spec(spec: dict[str, Any] | BaseModel | None):
    """``spec`` with a ``registry:<name>@<alias>`` model replaced by the version the alias names now.

    Pipelines call this while they are composed, so the step's cache key and lineage hold the version:
    after a promotion moves the alias, a re-run generates with the new model instead of reusing the
    old one's cached queries."""
    if spec is None:
        return None
    spec = as_generator_spec(spec)
    if not spec.model.startswith("registry:") or "@" not in spec.model:
        return spec
    from synthir.models import pin_registry_ref
    from synthir.tracking import use_stack_tracking_uri

    use_stack_tracking_uri()
    return spec.model_copy(update={"model": pin_registry_ref(spec.model)})


def make_backend(spec: dict[str, Any] | BaseModel) -> GeneratorBackend:
    """Build a backend from a generator spec: ``{"backend": "local" | "served", ...its fields}``."""
    spec = as_generator_spec(spec)
    if isinstance(spec, LocalGenerator):
        from synthir.generation.backends.local import TransformersGenerator

        return TransformersGenerator(**spec.model_dump(exclude={"backend"}))
    if isinstance(spec, ServedGenerator):
        from synthir.generation.backends.served import OpenAICompletionsGenerator

        return OpenAICompletionsGenerator(**{**spec.model_dump(exclude={"backend"}), "api_key": resolve_api_key(spec.api_key)})
    raise ConfigError("generator.backend: litellm serves DSPy programs only (prompt: dspy-cot / dspy-predict); "
                      "static prompts need backend local or served")


__all__ = ["API_KEY_VARIABLES", "BACKENDS", "DEFAULT_GENERATOR", "Completion", "DecodingParams", "GeneratorBackend",
           "GeneratorSpec", "LiteLLMGenerator",
           "LocalGenerator", "LocalRuntime", "ServedGenerator", "as_generator_spec", "generator_block", "make_backend",
           "pin_generator_spec"]
