"""Where things run and where they are kept: the cache folder, the device, the dtype, the bf16 probe.

One module for every runtime decision, so the generator, the rerankers, the trainers and the model
resolver agree (and none imports another just for these). torch is imported only by the calls that
need it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def default_cache_dir() -> Path:
    """``$SYNTHIR_CACHE_DIR``, else ``~/.cache/synthir``: BM25 indexes, converted models, checkpoints."""
    return Path(os.environ.get("SYNTHIR_CACHE_DIR", Path.home() / ".cache" / "synthir"))


def release_freed_memory() -> None:
    """Hand the heap pages Python has freed back to the operating system (glibc's ``malloc_trim``;
    elsewhere nothing happens). After a collection is prepared, the records as read are garbage, but
    glibc keeps their pages, and they would stay resident through training."""
    import ctypes
    import ctypes.util
    import gc

    gc.collect()
    libc = ctypes.util.find_library("c")
    trim = getattr(ctypes.CDLL(libc), "malloc_trim", None) if libc else None
    if trim is not None:
        trim(0)


def model_cache_dir() -> Path:
    """``$SYNTHIR_MODEL_CACHE_DIR``, else the cache dir's ``models``: packaged models made loadable
    (GGUF de-quantised, split zips joined), which depend only on the installed packages."""
    folder = os.environ.get("SYNTHIR_MODEL_CACHE_DIR")
    return Path(folder) if folder else default_cache_dir() / "models"


def cpu_supports_bf16() -> bool:
    """AVX512-BF16 or AMX: bf16 matmuls run natively (~2x faster here); without them bf16 is emulated."""
    import torch

    checks = [getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    return any(check() for check in checks if check is not None)


def pick_device(device: str) -> str:
    """``auto``: cuda when available, else cpu; anything else as given."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def pick_dtype(dtype: str, device: str) -> torch.dtype:
    """``auto``: bf16 on GPUs that support it (else fp16) and on CPUs with native bf16 (else fp32)."""
    import torch

    if dtype != "auto":
        return {"bf16": torch.bfloat16, "bfloat16": torch.bfloat16, "fp16": torch.float16,
                "float16": torch.float16, "fp32": torch.float32, "float32": torch.float32}[dtype]
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if cpu_supports_bf16() else torch.float32
