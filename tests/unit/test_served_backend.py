"""The OpenAI-compatible backend against a small stub server on loopback."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from synthir.generation.backends import make_backend
from synthir.generation.backends.base import DecodingParams
from synthir.generation.backends.served import ServedModelError


class Stub:
    def __init__(self):
        self.requests: list[dict] = []
        self.authorization: list[str | None] = []  # each request's Authorization header
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        self.fail_first: dict[str, int] = {}  # prompt substring -> how many 503s before success
        self.slow_first: set[str] = set()  # prompt substrings whose first request sleeps past the timeout
        self.status_for: dict[str, int] = {}  # prompt substring -> permanent status
        self.garbled_first: dict[str, int] = {}  # prompt substring -> how many malformed bodies before success
        self.truncated_first: dict[str, int] = {}  # prompt substring -> how many half bodies (connection cut)
        self.not_completions: set[str] = set()  # prompt substrings answered with valid JSON that is not a completion


@pytest.fixture
def stub():
    state = Stub()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with state.lock:
                state.requests.append(body)
                state.authorization.append(self.headers.get("Authorization"))
                state.in_flight += 1
                state.max_in_flight = max(state.max_in_flight, state.in_flight)
            self.counted = True
            try:
                prompt = body["prompt"]
                for key, status in state.status_for.items():
                    if key in prompt:
                        return self._send(status, {"error": {"message": "bad request: prompt too long"}})
                for key in list(state.fail_first):
                    if key in prompt and state.fail_first[key] > 0:
                        state.fail_first[key] -= 1
                        return self._send(503, {"error": "overloaded"})
                for key in list(state.garbled_first):
                    if key in prompt and state.garbled_first[key] > 0:
                        state.garbled_first[key] -= 1
                        return self._send_raw(200, b'{"choices": [{"index": 0, "text": "half')
                for key in list(state.truncated_first):
                    if key in prompt and state.truncated_first[key] > 0:
                        state.truncated_first[key] -= 1
                        return self._send_raw(200, b'{"choices": [', length=500)
                for key in state.not_completions:
                    if key in prompt:
                        return self._send(200, {"object": "list", "data": []})
                for key in list(state.slow_first):
                    if key in prompt:
                        state.slow_first.discard(key)
                        time.sleep(1.5)
                time.sleep(0.05)
                document = prompt.rsplit("Document: ", 1)[-1].split("\n")[0]
                choices = [{"index": i, "text": f" query about {document} {i}\nExample 9:",
                            "logprobs": {"token_logprobs": [-0.1, -0.2, None]}} for i in range(body["n"])]
                self._send(200, {"choices": choices})
            finally:
                self._leave()

        def _leave(self):
            # Left before the answer is written: once the client has read it, it may send the next
            # request before this thread returns, and counting both would see one request too many.
            if self.counted:
                self.counted = False
                with state.lock:
                    state.in_flight -= 1

        def _send(self, status, payload):
            self._send_raw(status, json.dumps(payload).encode())

        def _send_raw(self, status, data, length=None):
            self._leave()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(length or len(data)))  # a longer length: the body is cut short
            self.end_headers()
            self.wfile.write(data)
            if length:
                self.close_connection = True

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    yield state
    server.shutdown()
    server.server_close()


def backend_for(stub, **kwargs):
    spec = {"backend": "served", "base_url": stub.url, "model": "stub-model", "concurrency": 4,
            "timeout_s": 1.0, "max_retries": 3, "backoff_s": 0.01} | kwargs
    return make_backend(spec)


def test_completions_in_order_with_concurrency(stub):
    backend = backend_for(stub, timeout_s=30.0)  # a timed-out request retried would be counted twice
    targets = [f"Document: doc{i}\nRelevant Query:" for i in range(12)]
    done = []
    results = backend.generate("PREFIX ", targets, DecodingParams(num_return_sequences=2, stop=["\n"]), on_batch=done.append)
    assert [r[0].text for r in results] == [f" query about doc{i} 0" for i in range(12)]
    assert results[3][1].text == " query about doc3 1"
    assert results[0][0].token_logprobs == [-0.1, -0.2]
    assert sum(done) == 12
    assert 1 < stub.max_in_flight <= 4
    request = stub.requests[0]
    assert request["prompt"].startswith("PREFIX Document: doc") and request["stop"] == ["\n"]
    assert request["temperature"] == 0.0 and request["logprobs"] == 1 and request["model"] == "stub-model"


def test_retries_on_overload_and_timeouts(stub):
    stub.fail_first = {"doc1": 2}
    stub.slow_first = {"doc2"}
    backend = backend_for(stub)
    results = backend.generate("", ["Document: doc1\nQ:", "Document: doc2\nQ:"], DecodingParams())
    assert [r[0].text for r in results] == [" query about doc1 0", " query about doc2 0"]
    assert backend.retries == 3  # two 503s and one timeout


def test_gives_up_with_a_clear_error(stub):
    stub.fail_first = {"doc1": 10}
    with pytest.raises(ServedModelError, match=r"/completions failed after 2 attempt\(s\): HTTP 503"):
        backend_for(stub, max_retries=1).generate("", ["Document: doc1\nQ:"], DecodingParams())
    stub.status_for = {"doc4": 400}
    with pytest.raises(ServedModelError, match="answered 400: .*prompt too long"):
        backend_for(stub).generate("", ["Document: doc4\nQ:"], DecodingParams())


def test_backend_spec_validation():
    from synthir.config import ConfigError

    with pytest.raises(ConfigError, match=r"^generator\.base_url: Field required$"):
        make_backend({"backend": "served", "model": "m"})
    with pytest.raises(ConfigError, match=r"^generator\.temprature: Extra inputs are not permitted \(got 1\)$"):
        make_backend({"backend": "served", "base_url": "http://x", "model": "m", "temprature": 1})
    with pytest.raises(ConfigError, match=r"^generator: Input tag 'vllm' found using 'backend' does not match any of the "
                                          r"expected tags: 'local', 'served', 'litellm'"):
        make_backend({"backend": "vllm"})


def test_malformed_and_half_responses_are_retried_then_fail_clearly(stub):
    """Faults in the middle of a run: a 200 with invalid JSON and a body cut short are retried; a
    200 that is not a completion, and garbage that persists, end with an error naming the endpoint."""
    stub.garbled_first["alpha"] = 2
    stub.truncated_first["beta"] = 1
    backend = backend_for(stub)
    params = DecodingParams(max_new_tokens=8, stop=["\n"])
    outputs = backend.generate("Example:\n", ["Document: alpha\nQuery:", "Document: beta\nQuery:"], params)
    assert [o[0].text for o in outputs] == [" query about alpha 0", " query about beta 0"]
    assert backend.retries == 3
    stub.garbled_first["gamma"] = 10
    with pytest.raises(ServedModelError, match=r"/completions failed after 4 attempt\(s\): malformed JSON"):
        backend_for(stub).generate("Example:\n", ["Document: gamma\nQuery:"], params)
    stub.not_completions.add("delta")
    with pytest.raises(ServedModelError, match=r"answered 200 without a `choices` list"):
        backend_for(stub).generate("Example:\n", ["Document: delta\nQuery:"], params)


def test_a_literal_api_key_is_refused_and_a_zenml_secret_reference_is_resolved_when_the_backend_is_built(stub, monkeypatch):
    """A key written in a config was stored in clear in the ZenML store (snapshot, step configuration)."""
    from zenml.client import Client

    from synthir.config import ConfigError
    from synthir.inpars_config import InParsConfig

    with pytest.raises(ConfigError, match=r"inpars\.generator\.api_key: .*a literal API key would be stored in clear.*"
                                          r"SYNTHIR_SERVED_API_KEY or OPENAI_API_KEY.*'\{\{my_endpoint\.api_key\}\}'"):
        InParsConfig.from_dict({"generator": {"backend": "served", "base_url": stub.url, "model": "m", "api_key": "sk-123"}})
    for variable in ("SYNTHIR_SERVED_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(variable, raising=False)
    reference = "{{synthir_test_endpoint.api_key}}"
    config = InParsConfig.from_dict({"generator": {"backend": "served", "base_url": stub.url, "model": "m", "api_key": reference}})
    assert config.generator.api_key == reference and "sk-" not in config.model_dump_json()
    with pytest.raises(ConfigError, match=r"names the ZenML secret 'synthir_test_endpoint', which does not exist"):
        backend_for(stub, api_key=reference)
    Client().create_secret("synthir_test_endpoint", values={"api_key": "sk-from-the-secret"})
    try:
        backend_for(stub, api_key=reference).generate("P ", ["Document: d\nQuery:"], DecodingParams())
        assert stub.authorization[-1] == "Bearer sk-from-the-secret"
        with pytest.raises(ConfigError, match=r"the ZenML secret 'synthir_test_endpoint' has no key 'token'"):
            backend_for(stub, api_key="{{synthir_test_endpoint.token}}")
    finally:
        Client().delete_secret("synthir_test_endpoint")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")
    backend_for(stub).generate("P ", ["Document: d\nQuery:"], DecodingParams())
    assert stub.authorization[-1] == "Bearer sk-from-the-environment"
