"""InPars on a real folder of long HTML manuals no one here wrote: Git's documentation from Debian's
archive (package git-doc; installed with apt when missing, never copied into the repository).

    python benchmarks/real_documents.py [--folder /usr/share/doc/git-doc] [--whole-documents-baseline] [--work DIR]
        [--recipe configs/inpars/own_documents.yaml] [--set max_generations=400 ...]

1. The top-level HTML pages (and one exact copy under another name) go through the product's flow,
   ``synthir.flow.inpars.run_inpars``, with the own-documents preset (``configs/inpars/own_documents.yaml``,
   its ``parameters.inpars``) and the measurement's sizes over it (``SIZES``; each ``--set`` after them wins):
   main content (trafilatura), repeated lines, duplicates, passages, generation, checks, filters,
   triples, training, the label-free evaluation on held-out documents, and the gate.
2. Printed: what the data stage did (documents, passages, duplicates, boilerplate removed), the wall
   time of every stage, and the gate's table.
3. ``--whole-documents-baseline``: the same held-out evaluation with documents as read
   (``documents: off``, every model cut to its first 256 tokens, BM25 over whole pages), BM25
   against the untrained model: the artifact passages remove (the issue measured 0.20 against 0.43).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from commands.main import add_recipe_arguments, inpars_recipe

ROOT = Path(__file__).resolve().parents[1]
GIT_DOC = Path("/usr/share/doc/git-doc")
PRESET = ROOT / "configs" / "inpars" / "own_documents.yaml"
# the measured sizes over the preset: 200 documents get a query, 60 are held out for the gate
SIZES = ["max_generations=200", "evaluation.synthetic.held_out_documents=60"]


def debian_manuals(folder: Path = GIT_DOC, package: str = "git-doc") -> Path:
    """``folder`` with its HTML pages, installing Debian's ``package`` when they are missing."""
    if not any(folder.glob("*.html")):
        apt = shutil.which("apt-get")
        if apt is None:
            raise SystemExit(f"{folder} has no HTML pages and there is no apt-get to install {package}")
        subprocess.run([apt, "install", "-y", "--no-install-recommends", package], check=True,
                       env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    return folder


def copy_pages(source: Path, target: Path) -> Path:
    """The top-level HTML pages of ``source`` in ``target``, plus an exact copy of the first under another name."""
    target.mkdir(parents=True, exist_ok=True)
    pages = sorted(source.glob("*.html"))
    for page in pages:
        shutil.copy(page, target / page.name)
    shutil.copy(pages[0], target / f"zz-copy-of-{pages[0].name}")
    return target


def whole_documents_baseline(folder: Path, inpars) -> str:
    """BM25 against the untrained model on the held-out synthetic queries, documents as read."""
    from synthir.evaluation.report import comparison_markdown
    from synthir.flow import data
    from synthir.flow.inpars import evaluation_split
    from synthir.lifecycle.gate import compare_rerankers
    from synthir.models import resolve_model
    from synthir.preparation import DocumentsConfig
    from synthir.retrieval.reranker import Reranker

    loaded = data.load_collection(str(folder), documents=DocumentsConfig.off())
    split = evaluation_split(loaded.corpus, loaded.queries, loaded.qrels, "synthetic", inpars.evaluation, str(folder),
                             DocumentsConfig.off())
    untrained = Reranker(resolve_model(inpars.training.base_model), model_type="bi-encoder")
    comparison, _, _ = compare_rerankers(split.corpus, split.queries, split.qrels, untrained, depth=inpars.rerank_depth,
                                         fusion_weight=None, source="synthetic")
    return comparison_markdown(comparison)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folder", default=str(GIT_DOC), help="a folder of HTML manual pages (default: Debian's git-doc)")
    parser.add_argument("--whole-documents-baseline", action="store_true")
    parser.add_argument("--work", help="folder for the pages, the MLflow store and the models (default: a temp folder)")
    add_recipe_arguments(parser, PRESET)
    args = parser.parse_args(argv)
    config = inpars_recipe(args.recipe, [*SIZES, *args.assignments])
    import mlflow

    from synthir.evaluation.report import comparison_markdown
    from synthir.flow.inpars import run_inpars
    from synthir.tracking import run_of_its_own

    source = debian_manuals(Path(args.folder)) if Path(args.folder) == GIT_DOC else Path(args.folder)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.work or tmp)
        folder = copy_pages(source, work / "pages")
        mlflow.set_tracking_uri(f"sqlite:///{work / 'mlflow.db'}")
        started = time.perf_counter()
        with run_of_its_own("real_documents", experiment="synthir-benchmarks"):
            result = run_inpars(str(folder), config)
        total = time.perf_counter() - started
        figures, read = result.data["documents"], result.data["read_stats"]
        print(f"\n## {source}: {figures['documents_read']} HTML pages\n")
        print("| data | value |\n|---|---|")
        for key in ("documents_read", "html_pages", "main_content_chars_removed", "boilerplate_lines",
                    "boilerplate_chars_removed", "exact_duplicates", "near_duplicates", "documents", "split_documents",
                    "longest_document_tokens", "passages"):
            print(f"| {key} | {figures.get(key, read.get(key))} |")
        print(f"| boilerplate examples | {'; '.join(figures['boilerplate_examples'])} |")
        print(f"| duplicate examples | {'; '.join(figures['duplicate_examples'])} |")
        print("\n| stage | seconds |\n|---|---|")
        for stage, seconds in result.seconds.items():
            print(f"| {stage} | {seconds:.1f} |")
        print(f"| total | {total:.1f} |")
        print(f"\nThe gate (passages, MaxP):\n\n{comparison_markdown(result.comparison)}\n")
        print(f"Decision: {'PROMOTED' if result.decision.promoted else 'REFUSED'}: {result.decision.reason}")
        if args.whole_documents_baseline:
            print(f"\nThe same held-out evaluation, documents as read (no passages):\n\n"
                  f"{whole_documents_baseline(folder, config)}")


if __name__ == "__main__":
    main()
