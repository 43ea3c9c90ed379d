"""Print the project's dependencies from pyproject.toml as requirements.txt lines.

ZenML runs this as ``DockerSettings.pyproject_export_command`` when it builds a remote image, so the
image gets the same pinned dependencies as ``make setup`` (uv or poetry are not needed)::

    python infra/pyproject_requirements.py pyproject.toml [--extra gpu]

Standard library only: it runs on the client before anything is installed in the image.
"""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path


def requirements(pyproject: Path, extras: list[str]) -> list[str]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    optional = project.get("optional-dependencies", {})
    unknown = [e for e in extras if e not in optional]
    if unknown:
        raise SystemExit(f"{pyproject}: no optional dependency group(s) {unknown}; known: {sorted(optional)}")
    return list(project["dependencies"]) + [dep for extra in extras for dep in optional[extra]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pyproject", type=Path)
    parser.add_argument("--extra", action="append", default=[], help="an optional dependency group to add (repeatable)")
    args = parser.parse_args()
    print("\n".join(requirements(args.pyproject, args.extra)))


if __name__ == "__main__":
    main()
