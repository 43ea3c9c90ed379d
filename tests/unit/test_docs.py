"""The README is an entry point and the docs hold together: links resolve, every benchmark has its page."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def test_every_relative_link_in_the_docs_resolves():
    broken = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#\s]+)", page.read_text()):
            if "://" not in target and not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert not broken, broken


def test_the_readme_is_an_entry_point_and_each_benchmark_has_a_page():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.encode()) <= 12 * 1024, "the README is an entry point: move details to docs/guide/"
    scripts = {p.stem for p in (ROOT / "benchmarks").glob("*.py")}
    pages = {p.stem for p in (ROOT / "docs" / "benchmarks").glob("*.md")} - {"README"}
    assert scripts == pages, f"scripts without a page: {scripts - pages}; pages without a script: {pages - scripts}"
    index = (ROOT / "docs" / "benchmarks" / "README.md").read_text()
    assert all(f"({name}.md)" in index for name in scripts)
    assert "make quickstart" in readme and "make test" in readme
