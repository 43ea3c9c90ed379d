"""The promotion gate's sources of truth: the ``evaluation:`` block (judged, golden or synthetic)
and the held-out pseudo-judgments written for a corpus without labels."""
