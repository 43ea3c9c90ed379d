"""``synthir export`` and ``synthir import``: synthetic query sets and triples to and from the formats
other toolkits train from (``synthir.data.exchange``).

    synthir export filtered_queries --to out/queries [--format hf|qgen|inpars] [--version 3]
                   [--collection data/demo] [--push-to-hub org/name [--private]]
    synthir export triples --to out/triples [--format hf|tsv] [--push-to-hub org/name]
    synthir import PATH [--collection data/demo] [--name imported_queries] [--generator NAME]

``export`` reads a ZenML artifact by name (``synthetic_queries``, ``filtered_queries``, ``triples``, or
any that holds queries or triples; the newest version unless ``--version``). ``hf`` writes a Hugging
Face dataset with ``save_to_disk`` (triples with sentence-transformers' ``anchor``/``positive``/``negative``
columns); ``qgen`` writes the GPL/BEIR layout and needs ``--collection`` for its corpus; ``inpars``
writes the InPars toolkit's JSONL; ``--push-to-hub`` also uploads to the Hugging Face Hub (your token).
``import`` reads an InPars JSONL file, a qgen folder or a saved dataset, checks its document ids against
``--collection`` (texts taken from it), and saves it as a ZenML artifact, for example for
``training_pipeline`` (``artifact: imported_queries``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def load_artifact(name: str, version: str | None):
    from zenml.client import Client

    try:
        found = Client().get_artifact_version(name, version)
    except KeyError as err:
        raise SystemExit(f"synthir export: no artifact {name!r}{f' version {version}' if version else ''} in the "
                         f"ZenML store ({err}); list them with `zenml artifact list`") from None
    return found, found.load()


def export(args) -> int:
    from synthir.data.exchange import queries_to_dataset, write_qgen
    from synthir.data.synthetic import SyntheticQueries, write_inpars_jsonl
    from synthir.flow.data import load_collection  # documents prepared as the pipelines prepare them
    from synthir.training.triples import Triples

    found, data = load_artifact(args.artifact, args.version)
    out = Path(args.to)
    if isinstance(data, Triples):
        if args.format not in ("hf", "tsv"):
            raise SystemExit(f"synthir export: triples export as hf or tsv, not {args.format!r}")
        if args.format == "tsv":
            data.write_tsv(out)
            print(f"{found.name} v{found.version}: {len(data)} triples -> {out} (query, positive, negative TSV)")
            return 0
        dataset = data.to_dataset()
    elif isinstance(data, SyntheticQueries):
        if args.format == "inpars":
            write_inpars_jsonl(data, out)
            print(f"{found.name} v{found.version}: {len(data)} queries -> {out} (InPars JSONL)")
            return 0
        if args.format == "qgen":
            if not args.collection:
                raise SystemExit("synthir export: --format qgen writes the corpus too: give it with --collection")
            write_qgen(data, load_collection(args.collection).corpus, out)
            print(f"{found.name} v{found.version}: {len(data)} queries -> {out} (GPL/BEIR qgen layout)")
            return 0
        if args.format == "tsv":
            raise SystemExit("synthir export: queries export as hf, qgen or inpars; tsv is for triples")
        dataset = queries_to_dataset(data)
    else:
        raise SystemExit(f"synthir export: artifact {found.name!r} holds {type(data).__name__}, not queries or triples")
    dataset.save_to_disk(str(out))
    print(f"{found.name} v{found.version}: {len(dataset)} rows -> {out} (Hugging Face dataset, columns "
          f"{', '.join(dataset.column_names)})")
    if args.push_to_hub:
        dataset.push_to_hub(args.push_to_hub, private=args.private)
        print(f"pushed to the Hugging Face Hub: {args.push_to_hub}")
    return 0


def import_queries(args) -> int:
    from zenml import save_artifact

    from materializers.records import SyntheticQueriesMaterializer  # ZenML 0.98's save_artifact needs the class
    from synthir.data.errors import DataFormatError
    from synthir.data.exchange import attach_to_corpus, read_published_queries
    from synthir.flow.data import load_collection  # documents prepared as the pipelines prepare them

    queries = read_published_queries(args.path, generator=args.generator)
    if args.collection:
        try:
            attach_to_corpus(queries, load_collection(args.collection).corpus, args.path)
        except DataFormatError as err:  # ids of another collection: a usage error, as the command's others
            raise SystemExit(f"synthir import: {err}") from None
    missing_text = sum(1 for q in queries if not q.doc_text)
    if missing_text:
        raise SystemExit(f"synthir import: {args.path}: {missing_text} queries have no document text; give the "
                         "collection they were written for with --collection")
    version = save_artifact(queries, name=args.name, materializer=SyntheticQueriesMaterializer,
                            user_metadata={"imported_from": str(args.path), "queries": len(queries)})
    print(f"{args.path}: {len(queries)} queries for {len({q.doc_id for q in queries})} documents -> ZenML artifact "
          f"{args.name} v{version.version}. Train on it: training_pipeline with artifact: {args.name}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="synthir", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    out = commands.add_parser("export", help="a query set or triples artifact to a dataset, qgen folder or file")
    out.add_argument("artifact", help="a ZenML artifact name: synthetic_queries, filtered_queries, triples, ...")
    out.add_argument("--to", required=True, help="the folder (hf, qgen) or file (inpars, tsv) to write")
    out.add_argument("--format", choices=["hf", "qgen", "inpars", "tsv"], default="hf")
    out.add_argument("--version", help="the artifact version (default: the newest)")
    out.add_argument("--collection", help="the collection the queries were written for (qgen writes its corpus)")
    out.add_argument("--push-to-hub", metavar="REPO", help="also push the dataset to the Hugging Face Hub")
    out.add_argument("--private", action="store_true", help="with --push-to-hub: a private dataset")
    into = commands.add_parser("import", help="published synthetic queries into a ZenML artifact")
    into.add_argument("path", help="an InPars JSONL file, a GPL/BEIR qgen folder, or a saved Hugging Face dataset")
    into.add_argument("--collection", help="the collection they were written for: ids checked, texts taken from it")
    into.add_argument("--name", default="imported_queries", help="the artifact's name")
    into.add_argument("--generator", default="imported", help="what to record as their generator")
    args = parser.parse_args(argv)
    from synthir.data.errors import DataFormatError

    try:
        return export(args) if args.command == "export" else import_queries(args)
    except (DataFormatError, FileNotFoundError) as err:
        print(f"synthir {args.command}: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
