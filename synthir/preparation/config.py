"""``documents:``, the block that says how a collection is made ready (outside the package's
``__init__``, as every config block: ZenML names a class by its file)."""

from __future__ import annotations

from pydantic import Field

from synthir.config import ConfigBlock
from synthir.preparation.boilerplate import BoilerplateConfig
from synthir.preparation.duplicates import DuplicatesConfig
from synthir.preparation.passages import PassageConfig


class DocumentsConfig(ConfigBlock):
    """``documents:``: boilerplate, duplicates and passages, applied when the collection is loaded."""

    yaml_path = "inpars.documents"
    boilerplate: BoilerplateConfig = Field(default_factory=BoilerplateConfig, description="repeated lines")
    duplicates: DuplicatesConfig = Field(default_factory=DuplicatesConfig, description="exact and near copies")
    passages: PassageConfig = Field(default_factory=PassageConfig, description="long documents as passages")

    @classmethod
    def off(cls) -> DocumentsConfig:
        """Documents as read: nothing removed, nothing split."""
        return cls(boilerplate={"enabled": False}, duplicates={"policy": "keep"}, passages={"enabled": False})
