"""ZenML-only code, fenced: what exists because the flow runs as ZenML pipelines (marking runs a dead
process abandoned, mirroring registered versions into ZenML's model view). Pipelines, steps and the
command line import it; the library does not (an import-linter contract in pyproject.toml), so
``synthir`` stays usable without the orchestrator around it."""
