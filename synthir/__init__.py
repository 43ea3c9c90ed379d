"""synthir: synthetic training data for neural information retrieval (the domain library)."""

__version__ = "0.1.0"
