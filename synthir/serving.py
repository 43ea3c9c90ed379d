"""``mlflow models serve`` as a context manager, for tests, benchmarks and smoke checks of a registered model.

    with ModelServer("models:/inpars-reranker@production") as server:
        server.invoke({"dataframe_split": {"columns": ["query", "document"], "data": [["q", "d"]]}})

The server runs in this environment (``--env-manager local``) on a free loopback port, against the
tracking store in ``MLFLOW_TRACKING_URI``; start-up waits for ``/ping`` and fails with the server's own
output when it exits or does not answer.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ModelServer:
    """One ``mlflow models serve`` process (one worker) for ``model_uri``."""

    def __init__(self, model_uri: str, timeout_s: float = 240, workers: int = 1):
        self.model_uri, self.timeout_s = model_uri, timeout_s
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        bin_dir = Path(sys.executable).parent  # mlflow starts uvicorn by name: this environment's first on PATH
        env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
        self.process = subprocess.Popen(
            [str(bin_dir / "mlflow"), "models", "serve", "-m", model_uri, "--env-manager", "local", "-h", "127.0.0.1",
             "-p", str(self.port), "-w", str(workers)], env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mlflow models serve -m {self.model_uri} exited {self.process.returncode}:\n"
                                   f"{self.process.stdout.read()}")
            try:
                with urllib.request.urlopen(f"{self.url}/ping", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        self.close()
        raise RuntimeError(f"mlflow models serve -m {self.model_uri} did not answer /ping within {self.timeout_s:.0f} s")

    def invoke(self, payload: dict) -> dict:
        """POST ``payload`` to ``/invocations``; the decoded JSON reply."""
        request = urllib.request.Request(f"{self.url}/invocations", data=json.dumps(payload).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as reply:
            return json.loads(reply.read())

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()

    def __enter__(self) -> ModelServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
