"""Query generation speed on CISI with SmolLM2 on CPU, against an InPars-toolkit-style baseline.

    python benchmarks/generation_speed.py [--docs 100] [--ablations]

Baseline (measured in the same run): the InPars toolkit's ``generate`` loop — fp32 weights, one
document per ``generate`` call, greedy, stop on the newline token, up to 64 new tokens, log-probs
from ``output_scores``. Ours: ``TransformersGenerator`` with its defaults (bf16 where supported,
batches sorted by length, the few-shot prefix's KV cache reused). Both use the same 3-shot ``inpars``
prompt and documents truncated to 256 tokens.

Quality check: the share of generated queries whose source document BM25 ranks in its top 10 over
the whole corpus (a label-free proxy also used by the DSPy issue), and how many queries are
identical between the two runs (bf16 vs fp32 greedy decoding can diverge after a near-tie).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

import torch

from synthir.data import Queries, load_collection
from synthir.generation import load_prompt
from synthir.generation.backends.base import DecodingParams
from synthir.generation.backends.local import TransformersGenerator
from synthir.retrieval import BM25Index

DEFAULT_COLLECTION = Path(__file__).resolve().parents[2] / "shared" / "data" / "cisi"


def baseline_generate(generator: TransformersGenerator, prompts: list[str], max_new_tokens: int) -> list[str]:
    """The InPars toolkit's loop: one prompt at a time, fp32, greedy, stop on the newline token."""
    model, tokenizer = generator.model, generator.tokenizer
    newline_ids = tokenizer("\n", add_special_tokens=False).input_ids
    queries = []
    with torch.inference_mode():
        for prompt in prompts:
            inputs = tokenizer(prompt, return_tensors="pt")
            output = model.generate(
                **inputs, max_new_tokens=max_new_tokens, do_sample=False, temperature=None, top_p=None, top_k=None,
                eos_token_id=newline_ids[-1], pad_token_id=tokenizer.pad_token_id,
                return_dict_in_generate=True, output_scores=True,
            )
            model.compute_transition_scores(output.sequences, output.scores, normalize_logits=True)
            text = tokenizer.decode(output.sequences[0, inputs.input_ids.shape[1]:], skip_special_tokens=True)
            queries.append(" ".join(text.split("\n")[0].split()))
    return queries


def source_in_top10(index: BM25Index, doc_ids: list[str], queries: list[str]) -> float:
    run = index.search(Queries({f"{i}": q or "empty" for i, q in enumerate(queries)}), k=10, show_progress=False)
    return sum(doc_ids[i] in run.scores.get(f"{i}", {}) for i in range(len(doc_ids))) / len(doc_ids)


def timed(generator: TransformersGenerator, prefix: str, targets: list[str], template) -> tuple[float, list[str]]:
    started = time.perf_counter()
    results = generator.generate(prefix, targets, DecodingParams(max_new_tokens=64, stop=template.stop))
    seconds = time.perf_counter() - started
    return seconds, [template.parse(r[0].text)[0] for r in results]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--collection", default=str(DEFAULT_COLLECTION))
    parser.add_argument("--docs", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--ablations", action="store_true", help="also time bf16 without prefix cache, fp32 with it")
    args = parser.parse_args()

    collection = load_collection(args.collection)
    documents = random.Random(0).sample(list(collection.corpus), args.docs)
    template = load_prompt("inpars")  # 3-shot, as in the InPars toolkit
    fp32 = TransformersGenerator(dtype="fp32", batch_size=1, reuse_prefix_cache=False)
    targets = [template.target(fp32.truncate(d.contents, 256)) for d in documents]
    prefix = template.prefix()
    prompt_tokens = sum(len(fp32.tokenizer(prefix + t).input_ids) for t in targets) / len(targets)
    baseline_generate(fp32, [prefix + targets[0]], 4)  # warm-up

    started = time.perf_counter()
    baseline_queries = baseline_generate(fp32, [prefix + t for t in targets], 64)
    baseline_seconds = time.perf_counter() - started

    ours = TransformersGenerator(batch_size=args.batch_size)  # defaults: bf16 where supported, prefix cache on
    ours.generate(prefix, targets[:2], DecodingParams(max_new_tokens=4))  # warm-up
    our_seconds, our_queries = timed(ours, prefix, targets, template)

    rows = [("baseline (InPars loop: fp32, batch 1)", baseline_seconds),
            (f"synthir ({str(ours.dtype).removeprefix('torch.')}, batch {args.batch_size}, prefix cache)", our_seconds)]
    if args.ablations:
        ours.reuse_prefix_cache = False
        rows.append(("synthir without prefix cache", timed(ours, prefix, targets, template)[0]))
        fp32.batch_size, fp32.reuse_prefix_cache = args.batch_size, True
        rows.append(("synthir fp32 with prefix cache", timed(fp32, prefix, targets, template)[0]))

    with tempfile.TemporaryDirectory() as cache:
        index = BM25Index.build(collection.corpus, cache_dir=cache)
        doc_ids = [d.doc_id for d in documents]
        baseline_hit = source_in_top10(index, doc_ids, baseline_queries)
        our_hit = source_in_top10(index, doc_ids, our_queries)

    print(f"{args.docs} CISI documents, 3-shot inpars prompt, mean prompt {prompt_tokens:.0f} tokens, "
          f"{torch.get_num_threads()} threads, bf16 CPU support: {ours.dtype == torch.bfloat16}")
    for name, seconds in rows:
        print(f"  {name:<55} {args.docs / seconds:6.2f} docs/s  ({seconds:6.1f} s)")
    print(f"  speed-up over the baseline: {baseline_seconds / our_seconds:.2f}x")
    same = sum(a == b for a, b in zip(baseline_queries, our_queries))
    print(f"quality: source document in BM25 top 10: baseline {baseline_hit:.2f}, synthir {our_hit:.2f}; "
          f"identical queries {same}/{args.docs}; mean words {sum(len(q.split()) for q in baseline_queries) / args.docs:.1f} "
          f"vs {sum(len(q.split()) for q in our_queries) / args.docs:.1f}; "
          f"empty {sum(not q for q in baseline_queries)} vs {sum(not q for q in our_queries)}")
    for doc, a, b in list(zip(documents, baseline_queries, our_queries))[:5]:
        print(f"  [{doc.doc_id}] baseline: {a!r}\n  {' ' * (len(doc.doc_id) + 2)} synthir:  {b!r}")


if __name__ == "__main__":
    main()
