"""A real folder of long HTML manuals no one here wrote: Git's documentation from Debian's archive
(package git-doc, installed by the test set-up, never copied into the repository)."""

import shutil
import subprocess
from pathlib import Path

import pytest

from synthir.data import Queries

pytestmark = pytest.mark.integration
GIT_DOC = Path("/usr/share/doc/git-doc")


def install_git_doc() -> Path:
    """The HTML pages of Debian's git-doc, installed with apt when missing; skipped where it cannot be."""
    if not any(GIT_DOC.glob("*.html")):
        apt = shutil.which("apt-get")
        if apt is None:
            pytest.skip("no apt-get on this machine to install Debian's git-doc (the real HTML manuals)")
        for command in ([apt, "install", "-y", "--no-install-recommends", "git-doc"], [apt, "update"],
                        [apt, "install", "-y", "--no-install-recommends", "git-doc"]):
            subprocess.run(command, capture_output=True, timeout=600, env={"DEBIAN_FRONTEND": "noninteractive",
                                                                            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
            if any(GIT_DOC.glob("*.html")):
                break
        else:
            pytest.skip("Debian's git-doc could not be installed (apt-get install git-doc failed: no root or no archive)")
    return GIT_DOC


@pytest.fixture(scope="module")
def manuals(tmp_path_factory) -> Path:
    """Git's HTML manual pages, plus an exact copy of one under another name (a duplicate)."""
    folder = tmp_path_factory.mktemp("git-manuals")
    for page in sorted(install_git_doc().glob("*.html")):
        shutil.copy(page, folder / page.name)
    shutil.copy(folder / "git-commit.html", folder / "zz-copy-of-git-commit.html")
    return folder


def test_long_messy_manuals_become_clean_passages_ranked_as_documents(manuals):
    from synthir.flow import data
    from synthir.preparation.passages import load_tokenizer
    from synthir.retrieval import BM25Index

    loaded = data.load_collection(str(manuals))
    corpus, figures = loaded.corpus, loaded.metadata["documents"]
    pages = len(list(manuals.glob("*.html")))
    assert figures["documents_read"] == pages > 200
    # HTML went through main-content extraction, and what it left out is reported
    assert loaded.metadata["read_stats"]["html_pages"] == pages
    assert loaded.metadata["read_stats"]["main_content_chars_removed"] > 0
    # the copy is an alias of the original, not a second document
    assert corpus.aliases.get("zz-copy-of-git-commit.html") == "git-commit.html"
    assert not any(corpus.document_of(p) == "zz-copy-of-git-commit.html" for p in corpus.documents)
    # long pages are split; no passage exceeds the window; every page is still there
    assert figures["longest_document_tokens"] > 5000 and figures["split_documents"] > 100
    assert len(corpus) > 3 * (pages - 1)
    assert {corpus.document_of(p) for p in corpus.documents} == {p.name for p in manuals.glob("*.html")} - set(corpus.aliases)
    assert set(corpus.aliases) <= {"zz-copy-of-git-commit.html", "index.html"}  # Debian's index.html is git.html
    tokenizer = load_tokenizer("package:all-minilm-l6-v2")
    longest = max(len(tokenizer.encode(corpus[p].contents, add_special_tokens=False).ids)
                  for p in list(corpus.parents)[::25])
    assert longest <= 256
    # a question about the middle of a long page finds that page (its passage), as a document, beside its copy
    queries = Queries({"q": "rebase interactive squash fixup commits", "r": "amend the tip of the current branch commit"})
    run = corpus.document_run(BM25Index.build(corpus).search(queries, k=100, show_progress=False))
    top = [d for d, _ in run.ranked("q")[:5]]
    assert "git-rebase.html" in top, top
    ranked = [d for d, _ in run.ranked("r")]
    assert "git-commit.html" in ranked[:10] and "zz-copy-of-git-commit.html" in ranked[:11], ranked[:11]
    assert not any("#" in d for d in ranked)  # documents, not passages
