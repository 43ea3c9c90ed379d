"""Materializers for the IR records: parquet data + JSON metadata, never pickle.

Each artifact folder holds ``data.parquet`` (one row per document / query / judgment / ranked hit),
``meta.json`` (name, source and the record's own fields) and ``preview.html`` (a sample table for
the dashboard).
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import html
import itertools
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
from zenml.enums import ArtifactType, VisualizationType
from zenml.materializers.base_materializer import BaseMaterializer
from zenml.materializers.pydantic_materializer import PydanticMaterializer
from zenml.metadata.metadata_types import MetadataType

from synthir.cpo.preferences import PreferencePairs
from synthir.data.columnar import DocumentTable, read_table, write_documents
from synthir.data.records import Corpus, Qrels, Queries, Run, frame_fingerprint
from synthir.data.synthetic import SyntheticQueries
from synthir.evaluation.metrics import EvaluationResult
from synthir.evaluation.report import comparison_markdown, comparison_win_loss, metrics_html
from synthir.generation.query_program import CompiledQueryProgram
from synthir.lifecycle.gate import RerankerComparison
from synthir.quality.validate import FilteredQueries, QuarantinedQueries, ValidationReport
from synthir.training.artifacts import GeneratorModel, RerankerModel
from synthir.training.triples import Triples

DATA_FILE = "data.parquet"
ARROW_FILE = "data.arrow"
META_FILE = "meta.json"
PREVIEW_FILE = "preview.html"
DEV_FILE = "dev.parquet"
PREVIEW_ROWS = 25


def frame_to_html(frame: pd.DataFrame, title: str, rows: int = PREVIEW_ROWS, max_chars: int = 300) -> str:
    sample = frame.head(rows).copy()
    for column in sample.columns:
        if sample[column].dtype == object:
            sample[column] = sample[column].map(lambda v: v if len(str(v)) <= max_chars else str(v)[:max_chars] + "…")
    style = ("table{border-collapse:collapse;font-family:sans-serif;font-size:13px}"
             "td,th{border:1px solid #ccc;padding:3px 6px;vertical-align:top;text-align:left}")
    return (
        f"<html><head><style>{style}</style></head><body><h3>{html.escape(title)}</h3>"
        f"<p>{len(frame):,} rows; first {min(rows, len(frame))} shown.</p>"
        f"{sample.to_html(index=False, escape=True)}</body></html>"
    )


class FrameMaterializer(BaseMaterializer):
    """Base for records that convert to/from one pandas frame plus a small metadata dict."""

    SKIP_REGISTRATION: ClassVar[bool] = True  # an abstract base: ZenML registers only the subclasses
    ASSOCIATED_ARTIFACT_TYPE: ClassVar[ArtifactType] = ArtifactType.DATA
    TITLE: ClassVar[str] = "records"

    def to_parts(self, data: Any) -> tuple[pd.DataFrame, dict[str, Any]]:
        raise NotImplementedError

    def from_parts(self, frame: pd.DataFrame, meta: dict[str, Any]) -> Any:
        raise NotImplementedError

    def save(self, data: Any) -> None:
        frame, meta = self.to_parts(data)
        with self.artifact_store.open(os.path.join(self.uri, DATA_FILE), "wb") as handle:
            frame.to_parquet(handle, index=False)
        with self.artifact_store.open(os.path.join(self.uri, META_FILE), "w") as handle:
            json.dump(meta, handle)

    def load(self, data_type: type[Any]) -> Any:
        with self.artifact_store.open(os.path.join(self.uri, DATA_FILE), "rb") as handle:
            frame = pd.read_parquet(handle)
        with self.artifact_store.open(os.path.join(self.uri, META_FILE), "r") as handle:
            meta = json.load(handle)
        return self.from_parts(frame, meta)

    def preview_html(self, data: Any) -> str:
        frame, _ = self.to_parts(data)
        return frame_to_html(frame, self.TITLE)

    def compute_content_hash(self, data: Any) -> str:
        """Rows + metadata: ZenML keys step caching on this instead of the artifact id, so an unchanged
        collection read again (a new artifact) still lets the steps after it hit the cache."""
        frame, meta = self.to_parts(data)
        try:
            rows = pd.util.hash_pandas_object(frame, index=False)
        except TypeError:  # list-valued columns (log-probs): hash their text
            rows = pd.util.hash_pandas_object(frame.astype(str), index=False)
        digest = hashlib.sha256(rows.values.tobytes())
        digest.update(json.dumps(meta, sort_keys=True, default=str).encode())
        return digest.hexdigest()

    def save_visualizations(self, data: Any) -> dict[str, VisualizationType]:
        path = os.path.join(self.uri, PREVIEW_FILE)
        with self.artifact_store.open(path, "w") as handle:
            handle.write(self.preview_html(data))
        return {path: VisualizationType.HTML}


class CorpusMaterializer(FrameMaterializer):
    """A corpus as ``data.arrow`` (an Arrow IPC file: ``doc_id``, ``title``, ``text``, and ``document_id``
    and ``expansion`` when it has passages or expansions) that the next step memory-maps instead of
    building a million Python records; artifacts saved as ``data.parquet`` earlier still load."""

    ASSOCIATED_TYPES = (Corpus,)
    TITLE = "Corpus"

    @staticmethod
    def _meta(data: Corpus) -> dict[str, Any]:
        return {"name": data.name, "source": data.source, "fingerprint": data.fingerprint(),
                "parts": data.parts, "aliases": data.aliases, "aggregate": data.aggregate,
                "aggregate_top_k": data.aggregate_top_k, "passage_config": data.passage_config}

    def to_parts(self, data: Corpus):
        return data.to_frame(), self._meta(data)

    def save(self, data: Corpus) -> None:
        from zenml.io import fileio

        extra = {}
        if data.parents:
            extra["document_id"] = (data.document_of(p) for p in data.documents)
        if data.expansions:
            extra["expansion"] = (data.expansions.get(p, "") for p in data.documents)
        target = os.path.join(self.uri, ARROW_FILE)
        if "://" in self.uri:  # a remote store: written here, then copied
            with tempfile.TemporaryDirectory(prefix="synthir-corpus-") as tmp:
                fileio.copy(str(write_documents(Path(tmp) / ARROW_FILE, data.documents.values(), extra)), target)
        else:
            write_documents(target, data.documents.values(), extra)
        with self.artifact_store.open(os.path.join(self.uri, META_FILE), "w") as handle:
            json.dump(self._meta(data), handle)

    def load(self, data_type: type[Any]) -> Corpus:
        from zenml.io import fileio

        if not fileio.exists(os.path.join(self.uri, ARROW_FILE)):
            return super().load(data_type)
        with self.artifact_store.open(os.path.join(self.uri, META_FILE), "r") as handle:
            meta = json.load(handle)
        table, mapping = read_table(folder_from_store(self.uri) / ARROW_FILE)
        documents = DocumentTable(table, mapping)
        parents, expansions = {}, {}
        if "document_id" in table.column_names:
            parents = {p: d for p, d in zip(documents, table.column("document_id").to_pylist()) if p != d}
        if "expansion" in table.column_names:
            expansions = {p: text for p, text in zip(documents, table.column("expansion").to_pylist()) if text}
        return self.from_parts(Corpus(documents, parents=parents, expansions=expansions), meta)

    def from_parts(self, frame, meta):
        corpus = frame if isinstance(frame, Corpus) else Corpus.from_frame(frame)
        corpus.name, corpus.source = meta["name"], meta["source"]
        corpus.parts = list(meta.get("parts", []))
        corpus.aliases = dict(meta.get("aliases", {}))
        corpus.aggregate, corpus.aggregate_top_k = meta.get("aggregate", "maxp"), int(meta.get("aggregate_top_k", 3))
        corpus.passage_config = meta.get("passage_config")
        return corpus

    def preview_html(self, data: Corpus) -> str:
        return frame_to_html(data.subset(list(itertools.islice(data.documents, PREVIEW_ROWS))).to_frame(), self.TITLE)

    def compute_content_hash(self, data: Corpus) -> str:
        """The content fingerprint, the passage map and the metadata: no frame of every row."""
        digest = hashlib.sha256(json.dumps(self._meta(data), sort_keys=True, default=str).encode())
        digest.update(json.dumps(sorted(data.parents.items())).encode())
        return digest.hexdigest()

    def extract_metadata(self, data: Corpus) -> dict[str, MetadataType]:
        empty = sum(1 for d in data if not d.text and not d.title)
        documents = len({data.document_of(p) for p in data.documents})
        return {"documents": documents, "passages": len(data), "duplicates_removed": len(data.aliases),
                "fingerprint": data.fingerprint(), "empty_documents": empty,
                "name": data.name, "source": data.source, **({"parts": ", ".join(data.parts)} if data.parts else {})}


class QueriesMaterializer(FrameMaterializer):
    ASSOCIATED_TYPES = (Queries,)
    TITLE = "Queries"

    def to_parts(self, data: Queries):
        return data.to_frame(), {"name": data.name, "source": data.source}

    def from_parts(self, frame, meta):
        return Queries.from_frame(frame, name=meta["name"], source=meta["source"])

    def extract_metadata(self, data: Queries) -> dict[str, MetadataType]:
        lengths = [len(text.split()) for _, text in data]
        return {"queries": len(data), "mean_words": round(sum(lengths) / max(1, len(lengths)), 2),
                "name": data.name, "source": data.source}


class QrelsMaterializer(FrameMaterializer):
    ASSOCIATED_TYPES = (Qrels,)
    TITLE = "Relevance judgments"

    def to_parts(self, data: Qrels):
        return data.to_frame(), {"name": data.name, "source": data.source}

    def from_parts(self, frame, meta):
        return Qrels.from_frame(frame, name=meta["name"], source=meta["source"])

    def extract_metadata(self, data: Qrels) -> dict[str, MetadataType]:
        relevant = sum(1 for docs in data.judgments.values() for rel in docs.values() if rel > 0)
        return {"judgments": len(data), "queries": len(data.judgments), "relevant": relevant,
                "name": data.name, "source": data.source}


class RunMaterializer(FrameMaterializer):
    ASSOCIATED_TYPES = (Run,)
    TITLE = "Run"

    def to_parts(self, data: Run):
        return data.to_frame(), {"name": data.name}

    def from_parts(self, frame, meta):
        return Run.from_frame(frame, name=meta["name"])

    def extract_metadata(self, data: Run) -> dict[str, MetadataType]:
        depths = [len(docs) for docs in data.scores.values()]
        return {"queries": len(data), "hits": sum(depths), "max_depth": max(depths, default=0), "name": data.name}


class EvaluationResultMaterializer(FrameMaterializer):
    ASSOCIATED_TYPES = (EvaluationResult,)
    TITLE = "Evaluation"

    def to_parts(self, data: EvaluationResult):
        meta = {"system": data.system, "aggregate": data.aggregate, "measures": list(data.measures),
                "metadata": data.metadata}
        return data.to_frame(), meta

    def from_parts(self, frame, meta):
        return EvaluationResult(
            system=meta["system"], aggregate=meta["aggregate"], per_query=frame.set_index("query_id"),
            measures=tuple(meta["measures"]), metadata=meta["metadata"],
        )

    def preview_html(self, data: EvaluationResult) -> str:
        return metrics_html([data])

    def extract_metadata(self, data: EvaluationResult) -> dict[str, MetadataType]:
        return {"system": data.system, "queries": data.num_queries, **data.metrics()}


class SyntheticQueriesMaterializer(FrameMaterializer):
    ASSOCIATED_TYPES = (SyntheticQueries,)
    TITLE = "Synthetic queries"

    def to_parts(self, data: SyntheticQueries):
        return data.to_frame(), data.meta()

    def from_parts(self, frame, meta):
        return self.ASSOCIATED_TYPES[0].from_frame(frame, **meta)

    def preview_html(self, data: SyntheticQueries) -> str:
        frame = data.to_frame()[["doc_id", "query", "doc_text", "prompt_id"]]
        frame.insert(2, "mean_log_prob", [round(q.mean_log_prob, 3) for q in data])
        return frame_to_html(frame, f"Synthetic queries ({data.prompt_id}, {data.generator})")

    def extract_metadata(self, data: SyntheticQueries) -> dict[str, MetadataType]:
        return {"queries": len(data), "documents": len({q.doc_id for q in data}), **data.lineage(),
                **{k: float(v) for k, v in data.stats.items()}}


class FilteredQueriesMaterializer(SyntheticQueriesMaterializer):
    ASSOCIATED_TYPES = (FilteredQueries,)
    TITLE = "Filtered queries"


class QuarantinedQueriesMaterializer(SyntheticQueriesMaterializer):
    ASSOCIATED_TYPES = (QuarantinedQueries,)
    TITLE = "Quarantined queries"

    def preview_html(self, data: QuarantinedQueries) -> str:
        frame = data.to_frame()[["doc_id", "query", "doc_text"]]
        frame.insert(2, "reasons", [", ".join(q.extra.get("quarantine_reasons", [])) for q in data])
        return frame_to_html(frame, f"Quarantined queries ({len(data)})")

    def extract_metadata(self, data: QuarantinedQueries) -> dict[str, MetadataType]:
        counts: dict[str, int] = {}
        for q in data:
            for reason in q.extra.get("quarantine_reasons", []):
                counts[reason] = counts.get(reason, 0) + 1
        return {"queries": len(data), **{f"reason.{k}": v for k, v in counts.items()}}


class ValidationReportMaterializer(BaseMaterializer):
    """JSON (counts per check and filter, GX's result) plus the HTML report for the dashboard."""

    ASSOCIATED_TYPES = (ValidationReport,)
    ASSOCIATED_ARTIFACT_TYPE = ArtifactType.DATA_ANALYSIS

    def save(self, data: ValidationReport) -> None:
        with self.artifact_store.open(os.path.join(self.uri, "report.json"), "w") as handle:
            json.dump(data.to_dict(), handle, default=str)

    def load(self, data_type: type[Any]) -> ValidationReport:
        with self.artifact_store.open(os.path.join(self.uri, "report.json"), "r") as handle:
            return ValidationReport.from_dict(json.load(handle))

    def save_visualizations(self, data: ValidationReport) -> dict[str, VisualizationType]:
        path = os.path.join(self.uri, "report.html")
        with self.artifact_store.open(path, "w") as handle:
            handle.write(data.to_html())
        return {path: VisualizationType.HTML}

    def extract_metadata(self, data: ValidationReport) -> dict[str, MetadataType]:
        return {"failed": data.failed, **data.metrics()}


class TriplesMaterializer(FrameMaterializer):
    ASSOCIATED_TYPES = (Triples,)
    TITLE = "Training triples (query, positive, BM25 hard negative)"

    def to_parts(self, data: Triples):
        # the dev set's fingerprint in the metadata: the content hash (step caching) covers it
        dev = None if data.dev is None else frame_fingerprint(data.dev)
        return data.frame, {"corpus_fingerprint": data.corpus_fingerprint, "dev_fingerprint": dev}

    def from_parts(self, frame, meta):
        return Triples(frame, corpus_fingerprint=meta["corpus_fingerprint"])

    def save(self, data: Triples) -> None:
        super().save(data)
        if data.dev is not None:  # the dev set beside the triples (training.dev_fraction)
            with self.artifact_store.open(os.path.join(self.uri, DEV_FILE), "wb") as handle:
                data.dev.to_parquet(handle, index=False)

    def load(self, data_type: type[Any]) -> Triples:
        triples = super().load(data_type)
        path = os.path.join(self.uri, DEV_FILE)
        if self.artifact_store.exists(path):
            with self.artifact_store.open(path, "rb") as handle:
                triples.dev = pd.read_parquet(handle)
        return triples

    def extract_metadata(self, data: Triples) -> dict[str, MetadataType]:
        dev_queries = 0 if data.dev is None else int(data.dev["query_id"].nunique())
        return {"triples": len(data), "queries": int(data.frame["query_id"].nunique()) if len(data) else 0,
                "dev_queries": dev_queries, "corpus_fingerprint": data.corpus_fingerprint}


def copy_folder_to_store(local: Path, uri: str) -> None:
    from zenml.io import fileio

    for path in Path(local).rglob("*"):
        if path.is_file():
            destination = os.path.join(uri, str(path.relative_to(local)))
            fileio.makedirs(os.path.dirname(destination))
            fileio.copy(str(path), destination, overwrite=True)


def folder_from_store(uri: str) -> Path:
    """A saved model folder as a local path.

    A local artifact store's own folder is used as it is: a saved model is only ever read, and a copy per
    load (a 500 MB generator loaded by every step that takes it) is what filled the disk. A remote store's
    folder is downloaded once per process, into one folder removed when the process exits.
    """
    from zenml.io import fileio

    if "://" not in uri and os.path.isdir(uri):
        return Path(uri)
    local = _downloads_dir() / hashlib.sha256(uri.encode()).hexdigest()[:16]
    if (local / ".complete").exists():
        return local
    for directory, _, files in fileio.walk(uri):
        relative = os.path.relpath(str(directory), uri)
        (local / relative).mkdir(parents=True, exist_ok=True)
        for name in files:
            fileio.copy(os.path.join(str(directory), str(name)), str(local / relative / str(name)), overwrite=True)
    (local / ".complete").touch()
    return local


@functools.cache
def _downloads_dir() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="synthir-downloads-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def save_model_card(materializer: BaseMaterializer, name: str, title: str, fields: list[tuple[str, Any]]) -> dict[str, VisualizationType]:
    """A model's lineage and training figures as an HTML table for the dashboard."""
    path = os.path.join(materializer.uri, name)
    with materializer.artifact_store.open(path, "w") as handle:
        handle.write(frame_to_html(pd.DataFrame([{"field": k, "value": v} for k, v in fields]), title))
    return {path: VisualizationType.HTML}


class RerankerModelMaterializer(BaseMaterializer):
    """The model folder copied into the artifact store, with its lineage in ``reranker.json``."""

    ASSOCIATED_TYPES = (RerankerModel,)
    ASSOCIATED_ARTIFACT_TYPE = ArtifactType.MODEL

    def save(self, data: RerankerModel) -> None:
        copy_folder_to_store(data.model_dir, os.path.join(self.uri, "model"))
        meta = {"model_type": data.model_type, "base_model": data.base_model, "lineage": data.lineage,
                "training": data.training}
        with self.artifact_store.open(os.path.join(self.uri, "reranker.json"), "w") as handle:
            json.dump(meta, handle)

    def load(self, data_type: type[Any]) -> RerankerModel:
        with self.artifact_store.open(os.path.join(self.uri, "reranker.json"), "r") as handle:
            meta = json.load(handle)
        return RerankerModel(model_dir=folder_from_store(os.path.join(self.uri, "model")), **meta)

    def save_visualizations(self, data: RerankerModel) -> dict[str, VisualizationType]:
        return save_model_card(self, "reranker.html", f"Reranker ({data.model_type}) trained from {data.base_model}",
                              [("model_type", data.model_type), ("base_model", data.base_model), *sorted(data.lineage.items()),
                               *[(f"training.{k}", f"{v:.4g}") for k, v in sorted(data.training.items())]])

    def extract_metadata(self, data: RerankerModel) -> dict[str, MetadataType]:
        return {"model_type": data.model_type, "base_model": data.base_model, **data.lineage,
                **{f"training.{k}": v for k, v in data.training.items()}}


class GeneratorModelMaterializer(BaseMaterializer):
    """The tuned generator's folder (merged weights or adapter) plus ``generator.json``, and an HTML
    card of its lineage and training figures."""

    ASSOCIATED_TYPES = (GeneratorModel,)
    ASSOCIATED_ARTIFACT_TYPE = ArtifactType.MODEL

    def save(self, data: GeneratorModel) -> None:
        copy_folder_to_store(data.model_dir, os.path.join(self.uri, "model"))
        meta = {"base_model": data.base_model, "format": data.format, "prompt_id": data.prompt_id,
                "lineage": data.lineage, "training": data.training}
        with self.artifact_store.open(os.path.join(self.uri, "generator.json"), "w") as handle:
            json.dump(meta, handle)

    def load(self, data_type: type[Any]) -> GeneratorModel:
        with self.artifact_store.open(os.path.join(self.uri, "generator.json"), "r") as handle:
            meta = json.load(handle)
        return GeneratorModel(model_dir=folder_from_store(os.path.join(self.uri, "model")), **meta)

    def save_visualizations(self, data: GeneratorModel) -> dict[str, VisualizationType]:
        return save_model_card(self, "generator.html", f"Query generator ({data.format}) tuned from {data.base_model}",
                               [("base_model", data.base_model), ("format", data.format), ("prompt_id", data.prompt_id),
                                *sorted(data.lineage.items()),
                                *[(f"training.{k}", f"{v:.4g}") for k, v in sorted(data.training.items())]])

    def extract_metadata(self, data: GeneratorModel) -> dict[str, MetadataType]:
        return {"base_model": data.base_model, "format": data.format, "prompt_id": data.prompt_id, **data.lineage,
                **{f"training.{k}": v for k, v in data.training.items()}}


class PreferencePairsMaterializer(FrameMaterializer):
    ASSOCIATED_TYPES = (PreferencePairs,)
    TITLE = "CPO preference pairs (ALMA rule: highest QueryEval score chosen, lowest rejected)"

    def to_parts(self, data: PreferencePairs):
        return data.frame, data.meta()

    def from_parts(self, frame, meta):
        return PreferencePairs(frame, **meta)

    def preview_html(self, data: PreferencePairs) -> str:
        columns = ["doc_id", "reference", "teacher", "student", "reference_score", "teacher_score", "student_score",
                   "chosen_source", "rejected_source"]
        return frame_to_html(data.frame[columns], self.TITLE)

    def extract_metadata(self, data: PreferencePairs) -> dict[str, MetadataType]:
        return {"pairs": len(data), "teacher": data.teacher, "student": data.student, "prompt_id": data.prompt_id,
                **{k: float(v) for k, v in data.figures.items()}}


class CompiledQueryProgramMaterializer(BaseMaterializer):
    """DSPy's JSON state (``program.json``) plus ``meta.json``, and an HTML card of its demos."""

    ASSOCIATED_TYPES = (CompiledQueryProgram,)
    ASSOCIATED_ARTIFACT_TYPE = ArtifactType.MODEL

    def save(self, data: CompiledQueryProgram) -> None:
        from zenml.io import fileio

        with tempfile.TemporaryDirectory(prefix="synthir-dspy-") as tmp:
            data.save(tmp)
            for name in ("program.json", "meta.json"):
                fileio.copy(str(Path(tmp) / name), os.path.join(self.uri, name), overwrite=True)

    def load(self, data_type: type[Any]) -> CompiledQueryProgram:
        from zenml.io import fileio

        with tempfile.TemporaryDirectory(prefix="synthir-dspy-") as tmp:  # load() reads it all into memory
            for name in ("program.json", "meta.json"):
                fileio.copy(os.path.join(self.uri, name), os.path.join(tmp, name), overwrite=True)
            return CompiledQueryProgram.load(tmp)

    def save_visualizations(self, data: CompiledQueryProgram) -> dict[str, VisualizationType]:
        rows = [{"document": d.get("document", ""), "reasoning": d.get("reasoning", ""), "query": d.get("query", "")}
                for d in data.demos]
        frame = pd.DataFrame(rows, columns=["document", "reasoning", "query"])
        figures = "".join(f"<li>{html.escape(k)}: {v:.4g}</li>" for k, v in sorted(data.figures.items())
                          if isinstance(v, (int, float)))
        page = frame_to_html(frame, f"DSPy program {data.prompt_id}: {len(rows)} demo(s)").replace(
            "</body>", f"<h4>Figures</h4><ul>{figures}</ul></body>")
        path = os.path.join(self.uri, "program.html")
        with self.artifact_store.open(path, "w") as handle:
            handle.write(page)
        return {path: VisualizationType.HTML}

    def extract_metadata(self, data: CompiledQueryProgram) -> dict[str, MetadataType]:
        return {"prompt_id": data.prompt_id, "kind": data.kind, "demos": len(data.demos), "generator": data.generator,
                "optimiser": str(data.optimiser.get("optimiser", "")), "corpus_fingerprint": data.corpus_fingerprint,
                **{k: float(v) for k, v in data.figures.items() if isinstance(v, (int, float))}}


class RerankerComparisonMaterializer(PydanticMaterializer):
    """The gate's comparison as JSON (as any pydantic artifact), plus for the dashboard its table with
    paired significance against BM25 and the untrained model, and the per-query win/loss plot."""

    ASSOCIATED_TYPES = (RerankerComparison,)

    def save_visualizations(self, data: RerankerComparison) -> dict[str, VisualizationType]:
        visuals = super().save_visualizations(data)
        if not data.per_query:  # written before per-query figures were kept
            return visuals
        table = os.path.join(self.uri, "comparison.md")
        with self.artifact_store.open(table, "w") as handle:
            handle.write(comparison_markdown(data))
        with tempfile.TemporaryDirectory() as tmp:
            plot = comparison_win_loss(data, Path(tmp) / "win_loss.png")
            image = os.path.join(self.uri, "win_loss.png")
            with open(plot, "rb") as source, self.artifact_store.open(image, "wb") as target:
                target.write(source.read())
        return {**visuals, table: VisualizationType.MARKDOWN, image: VisualizationType.IMAGE}
