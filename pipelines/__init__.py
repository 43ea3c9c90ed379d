"""ZenML pipelines; run them with ``zenml pipeline run pipelines.<module>.<name> -c configs/<file>.yaml``."""
