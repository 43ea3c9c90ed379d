"""The registered models used the way the ecosystem uses them: ``mlflow models serve`` over HTTP
(scores checked against in-process scoring), and the native flavors beside the scoring pyfunc."""

from __future__ import annotations

import shutil
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from synthir import registry
from synthir.models import resolve_model, write_generator_marker, write_reranker_marker
from synthir.serving import ModelServer

PAIRS = pd.DataFrame({"query": ["how do bees make honey", "how do bees make honey", "tidal power"],
                      "document": ["Bees turn nectar into honey in the hive.", "The stock market fell on Monday.",
                                   "Tidal turbines turn the flow of the tides into electricity."]})
CARD = {"generator": "package:smollm2-135m-instruct", "prompt_id": "inpars@v1", "corpus_fingerprint": "abc123",
        "evaluation_source": "synthetic", "eval_queries": "40", "ndcg_at_10": "0.850000", "p_value.bm25": "0.001",
        "gate": "PROMOTED | beats BM25"}


def packaged_copy(tmp_path: Path, ref: str) -> Path:
    target = tmp_path / "model"
    shutil.copytree(resolve_model(ref), target)
    return target


def register(folder: Path, client, name: str = registry.DEFAULT_NAME, log=registry.log_reranker, **kwargs) -> str:
    with mlflow.start_run():
        uri = log(folder, **kwargs)
    version = registry.register_version(uri, name, {}, client)
    registry.promote(name, version, client=client)
    return version


def test_the_production_reranker_is_served_over_http_with_the_in_process_scores(client, tmp_path):
    folder = packaged_copy(tmp_path, "package:all-minilm-l6-v2")
    write_reranker_marker(folder, "bi-encoder", 128)
    register(folder, client, card=CARD)
    expected = mlflow.pyfunc.load_model(f"models:/{registry.DEFAULT_NAME}@production").predict(PAIRS)
    with ModelServer(f"models:/{registry.DEFAULT_NAME}@production") as server:
        served = server.invoke({"dataframe_split": PAIRS.to_dict(orient="split")})["predictions"]
        one = server.invoke({"dataframe_records": PAIRS.head(1).to_dict(orient="records")})["predictions"]
        named = server.invoke({"dataframe_split": PAIRS.to_dict(orient="split"),
                               "params": {"return_passage": True}})["predictions"]
    np.testing.assert_allclose(served, expected, atol=1e-4)
    assert [row["passage"] for row in named] == list(PAIRS["document"])  # short documents: their one passage
    np.testing.assert_allclose([row["score"] for row in named], expected, atol=1e-4)
    np.testing.assert_allclose(one, expected[:1], atol=1e-4)
    assert served[0] > served[1]  # the honey document answers the honey query
    assert readme_serve_command_answers(PAIRS) == pytest.approx(list(expected), abs=1e-4)


def readme_serve_command_answers(pairs: pd.DataFrame) -> list[float]:
    """The README's serving command, as written (on another port), from a shell whose PATH lacks the
    virtualenv: plain ``mlflow models serve`` once failed there with "Return code = 127"."""
    import json
    import os
    import signal
    import subprocess
    import time
    import urllib.request

    from synthir.serving import free_port

    root = Path(__file__).resolve().parents[2]
    (line,) = [line for line in (root / "README.md").read_text().splitlines() if line.startswith(".venv/bin/synthir serve")]
    port = free_port()
    command = line.split("#")[0].strip().removesuffix("&").strip().replace("5001", str(port))
    env = {**os.environ, "PATH": "/usr/bin:/bin"}
    server = subprocess.Popen(["bash", "-c", f"exec {command}"], cwd=root, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while True:
            assert server.poll() is None, f"{command} exited {server.returncode}:\n{server.stdout.read()}"
            assert time.monotonic() < deadline, f"{command} did not answer /ping"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2):
                    break
            except OSError:
                time.sleep(0.5)
        request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", headers={"Content-Type": "application/json"},
                                         data=json.dumps({"dataframe_split": pairs.to_dict(orient="split")}).encode())
        with urllib.request.urlopen(request, timeout=120) as reply:
            return json.loads(reply.read())["predictions"]
    finally:
        if server.poll() is None:  # one that exited has no group left to stop: its own error is the one to read
            os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)


