"""LangChain's ``CondenserCompressor`` against ``compress()`` on the same documents joined (issue 32.2).

Each held-out HotpotQA item's paragraphs become one LangChain ``Document`` each; the compressor's default
(``mode="joint"``) and, for reference, ``mode="per_document"`` compress them at ``--rate``, and
``compress()`` compresses the same paragraphs joined into one text, to the same total budget. The score is
answer recall: the gold answer survives in the returned text (``evals.qa_sets.answer_in``), with its 95 %
Wilson interval and a paired exact test against ``compress()``::

    python -m evals.langchain_recall                 # HotpotQA dev, rate 0.2
    python -m evals.langchain_recall --split all --rate 0.1
"""

from __future__ import annotations

import argparse
import re
import time

from evals.metrics.intervals import paired, wilson
from evals.qa_sets import QAItem, answer_in, is_dev_item, load

#: the loader's "Passage i:" labels start each paragraph
PARAGRAPH = re.compile(r"\n\n(?=Passage \d+:\n)")


def paragraphs(item: QAItem) -> list[str]:
    """The item's paragraphs, each ``Passage i:\\ntitle\\ntext``, as the loader joined them."""
    return PARAGRAPH.split(item.context)


def outcomes(items: list[QAItem], rate: float, method: str) -> dict[str, list[bool]]:
    """Per item, whether the answer survived: LangChain joint (default), per document, and compress()."""
    from langchain_core.documents import Document

    from compressor import compress
    from condenser.langchain import CondenserCompressor

    default = CondenserCompressor(rate=rate, method=method)
    per_doc = CondenserCompressor(rate=rate, method=method, mode="per_document")
    out: dict[str, list[bool]] = {"langchain default (joint)": [], "langchain per_document": [],
                                  "compress(joined)": []}
    for item in items:
        docs = [Document(page_content=p, id=str(i)) for i, p in enumerate(paragraphs(item))]
        for name, compressor in (("langchain default (joint)", default), ("langchain per_document", per_doc)):
            kept = compressor.compress_documents(docs, item.question)
            out[name].append(answer_in("\n\n".join(d.page_content for d in kept), item.answers))
        joined = compress("\n\n".join(paragraphs(item)), item.question, rate=rate, method=method)
        out["compress(joined)"].append(answer_in(joined.text, item.answers))
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rate", type=float, default=0.2)
    ap.add_argument("--method", default="condenser")
    ap.add_argument("--split", choices=["dev", "all"], default="dev", help="held-out dev items, or every item")
    ap.add_argument("--limit", type=int, default=None, help="first N items only")
    ap.add_argument("--data", default=None, help="the shared data folder (default ../shared/data)")
    args = ap.parse_args(argv)
    items = [x for x in load("hotpotqa", args.data) if args.split == "all" or is_dev_item("hotpotqa", x)]
    items = items[: args.limit] if args.limit else items
    start = time.perf_counter()
    results = outcomes(items, args.rate, args.method)
    reference = results["compress(joined)"]
    print(f"HotpotQA {args.split}: {len(items)} items, rate {args.rate}, method {args.method} "
          f"({time.perf_counter() - start:.0f} s)")
    print(f"{'':28} {'answer recall':>13}  {'95 % Wilson':>14}  vs compress(joined)")
    for name, kept in results.items():
        low, high = wilson(sum(kept), len(kept))
        recall = 100.0 * sum(kept) / max(1, len(kept))
        versus = "" if kept is reference else (
            f"{recall - 100.0 * sum(reference) / max(1, len(reference)):+.1f} pts "
            f"(+{paired(kept, reference).wins} / -{paired(kept, reference).losses}, "
            f"p={paired(kept, reference).p:.2f})")
        print(f"{name:28} {recall:12.1f}%  [{low:5.1f}, {high:5.1f}]  {versus}")


if __name__ == "__main__":
    main()
