"""``python -m synthir.trec_eval ...``: pyserini's trec_eval with the JVM bootstrap applied.

Same arguments as ``python -m pyserini.eval.trec_eval`` (e.g. ``-m ndcg_cut.10 qrels.txt run.txt``);
use it where the system Java is older than 21. ``synthir eval ...`` is the same command.
"""

import runpy
import sys

from synthir.retrieval.pyserini_env import bootstrap


def main(argv: list[str] | None = None) -> int:
    bootstrap()
    sys.argv = ["pyserini.eval.trec_eval", *(sys.argv[1:] if argv is None else argv)]
    runpy.run_module("pyserini.eval.trec_eval", run_name="__main__", alter_sys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
