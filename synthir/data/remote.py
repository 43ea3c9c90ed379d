"""Collections in object storage or behind a URL (``s3://``, ``gs://``, ``az://``, ``https://``), through fsspec.

A remote collection, file or folder, is copied into a temporary folder on each read and loaded as a
local one, so the content fingerprint (and with it the retraining decision) follows what is stored
now: a changed upload retrains, an unchanged one does not. Credentials come from the environment
the step runs in (the AWS/GCP/Azure SDKs' own chains: the variables and files that a ZenML service
connector or the orchestrator's workload identity provide), never from a config file; the protocol's
fsspec package (``s3fs``, ``gcsfs``, ``adlfs``) must be installed in the image.
"""

from __future__ import annotations

from pathlib import Path

from synthir.data.errors import DataFormatError, DatasetUnavailableError


def is_remote(spec: str) -> bool:
    """An fsspec URL (``s3://``, ``gs://``, ``https://``, ``memory://``, ...) other than ``file://``."""
    return "://" in str(spec) and not str(spec).startswith("file://")


def fetch(spec: str, target: Path) -> Path:
    """Copy the file or folder at ``spec`` into ``target``; returns the local copy's path."""
    import fsspec

    try:
        fs, path = fsspec.core.url_to_fs(spec)
    except (ImportError, ValueError) as err:
        raise DatasetUnavailableError(f"{spec}: cannot open this location ({err}); install the fsspec package for "
                                      "its protocol (s3fs, gcsfs, adlfs)") from None
    name = path.rstrip("/").rsplit("/", 1)[-1] or "collection"
    local = Path(target) / name
    try:
        if fs.isdir(path):
            fs.get(path.rstrip("/") + "/", str(local), recursive=True)
        elif fs.exists(path):
            fs.get(path, str(local))
        else:
            raise DataFormatError(spec, None, "no such file or folder in this bucket or at this URL")
    except (PermissionError, OSError) as err:
        if isinstance(err, FileNotFoundError):
            raise DataFormatError(spec, None, "no such file or folder in this bucket or at this URL") from None
        raise DatasetUnavailableError(f"{spec}: could not read ({type(err).__name__}: {err}); check the credentials the "
                                      "step runs with (the stack's service connector or secrets)") from None
    return local
