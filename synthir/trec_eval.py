"""``python -m synthir.trec_eval ...``: pyserini's trec_eval with the JVM bootstrap applied.

Same arguments as ``python -m pyserini.eval.trec_eval`` (e.g. ``-m ndcg_cut.10 qrels.txt run.txt``);
use it where the system Java is older than 21. ``synthir eval ...`` is the same command. The qrels and
run files (the last two arguments) are read with the project's readers first, so a malformed line ends
the command with one line naming the file and line, not with a traceback from pyserini's parser.
"""

import runpy
import sys
from pathlib import Path

from synthir.data.errors import DataFormatError
from synthir.retrieval.pyserini_env import bootstrap


def check_inputs(args: list[str]) -> None:
    """Read the qrels and run files (the last two arguments, where they are files: pyserini also takes
    the names of its prebuilt qrels); a :class:`DataFormatError` names the first bad line."""
    from synthir.data.readers import read_qrels, read_run

    if len(args) >= 2 and not args[-2].startswith("-"):
        qrels, run = Path(args[-2]), Path(args[-1])
        if qrels.is_file():
            read_qrels(qrels)
        if run.is_file():
            read_run(run)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        check_inputs(args)
    except DataFormatError as err:
        print(f"synthir eval: {err}", file=sys.stderr)
        return 2
    bootstrap()
    sys.argv = ["pyserini.eval.trec_eval", *args]
    runpy.run_module("pyserini.eval.trec_eval", run_name="__main__", alter_sys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
