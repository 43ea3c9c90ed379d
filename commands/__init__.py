"""The command line (``synthir``): above the pipelines it runs, as the pipelines are above the steps and
the library (``pyproject.toml``'s import contracts)."""
