"""``python -m synthir.trec_eval ...``: pyserini's trec_eval with the JVM bootstrap applied.

Same arguments as ``python -m pyserini.eval.trec_eval`` (e.g. ``-m ndcg_cut.10 qrels.txt run.txt``);
use it where the system Java is older than 21.
"""

import runpy
import sys

from synthir.retrieval.pyserini_env import bootstrap

if __name__ == "__main__":
    bootstrap()
    sys.argv[0] = "pyserini.eval.trec_eval"
    runpy.run_module("pyserini.eval.trec_eval", run_name="__main__", alter_sys=True)
