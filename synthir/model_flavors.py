"""How a registered reranker is laid out in MLflow: the scoring pyfunc beside the native flavor of its
model type, and a model card with its lineage.

One MLflow model, two flavors over one copy of the weights:
- ``python_function`` (``RerankerPyfunc``): ``predict`` takes a frame with ``query`` and ``document``
  columns and returns one relevance score per row: a long document is cut into passages as the
  version's training corpus was (its ``PassageConfig``, stored as the model's ``model_config``) and
  scores as its best one; with the parameter ``return_passage: true`` each row also gets that passage.
  It is what ``mlflow models serve`` serves and what ``mlflow.pyfunc.load_model`` returns; its
  signature says so, so the server checks requests.
- the native flavor: ``sentence_transformers`` for a bi-encoder (``mlflow.sentence_transformers.load_model``
  returns a ``SentenceTransformer``), ``transformers`` for a cross-encoder (task text-classification)
  and monoT5 (text2text-generation) (``mlflow.transformers.load_model`` returns a pipeline).

The weights sit where the native flavor expects them (``model.sentence_transformer/`` or ``model/``,
with the tokenizer under ``components/tokenizer``), and the pyfunc's artifact points at the same
folder. The model card (``README.md`` in that folder, Hugging Face style, and the MLmodel's
``metadata``) carries the generator, prompt, corpus fingerprint, evaluation source and figures.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import mlflow
import mlflow.pyfunc

SENTENCE_TRANSFORMERS_DIR = "model.sentence_transformer"  # mlflow.sentence_transformers' data path
TRANSFORMERS_DIR = "model"  # mlflow.transformers' model binary path
TRANSFORMERS_TASKS = {"cross-encoder": "text-classification", "monot5": "text2text-generation"}
CARD_FIELDS = ("generator", "prompt_id", "corpus_fingerprint", "training_corpus_fingerprint", "evaluation_source",
               "eval_queries", "judgments", "ndcg_at_10", "fusion_weight", "base_model", "initialised_from",
               "config_hash", "pipeline_config_hash")


class RerankerPyfunc(mlflow.pyfunc.PythonModel):
    """``predict`` takes a frame with ``query`` and ``document`` columns and returns relevance scores."""

    def load_context(self, context):
        from synthir.preparation.passages import PassageConfig, PassageSplitter
        from synthir.retrieval.reranker import Reranker

        self.reranker = Reranker(context.artifacts["model"])
        # the passages the reranker was trained and gated on: its corpus's PassageConfig; None: documents as
        # read; absent (a version registered before the config was stored): the defaults it was trained with
        config = (context.model_config or {}).get("passages", PassageConfig().model_dump())
        self.splitter = PassageSplitter(PassageConfig.model_validate(config)) if config else None

    def predict(self, context, model_input, params=None):
        """A long document scores as its best passage (MaxP), as in evaluation; with ``return_passage``,
        a frame of ``score`` and the ``passage`` that scored it."""
        rows, queries, passages = [], [], []
        for row, (query, document) in enumerate(zip(model_input["query"], model_input["document"])):
            for passage in self.splitter.split(document) if self.splitter is not None else [document]:
                rows.append(row)
                queries.append(query)
                passages.append(passage)
        best, best_passage = [float("-inf")] * len(model_input), [""] * len(model_input)
        for row, passage, score in zip(rows, passages, self.reranker.score(queries, passages)):
            if float(score) > best[row]:
                best[row], best_passage[row] = float(score), passage
        if (params or {}).get("return_passage"):
            import pandas as pd

            return pd.DataFrame({"score": best, "passage": best_passage})
        return best


def scoring_signature():
    """(query: string, document: string) -> score: double, for the server's request checks; the
    parameter ``return_passage`` (default false) adds the best passage to each score."""
    from mlflow.models.signature import ModelSignature
    from mlflow.types.schema import ColSpec, ParamSchema, ParamSpec, Schema

    return ModelSignature(inputs=Schema([ColSpec("string", "query"), ColSpec("string", "document")]),
                          outputs=Schema([ColSpec("double")]),
                          params=ParamSchema([ParamSpec("return_passage", "boolean", False)]))


def model_card(model_type: str, card: dict[str, Any]) -> str:
    """A Hugging Face style model card: front matter for the Hub, the lineage as a table."""
    keys = [*CARD_FIELDS, *sorted(k for k in card if k.startswith("p_value.")), "gate"]
    cells = {key: str(card[key]).replace("|", "/") for key in keys if card.get(key) not in (None, "")}  # a | would end the cell
    rows = "\n".join(f"| {key} | {value} |" for key, value in cells.items())
    pipeline_tag = "sentence-similarity" if model_type == "bi-encoder" else TRANSFORMERS_TASKS[model_type]
    return (f"---\nlibrary_name: {'sentence-transformers' if model_type == 'bi-encoder' else 'transformers'}\n"
            f"pipeline_tag: {pipeline_tag}\ntags: [synthir, reranker, synthetic-queries, {model_type}]\n---\n\n"
            f"# synthir {model_type} reranker\n\nTrained on synthetic queries written for the collection's own "
            "documents by synthir (InPars-style: generate, check, filter, train, gate).\n\n"
            f"| lineage | value |\n|---|---|\n{rows}\n")


class RerankerFlavor:
    """A ``flavor`` for ``mlflow.models.Model.log``: saves the pyfunc and the native flavor over one folder."""

    __name__ = "synthir.reranker"

    @staticmethod
    def save_model(path, mlflow_model, model_dir: str, reranker_type: str, card: dict[str, Any], pip_requirements,
                   model_config: dict[str, Any] | None = None):
        from mlflow.models import Model

        model_type = reranker_type
        path = Path(path)
        mlflow.pyfunc.save_model(str(path), python_model=RerankerPyfunc(), artifacts={"model": str(model_dir)},
                                 mlflow_model=mlflow_model, signature=scoring_signature(),
                                 pip_requirements=pip_requirements, metadata={"synthir": card},
                                 model_config=model_config)
        native = SENTENCE_TRANSFORMERS_DIR if model_type == "bi-encoder" else TRANSFORMERS_DIR
        pyfunc_conf = mlflow_model.flavors["python_function"]
        (path / pyfunc_conf["artifacts"]["model"]["path"]).rename(path / native)  # one copy of the weights
        pyfunc_conf["artifacts"]["model"]["path"] = native
        if (path / "artifacts").is_dir() and not any((path / "artifacts").iterdir()):
            (path / "artifacts").rmdir()
        (path / native / "README.md").write_text(model_card(model_type, card), encoding="utf-8")
        if model_type == "bi-encoder":
            import sentence_transformers

            mlflow_model.add_flavor("sentence_transformers", sentence_transformers_version=sentence_transformers.__version__)
        else:
            mlflow_model.add_flavor("transformers", **_transformers_flavor(path, model_type))
        mlflow_model.save(str(path / "MLmodel"))
        Model.load(str(path / "MLmodel"))  # written whole and readable


def _transformers_flavor(path: Path, model_type: str) -> dict[str, Any]:
    """mlflow.transformers' flavor conf for the model in ``path/model``, and its tokenizer component
    under ``path/components``: what ``mlflow.transformers.save_model`` writes, taken from a scratch save."""
    import transformers
    from mlflow.models import Model

    folder = path / TRANSFORMERS_DIR
    auto = transformers.AutoModelForSequenceClassification if model_type == "cross-encoder" else transformers.AutoModelForSeq2SeqLM
    with tempfile.TemporaryDirectory() as scratch:
        target = Path(scratch) / "native"
        mlflow.transformers.save_model(
            {"model": auto.from_pretrained(str(folder)), "tokenizer": transformers.AutoTokenizer.from_pretrained(str(folder))},
            str(target), task=TRANSFORMERS_TASKS[model_type],
            pip_requirements=[f"transformers=={transformers.__version__}"])  # no inference: only the conf is kept
        shutil.copytree(target / "components", path / "components")
        conf = dict(Model.load(str(target / "MLmodel")).flavors["transformers"])
    conf["model_binary"] = TRANSFORMERS_DIR
    return conf
