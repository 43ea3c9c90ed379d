"""Serve a registered model over HTTP with ``mlflow models serve``, from the command line or Python.

    synthir serve [--model models:/inpars-reranker@production] [--port 5001] [--host 127.0.0.1] [--workers 1]

    with ModelServer("models:/inpars-reranker@production") as server:
        server.invoke({"dataframe_split": {"columns": ["query", "document"], "data": [["q", "d"]]}})

The server runs in this environment (``--env-manager local``): MLflow starts ``uvicorn`` by name, so
this environment's executables go first on its ``PATH`` (plain ``mlflow models serve`` fails with
"Return code = 127" unless the virtualenv is activated). The command finds the MLflow store as the
other commands do (``--tracking-uri``, ``MLFLOW_TRACKING_URI``, the stack's tracker, the project's
store); ``ModelServer`` uses ``MLFLOW_TRACKING_URI`` on a free loopback port, waits for ``/ping`` and
fails with the server's own output when it exits or does not answer.
"""

from __future__ import annotations

import argparse
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


def serve_command(model_uri: str, host: str, port: int, workers: int) -> tuple[list[str], dict[str, str]]:
    """``mlflow models serve`` in this environment: the arguments, and the environment with this
    environment's executables first on ``PATH`` (mlflow starts uvicorn by name)."""
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    return [str(bin_dir / "mlflow"), "models", "serve", "-m", model_uri, "--env-manager", "local", "-h", host,
            "-p", str(port), "-w", str(workers)], env


class ModelServer:
    """One ``mlflow models serve`` process (one worker) for ``model_uri``."""

    def __init__(self, model_uri: str, timeout_s: float = 240, workers: int = 1):
        self.model_uri, self.timeout_s = model_uri, timeout_s
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command, env = serve_command(model_uri, "127.0.0.1", self.port, workers)
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="synthir serve", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="models:/inpars-reranker@production", help="an MLflow model URI")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", "-p", type=int, default=5001)
    parser.add_argument("--workers", "-w", type=int, default=1)
    parser.add_argument("--tracking-uri", help="default: MLFLOW_TRACKING_URI, the active stack's tracker, the project's store")
    args = parser.parse_args(argv)
    from synthir.tracking import find_tracking_uri

    try:
        uri = find_tracking_uri(args.tracking_uri)
    except RuntimeError as err:
        print(f"synthir serve: {err}", file=sys.stderr)
        return 1
    command, env = serve_command(args.model, args.host, args.port, args.workers)
    env["MLFLOW_TRACKING_URI"] = uri
    print(f"serving {args.model} from {uri} at http://{args.host}:{args.port}/invocations", file=sys.stderr, flush=True)
    os.execve(command[0], command, env)  # the server in this process: Ctrl-C and signals reach it directly
