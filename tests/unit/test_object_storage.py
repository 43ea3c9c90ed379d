"""Collections in S3, against a real S3-compatible server (moto's) started on loopback in the test:
read through fsspec/s3fs with credentials from the environment, and a changed upload retrains while an
unchanged one does not."""

import json

import pytest

moto_server = pytest.importorskip("moto.server", reason="moto[server] (a dev dependency) is not installed")
pytest.importorskip("s3fs", reason="s3fs (a dev dependency) is not installed")

DOCS = [{"_id": "d1", "title": "Bees", "text": "Honey bees make honey."},
        {"_id": "d2", "title": "", "text": "Solar panels convert light."}]


@pytest.fixture
def s3(monkeypatch):
    import boto3
    import fsspec.config
    import s3fs

    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": endpoint}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setitem(fsspec.config.conf, "s3", {"endpoint_url": endpoint})  # as FSSPEC_S3_ENDPOINT_URL would
    client = boto3.client("s3", endpoint_url=endpoint)
    client.create_bucket(Bucket="corpora")
    s3fs.S3FileSystem.clear_instance_cache()
    yield client
    s3fs.S3FileSystem.clear_instance_cache()
    server.stop()


def upload(client, docs):
    client.put_object(Bucket="corpora", Key="current/corpus.jsonl", Body="".join(json.dumps(d) + "\n" for d in docs).encode())


def test_a_collection_in_s3_loads_and_an_upload_decides_retraining(s3, client, tmp_path):
    from test_retraining import production_with

    from synthir.data import load_collection
    from synthir.retraining import decide_retraining

    upload(s3, DOCS)
    first = load_collection("s3://corpora/current").corpus
    assert sorted(first.documents) == ["d1", "d2"] and first.source == "s3://corpora/current/corpus.jsonl"
    production_with(client, tmp_path, {"corpus_fingerprint": first.fingerprint()}, manifest=first.manifest())
    upload(s3, DOCS)  # the same content again
    unchanged = load_collection("s3://corpora/current").corpus
    assert not decide_retraining(unchanged.fingerprint(), client=client, manifest=unchanged.manifest()).retrain
    upload(s3, DOCS + [{"_id": "d3", "text": "Wind turbines turn wind into power."}])
    changed = load_collection("s3://corpora/current").corpus
    decision = decide_retraining(changed.fingerprint(), client=client, manifest=changed.manifest())
    assert decision.retrain and decision.new_documents == 1
    with pytest.raises(ValueError, match=r"s3://corpora/missing: no such file or folder"):
        load_collection("s3://corpora/missing")