def test_a_bi_encoder_loads_back_as_a_native_sentence_transformer_with_its_model_card(client, tmp_path):
    from sentence_transformers import SentenceTransformer

    folder = packaged_copy(tmp_path, "package:all-minilm-l6-v2")
    write_reranker_marker(folder, "bi-encoder", 128)
    register(folder, client, card=CARD)
    native = mlflow.sentence_transformers.load_model(f"models:/{registry.DEFAULT_NAME}@production")
    assert isinstance(native, SentenceTransformer)
    embeddings = native.encode(list(PAIRS["query"]) + list(PAIRS["document"]), normalize_embeddings=True)
    assert embeddings.shape == (6, 384) and float(embeddings[0] @ embeddings[3]) > float(embeddings[0] @ embeddings[4])
    info = mlflow.models.get_model_info(f"models:/{registry.DEFAULT_NAME}@production")
    assert {"python_function", "sentence_transformers"} <= set(info.flavors)
    assert info.metadata["synthir"]["corpus_fingerprint"] == "abc123"
    local = Path(mlflow.artifacts.download_artifacts(f"models:/{registry.DEFAULT_NAME}@production"))
    card = (local / "model.sentence_transformer" / "README.md").read_text()
    assert "library_name: sentence-transformers" in card and "| evaluation_source | synthetic |" in card
    assert "| p_value.bm25 | 0.001 |" in card and "PROMOTED / beats BM25" in card
    assert not (local / "artifacts").exists()  # one copy of the weights, shared by both flavors


def test_a_cross_encoder_loads_back_as_a_native_transformers_pipeline(client, tmp_path):
    import torch
    from sentence_transformers.cross_encoder import CrossEncoder

    torch.manual_seed(0)
    folder = tmp_path / "cross-encoder"
    CrossEncoder(str(resolve_model("package:all-minilm-l6-v2")), num_labels=1, max_length=128).save_pretrained(str(folder))
    write_reranker_marker(folder, "cross-encoder", 128)
    register(folder, client, card=CARD)
    uri = f"models:/{registry.DEFAULT_NAME}@production"
    assert {"python_function", "transformers"} <= set(mlflow.models.get_model_info(uri).flavors)
    pipeline = mlflow.transformers.load_model(uri)
    assert pipeline.task == "text-classification"
    outputs = pipeline([{"text": q, "text_pair": d} for q, d in zip(PAIRS["query"], PAIRS["document"])],
                       function_to_apply="sigmoid")  # CrossEncoder.predict's activation for one label
    native = [(out[0] if isinstance(out, list) else out)["score"] for out in outputs]
    scores = mlflow.pyfunc.load_model(uri).predict(PAIRS)
    np.testing.assert_allclose(native, scores, atol=1e-3)  # the same weights under either flavor


def test_the_production_generator_is_served_over_http(client, tmp_path):
    folder = packaged_copy(tmp_path, "package:smollm2-135m-instruct")
    write_generator_marker(folder, "merged", {"base_model": "package:smollm2-135m-instruct", "prompt_id": "inpars@v1",
                                              "num_examples": 1, "max_doc_tokens": 64})
    register(folder, client, name=registry.GENERATOR_NAME, log=registry.log_generator)
    with ModelServer(f"models:/{registry.GENERATOR_NAME}@production") as server:
        reply = server.invoke({"dataframe_split": PAIRS[["document"]].head(2).to_dict(orient="split"),
                               "params": {"max_new_tokens": 12}})
    queries = reply["predictions"]
    assert len(queries) == 2 and all(isinstance(q, str) and q.strip() for q in queries)
