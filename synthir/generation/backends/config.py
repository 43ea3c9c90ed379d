"""The generator blocks (``generator:``, ``teacher:``, ``student:``): a union of backends keyed on
``backend``. Defined outside the package's ``__init__``: ZenML names a class by its file, and a class
of an ``__init__.py`` came back from a dynamic pipeline's step inputs as a second class of the same
name (``synthir.generation.backends.__init__.LocalGenerator``), which the step's union refused."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Optional, Union

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, TypeAdapter

from synthir.config import StrictModel, UnionMember, named_block

DEFAULT_GENERATOR = "package:smollm2-135m-instruct"


API_KEY_VARIABLES = ("SYNTHIR_SERVED_API_KEY", "OPENAI_API_KEY")


def _no_literal_key(value: Optional[str]) -> Optional[str]:
    """A config holds a ZenML secret reference, never the key: ZenML stores step parameters in clear
    (the pipeline snapshot and step configuration, shown on the dashboard)."""
    from zenml.utils.secret_utils import is_secret_reference

    if value is None or is_secret_reference(value):
        return value
    raise ValueError(f"a literal API key would be stored in clear in the ZenML store (the run's snapshot and step "
                     f"configuration, readable from the dashboard); leave api_key out and set {' or '.join(API_KEY_VARIABLES)} "
                     "in the environment, or reference a ZenML secret: api_key: '{{my_endpoint.api_key}}' after "
                     "`zenml secret create my_endpoint --api_key=...`")


ApiKey = Annotated[Optional[str], AfterValidator(_no_literal_key)]


class LocalRuntime(StrictModel):
    """Where and how a local transformers model runs (``evaluation_generator:`` is just this)."""

    dtype: Literal["auto", "bf16", "fp16", "fp32"] = Field(
        "auto", description="auto: bf16 where the CPU/GPU supports it, else fp32 (fp16 on older GPUs)")
    device: str = Field("auto", description="auto | cpu | cuda | cuda:N")
    batch_size: int = Field(16, ge=1, description="documents per forward pass (does not change the output)")
    reuse_prefix_cache: bool = Field(True, description="compute the shared few-shot prefix's key/value cache once")


class LocalGenerator(LocalRuntime, UnionMember):
    """``backend: local``: a transformers causal LM on this machine (or its GPUs)."""

    tag = "backend"

    backend: Literal["local"] = Field("local", description="selects this backend")
    model: str = Field(DEFAULT_GENERATOR, description="package:<name>, hf:<org>/<name>, registry:<name>@<alias>|/<version>, or a folder")


class ServedGenerator(UnionMember):
    """``backend: served``: any OpenAI-compatible ``/v1/completions`` endpoint (vLLM, TGI, ...)."""

    tag = "backend"

    backend: Literal["served"] = Field("served", description="selects this backend")
    base_url: str = Field(description="e.g. http://vllm:8000/v1")
    model: str = Field(description="the served model's name")
    api_key: ApiKey = Field(None, description="a ZenML secret reference ('{{name.key}}') to the bearer token; "
                                             "unset: SYNTHIR_SERVED_API_KEY or OPENAI_API_KEY (a literal key is refused)")
    concurrency: int = Field(16, ge=1, description="requests in flight (does not change the output)")
    timeout_s: float = Field(60.0, gt=0, description="per-request timeout")
    max_retries: int = Field(5, ge=0, description="retries per request, with backoff")
    backoff_s: float = Field(1.0, ge=0, description="first retry delay, doubled each time")


class LiteLLMGenerator(UnionMember):
    """``backend: litellm``: a DSPy program's LM through LiteLLM (``model: openai/<name>``)."""

    tag = "backend"

    backend: Literal["litellm"] = Field("litellm", description="selects this backend")
    model: str = Field(description="LiteLLM model id, e.g. openai/meta-llama/Llama-3.1-8B-Instruct")
    api_base: Optional[str] = Field(None, description="endpoint, e.g. http://vllm:8000/v1")
    api_key: ApiKey = Field(None, description="a ZenML secret reference ('{{name.key}}') to the API key; unset: "
                                             "SYNTHIR_SERVED_API_KEY or OPENAI_API_KEY, else EMPTY (a literal key is refused)")
    max_tokens: Optional[int] = Field(None, ge=1, description="tokens per call (default: the dspy block's)")
    temperature: float = Field(0.0, ge=0, description="sampling temperature")
    num_threads: int = Field(8, ge=1, description="concurrent requests")


def _local_by_default(value: Any) -> Any:
    return {"backend": "local", **value} if isinstance(value, dict) and "backend" not in value else value


BACKENDS = ("local", "served", "litellm")
GeneratorSpec = Annotated[Union[LocalGenerator, ServedGenerator, LiteLLMGenerator], Field(discriminator="backend"),
                          BeforeValidator(_local_by_default)]


def generator_block(yaml_path: str) -> Any:
    """A generator parameter (``generator``, ``teacher``, ``student``) whose errors name it."""
    return named_block(GeneratorSpec, yaml_path, tags=BACKENDS)


_GENERATOR = TypeAdapter(generator_block("generator"))


def as_generator_spec(spec: dict[str, Any] | BaseModel) -> LocalGenerator | ServedGenerator | LiteLLMGenerator:
    """A generator mapping (``backend`` defaults to local) as its typed spec."""
    return spec if isinstance(spec, (LocalGenerator, ServedGenerator, LiteLLMGenerator)) else _GENERATOR.validate_python(spec)
