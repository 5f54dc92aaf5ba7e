"""``condenser``: the default method, on Condenser's own trained models.

Two shipped models score sentences: the **retriever** (MiniLM-L6 fine-tuned as a question → evidence
sentence bi-encoder, blended with BM25) and the **token model** (a MiniLM-L6 cross-encoder with a per-token
KEEP head, LLMLingua-2 style, reading the query with each window; a sentence's score is the mean KEEP
probability of its tokens, Provence style, plus ``peak_weight`` times its highest). ``blend`` weighs them
by rank; the best sentences are kept in order to the exact budget. By default (``blend=1``) only the
retriever counts: on the dev split the token model lowered answer recall at every blend tried (see
``BLEND``), so it is not run unless asked for. Without the token model's weights, ``blend < 1`` falls back
to the retriever with a warning that says how to build them.
"""

from __future__ import annotations

import hashlib
import json
import time
import warnings

import numpy as np

from compressor.methods.base import Request, SentenceScorer
from compressor.methods.extractive import Extractive
from compressor.validation import check_count
from retriever.hybrid import HybridScorer
from retriever.links import linked_leads
from retriever.sections import section_heads, section_titles, titled_units

PEAK_WEIGHT = 0.0
#: share of the hybrid (retriever cosine + BM25) relevance against the token model's sentence score.
#: Answer recall on HotpotQA + MuSiQue dev (68 items x 3x/5x/10x, items kept of 204): blend 1.0 152,
#: 0.85 150, 0.5 141, token model alone ~119 — the token model (under-trained on a shared 2-core CPU)
#: does not help yet, so the default leaves it out and costs no cross-encoder pass.
BLEND = 1.0
#: dense (retriever cosine) share of that hybrid relevance. Answer recall on HotpotQA + MuSiQue dev at
#: 3x/5x/10x with the titled retriever (sum of the six cells): 0.6 461, 0.7 460, 0.8 473, 0.9 466, 1.0 458;
#: BM25 alone (0) kept fewer answers in earlier checks, and skips the embeddings (the fastest profile).
DENSE_WEIGHT = 0.8
#: retrieval hops: 2 lifts each sentence to the better of its own relevance and ``HOP_WEIGHT`` times its
#: relevance to the question expanded with one of the ``HOP_EXPAND`` best sentences (its own excluded):
#: the bridge evidence of multi-hop questions ("Reflektor is by a band based in which city?" -> "Arcade
#: Fire are ... based in Montreal"). Answers kept at 3x/5x/10x, HotpotQA training split (218 items) 586 ->
#: 598 of 654, dev (48) 124 -> 124 of 144 (3x +1, 10x -1), MuSiQue dev unchanged; weights 0.8 / 0.9 gave
#: 597 / 593 on training and 125 / 126 on dev. A retriever trained on such expanded queries
#: (``hop_triplets``) ranked worse (dev 123 with hops, 122 without).
HOPS = 2
HOP_WEIGHT = 0.85
HOP_EXPAND = 2
#: int8 dynamic quantisation of the model's Linear layers on CPU: ~1.3-1.5x faster model pass, sentence
#: ranking Spearman ~0.985 to fp32 for the first token model (0.97 for the shipped one, 8 HotpotQA dev
#: contexts), but one answer fewer in 20-40 item checks; off until a larger check shows it within a point.
QUANTIZE = False
#: sentence embedder of the relevance: Condenser's retriever (MiniLM fine-tuned on question → evidence
#: sentence pairs of the training split) ranks dev evidence better than the base MiniLM on every source
#: with more than 9 dev items (AUC NQ 0.921 → 0.941, SQuAD 0.894 → 0.926, HotpotQA 0.830 → 0.865).
EMBEDDER = "condenser"
#: sentence embedder of long inputs: those the coarse stage narrowed (``request.all_units`` set) and those
#: over ``LONG_INPUT_TOKENS`` it left whole. The fast 3-layer retriever, distilled from the full one on the
#: same titled sentences, reads them in about half the time (figures in the model card and
#: ``benchmarks/speed.py``).
CASCADE_EMBEDDER = "condenser-fast"
#: inputs read whole (not narrowed) whose sentences add up to more than this many tokens also get the
#: cascade embedder: the pipeline leaves inputs up to ``coarse.min_tokens`` (6,500) whole, and the fast int8
#: retriever over a whole ~5.7k-token MuSiQue context keeps more answers than any retriever after BM25
#: narrowing (dev 20 / training 48 items at 3x/5x/10x: 85/70/65 | 93.8/87.5/79.2 against 75/70/50 |
#: 91.7/81.2/60.4 narrowed to 3,000 tokens), at about 0.6 s for 5.6k tokens on this 2-core CPU
LONG_INPUT_TOKENS = 3000
#: run that cascade embedder as int8 ONNX (where ONNX Runtime is installed and ``$CONDENSER_EMBEDDER`` is
#: unset): ~1.4x faster again on this AVX2 CPU, the same answers kept on the long dev prompts
CASCADE_INT8 = True
#: read each sentence under its section title ("Arcade Fire: They are based in Montreal"), for both the
#: retriever and BM25 (``retriever.sections``); the retriever is trained on titled sentences. HotpotQA dev
#: recall at 5x: 79.2 % before, 85.4 % with titles alone, 87.5 % with the retriever retrained on them.
TITLES = True
#: the title lines ("Arcade Fire" above "They are based in Montreal") of the sections of this many best
#: sentences rank just above their sentence, so the fit keeps them first: the reader then knows what
#: "they" is, and a bridge question's answer is often that title. Answers kept at 3x/5x/10x: HotpotQA dev
#: (48 items) 124 -> 126 of 144 (with the titles of the 8 best, or of every sentence: 124), training split
#: (218) 598 -> 598 of 654, 28 LongBench QA items 71 -> 70 of 84: even on recall (MuSiQue has no titles);
#: kept for the reader, who otherwise gets sentences whose subject is a pronoun. 0 turns it off.
TITLE_LINES = 3
#: the first sentence of each section whose title one of this many best sentences names (a section the
#: question does not name: "... by Canadian indie rock band Arcade Fire" -> "Arcade Fire are a Canadian
#: indie rock band based in Montreal") ranks just below that sentence (``retriever.links``): the bridge
#: passage of a multi-hop question, which the second hop's expanded query still ranks 10th-40th because
#: the first entity's other sentences match it better. Answers kept at 3x/5x/10x (the substring rule of
#: 2026-12-03, before ``evals.qa_sets.answer_in`` went whole-word): HotpotQA dev (48 items)
#: 126 -> 131 of 144, training split (218) 598 -> 604 of 654, all 266 answerable HotpotQA items of
#: ``../shared/tools/retention.py`` 95.5/93.2/83.5 -> 97.0/94.7/84.6 %; 28 LongBench QA items and MuSiQue
#: unchanged. With the question's own sections linked too: training 595. HotpotQA as "Document [i](Title: ...)"
#: lines: dev 122 -> 127, training 581 -> 588. 0 turns it off.
LINKS = 3
#: candidates the sentence reranker (``retriever.rerank``, a 6-layer cross-encoder) rescores: the best
#: this many of the hybrid relevance are reordered among themselves; 0 turns the stage off (it kept no more
#: answers under the cross-validated protocol and costs ~1 s per call: model card)
RERANK = 0
#: the reranker's share of that reordering (rank fusion with the hybrid relevance)
RERANK_WEIGHT = 0.5
RERANKER = "condenser-reranker"
#: run the reranker with int8 dynamic quantisation on CPU
RERANK_INT8 = False
#: 2: the reranker also reads each candidate after the question and its best candidate (a second hop)
RERANK_HOPS = 1
#: after a cascaded call, embed the sentences the coarse stage left out on a background thread: the next
#: question on the same long context (RAG, chat) then finds every sentence embedding cached.
PREFETCH = True
#: at most this many sentences are embedded in the background per call (~0.5M tokens, a few minutes of CPU)
PREFETCH_MAX_UNITS = 20_000


class Condenser(SentenceScorer):
    """Options: ``model_path`` (weights folder), ``device`` (cpu/cuda/mps/auto), ``batch_size``,
    ``stride`` (window overlap in model tokens), ``peak_weight`` (see the module docstring), ``blend``
    (share of hybrid lexical/dense relevance, 0..1, default ``BLEND``), ``dense_weight`` (the dense share
    inside that relevance, default ``DENSE_WEIGHT``; 0 skips sentence embeddings), ``quantize`` (run the
    model with int8 dynamic quantisation on CPU, default ``QUANTIZE``), ``embedder`` (``condenser``, the
    fine-tuned retriever shipped in ``retriever/models``; ``condenser-fast``, three of its six layers
    distilled from it, about twice as fast; or ``minilm``, the base model; default
    ``EMBEDDER``; given, it also replaces ``cascade_embedder``), ``cascade_embedder`` (the embedder
    of long inputs: narrowed, or over ``LONG_INPUT_TOKENS``; default ``CASCADE_EMBEDDER``),
    ``cascade_int8`` (run it as int8 ONNX, default ``CASCADE_INT8``), ``prefetch`` (embed the rest of a narrowed input in the
    background for the next question, default ``PREFETCH``), ``titles`` (read sentences under their
    section titles, default ``TITLES``), ``hops`` (1: the question alone; 2: a second hop through the best
    sentences, default ``HOPS``), ``title_lines`` (the section titles of this many best sentences are kept
    with them, default ``TITLE_LINES``; 0: off), ``links`` (the first sentences of the sections this many
    best sentences name rank just below them, default ``LINKS``; 0: off), ``rerank`` (the sentence
    reranker reorders this many best candidates, default ``RERANK``; 0: off), ``rerank_weight`` (its
    share in that order, 0..1, default ``RERANK_WEIGHT``), ``reranker`` (a name of
    ``retriever.rerank.RERANKERS``, default ``RERANKER``), ``rerank_hops`` (2: a second reranker pass
    with the question extended by its best candidate, default ``RERANK_HOPS``), ``rerank_int8`` (run it
    int8 on CPU, default ``RERANK_INT8``).

    ``device`` also places the sentence embedder: on a GPU it runs in float16 with large batches
    (throughput mode, with ``compress_many``).

    Reports ``score`` (the model pass) and ``relevance`` (the hybrid blend) in ``request.timings``.
    """

    name = "condenser"
    options = frozenset({"model_path", "device", "batch_size", "stride", "peak_weight", "blend",
                         "dense_weight", "quantize", "embedder", "cascade_embedder", "cascade_int8",
                         "prefetch", "titles", "hops", "title_lines", "links", "rerank", "rerank_weight",
                         "reranker", "rerank_hops", "rerank_int8"})

    def _model(self, request: Request):
        from compressor.inference import resolve_device
        from compressor.models import ModelMissingError, load_condenser_model

        device = resolve_device(request.options.get("device", "cpu"))
        int8 = bool(request.options.get("quantize", QUANTIZE)) and device == "cpu"
        try:
            return load_condenser_model(request.options.get("model_path"), device,
                                        "int8" if int8 else "auto")
        except ModelMissingError as exc:
            warnings.warn(f"{exc}; scoring without the token model", RuntimeWarning, stacklevel=4)
            return None

    def score(self, texts: list[str], query: str | None, request: Request) -> np.ndarray:
        blend = float(request.options.get("blend", BLEND))
        if not 0.0 <= blend <= 1.0:
            raise ValueError(f"blend must be in [0, 1], got {blend}")
        top = _count_option(request, "title_lines", TITLE_LINES)
        links = _count_option(request, "links", LINKS)
        scores = self._blended(blend, query, request)
        if not (top or links) or not request.options.get("titles", TITLES):
            return scores
        titles = section_titles(request.documents, request.units)  # once, for heads and links
        heads = section_heads(request.documents, request.units, titles)
        if links:
            best = best_sentences(scores, heads, links)
            scores = leads_after(scores, linked_leads(request.documents, request.units, query, best, titles))
        return titles_first(scores, heads, top) if top else scores

    def _blended(self, blend: float, query: str | None, request: Request) -> np.ndarray:
        """The hybrid relevance, blended by rank with the token model's scores where ``blend < 1``."""
        texts = _read_texts(request, request.units)
        relevance = self._relevance(texts, query, request) if blend else None
        if relevance is not None:
            relevance = reranked(relevance, texts, query, request)
        if blend == 1.0:  # the token model is not consulted: skip loading and running it
            return relevance
        loaded = self._model(request)
        if loaded is None:
            return relevance if relevance is not None else Extractive().score(texts, query, request)
        model, tokenizer, info = loaded
        start = time.perf_counter()
        scores = self.unit_scores(model, tokenizer, info, request, query)
        request.timings["score"] = time.perf_counter() - start
        if relevance is None:
            return scores
        return (1 - blend) * _rank01(scores) + blend * _rank01(relevance)

    def prepare(self, requests: list[Request]) -> None:
        """Embed the sentences and questions of all ``requests`` in one batched pass per embedder (sorted
        by length across inputs), so ``compress`` finds every vector cached: ``Pipeline.run_many``."""
        groups: dict[tuple[str, bool, str], list[str]] = {}
        for request in requests:
            key = _embedding_key(request)
            if key is None:
                continue  # no sentence embeddings in this request's score
            texts = groups.setdefault(key, [])
            texts.extend(_read_texts(request, request.units))
            if request.query:
                texts.append(request.query)
        _encode_groups(groups)
        self._prepare_hops(requests)

    @staticmethod
    def _prepare_hops(requests: list[Request]) -> None:
        """Embed the second hop's expanded queries of all ``requests`` in one call per embedder: they
        depend on each request's first-hop ranking, which the pass above made cheap (vectors cached)."""
        groups: dict[tuple[str, bool, str], list[str]] = {}
        for request in requests:
            key = _embedding_key(request)
            if key is None or not request.query or _hops(request) != 2:
                continue
            scorer = HybridScorer(_embedder(*key), dense_weight=_dense_weight(request))
            texts = _read_texts(request, request.units)
            first = scorer.scores(texts, request.query)
            groups.setdefault(key, []).extend(scorer.hop_queries(texts, request.query, first, HOP_EXPAND))
        _encode_groups(groups)

    @staticmethod
    def _relevance(texts: list[str], query: str | None, request: Request) -> np.ndarray:
        """Hybrid BM25 + retriever-cosine relevance of each text (timed as ``relevance``)."""
        start = time.perf_counter()
        weight = _dense_weight(request)
        embedder = _embedder(*_embedder_key(request)) if weight else None
        scorer = HybridScorer(embedder, dense_weight=weight)
        relevance = scorer.scores(texts, query)
        if _hops(request) == 2:
            relevance = scorer.second_hop(texts, query, relevance, expand=HOP_EXPAND, weight=HOP_WEIGHT)
        request.timings["relevance"] = time.perf_counter() - start
        if embedder is not None and request.all_units and request.options.get("prefetch", PREFETCH):
            _prefetch_rest(embedder, request)
        return relevance

    @staticmethod
    def unit_scores(model, tokenizer, info: dict, request: Request, query: str | None) -> np.ndarray:
        """Score of every unit: the windows of all regions are scored together in one batched pass."""
        from compressor.inference import score_texts, span_scores
        from compressor.inference.words import max_per_span

        starts = np.asarray([u.start for u in request.units])
        ends = np.asarray([u.end for u in request.units])
        docs = np.asarray([u.doc for u in request.units])
        peak = float(request.options.get("peak_weight", PEAK_WEIGHT))
        out = np.zeros(len(request.units))
        inside = [(docs == r.doc) & (starts >= r.start) & (ends <= r.end) for r in request.regions]
        regions = [r for r, m in zip(request.regions, inside) if m.any()]
        inside = [m for m in inside if m.any()]
        texts = [request.documents[r.doc][r.start : r.end] for r in regions]
        all_tokens = score_texts(model, tokenizer, texts, query, max_length=info.get("max_length", 320),
                                  stride=int(request.options.get("stride", 0)),
                                  batch_size=int(request.options.get("batch_size", 16)))
        for region, mask, tokens in zip(regions, inside, all_tokens):
            s, e = starts[mask] - region.start, ends[mask] - region.start
            out[mask] = span_scores(tokens, s, e)
            if peak:
                out[mask] += peak * max_per_span(tokens.offsets, tokens.scores, s, e)
        return out

    def model_version(self) -> str:
        from compressor.models import model_info
        from retriever.embeddings import retriever_info

        # the whole training records (dev scores included): a retrained model changes the version even
        # with the same steps and seed
        # and the scoring defaults: a changed default (e.g. titles on) changes the output of the same call
        defaults = {"blend": BLEND, "dense_weight": DENSE_WEIGHT, "titles": TITLES, "embedder": EMBEDDER,
                    "cascade_embedder": CASCADE_EMBEDDER, "cascade_int8": CASCADE_INT8,
                    "long_input_tokens": LONG_INPUT_TOKENS, "hops": HOPS, "hop_weight": HOP_WEIGHT,
                    "hop_expand": HOP_EXPAND, "title_lines": TITLE_LINES, "links": LINKS}
        records = json.dumps([model_info(), retriever_info(), retriever_info("condenser-fast"), defaults],
                             sort_keys=True)
        return f"condenser-minilm-{hashlib.sha256(records.encode()).hexdigest()[:12]}"


EMBEDDERS = ("condenser", "condenser-fast", "minilm")


def _embedder_choice(request: Request) -> tuple[str, bool]:
    """(embedder name, int8) in force: ``embedder`` if given, else the cascade's (``cascade_embedder``,
    ``cascade_int8``) on a long input (narrowed, or over ``LONG_INPUT_TOKENS``), else the plain default,
    in fp32."""
    if "embedder" in request.options:
        return request.options["embedder"], False
    if request.all_units is not None or sum(u.tokens for u in request.units) > LONG_INPUT_TOKENS:
        return (request.options.get("cascade_embedder", CASCADE_EMBEDDER),
                bool(request.options.get("cascade_int8", CASCADE_INT8)))
    return EMBEDDER, False


def _embedder_key(request: Request) -> tuple[str, bool, str]:
    """(name, int8, device): the arguments of ``_embedder`` for ``request``'s sentence embeddings."""
    return (*_embedder_choice(request), _embedder_device(request))


def _embedding_key(request: Request) -> tuple[str, bool, str] | None:
    """``_embedder_key``, or None when ``request``'s score uses no sentence embeddings (``blend`` or
    ``dense_weight`` 0)."""
    if not float(request.options.get("blend", BLEND)) or not _dense_weight(request):
        return None
    return _embedder_key(request)


def _dense_weight(request: Request) -> float:
    return float(request.options.get("dense_weight", DENSE_WEIGHT))


def _encode_groups(groups: dict[tuple[str, bool, str], list[str]]) -> None:
    """Embed each group's texts (duplicates once) with the embedder its key names, one call per group."""
    for key, texts in groups.items():
        _embedder(*key).encode(list(dict.fromkeys(texts)))


def _count_option(request: Request, name: str, default: int) -> int:
    """The integer option ``name`` (``default`` when absent), checked: a non-negative int."""
    return check_count(name, request.options.get(name, default))


def _hops(request: Request) -> int:
    """The ``hops`` option, checked: 1 or 2."""
    hops = request.options.get("hops", HOPS)
    if hops not in (1, 2) or isinstance(hops, bool):
        raise ValueError(f"hops must be 1 or 2, got {hops!r}")
    return int(hops)


def _embedder_device(request: Request) -> str:
    """The ``device`` option, resolved (torch is only imported when one is given)."""
    device = request.options.get("device", "cpu")
    if device == "cpu":
        return device
    from compressor.inference import resolve_device

    return resolve_device(device)


def _embedder(name: str, int8: bool = False, device: str = "cpu"):
    """Sentence embedder of the relevance blend: one of ``EMBEDDERS`` (a missing shipped one: the base
    MiniLM); ``int8``: its int8 ONNX version where the automatic backend would run ONNX; on a GPU
    ``device``, torch in float16 with large batches."""
    from retriever.embeddings import get_embedder

    if name not in EMBEDDERS:
        raise ValueError(f"embedder must be one of {EMBEDDERS}, got {name!r}")
    if name == "minilm":
        return get_embedder(device=device)
    try:
        return get_embedder(name, int8=int8, device=device)
    except FileNotFoundError as exc:
        warnings.warn(f"{exc}; using the base MiniLM", RuntimeWarning, stacklevel=5)
        return get_embedder(device=device)


def _prefetch_rest(embedder, request: Request) -> None:
    """Embed, in the background, the units the coarse stage left out (for the next question)."""
    kept = {(u.doc, u.start) for u in request.units}
    rest = [u for u in request.all_units or [] if (u.doc, u.start) not in kept][:PREFETCH_MAX_UNITS]
    embedder.prefetch(_read_texts(request, rest))


def _read_texts(request: Request, units) -> list[str]:
    """What the retriever and BM25 read for ``units``: each under its section title (option ``titles``)."""
    if request.options.get("titles", TITLES):
        return titled_units(request.documents, units)
    return [request.documents[u.doc][u.start : u.end] for u in units]


def titles_first(scores: np.ndarray, heads: list[int], top: int) -> np.ndarray:
    """``scores`` with the title line of each of the ``top`` best units' sections (``heads``, see
    ``retriever.sections.section_heads``) raised to just above that unit's score."""
    out = np.asarray(scores, dtype=float).copy()
    for j in np.argsort(-out, kind="stable")[:top]:
        head = heads[j]
        if head >= 0 and out[head] <= scores[j]:
            out[head] = np.nextafter(float(scores[j]), np.inf)
    return out


def best_sentences(scores: np.ndarray, heads: list[int], top: int) -> list[int]:
    """The ``top`` best units by ``scores`` that are not title lines (``heads``: ``section_heads``)."""
    titles = {h for h in heads if h >= 0}
    return [int(j) for j in np.argsort(-np.asarray(scores), kind="stable") if int(j) not in titles][:top]


def leads_after(scores: np.ndarray, links: dict[int, list[int]]) -> np.ndarray:
    """``scores`` with the units each linking unit points at (``links``, see ``retriever.links``) raised
    to just below that unit's score."""
    out = np.asarray(scores, dtype=float).copy()
    for j, targets in links.items():
        below = np.nextafter(float(scores[j]), -np.inf)
        for k in targets:
            out[k] = max(out[k], below)
    return out


def reranked(relevance: np.ndarray, texts: list[str], query: str | None, request: Request) -> np.ndarray:
    """``relevance`` with its ``rerank`` best texts reordered among themselves by a rank fusion of their
    relevance and the sentence reranker's scores (``rerank_weight`` its share); the set keeps the same
    score values, so it stays above every other text. Unchanged without a query or reranker weights."""
    k = _count_option(request, "rerank", RERANK)
    if not k or not query or len(texts) < 2:
        return relevance
    weight = float(request.options.get("rerank_weight", RERANK_WEIGHT))
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"rerank_weight must be in [0, 1], got {weight}")
    from retriever.rerank import RERANKERS, get_reranker, reranker_available

    name = request.options.get("reranker", RERANKER)
    if name not in RERANKERS:
        raise ValueError(f"reranker must be one of {sorted(RERANKERS)}, got {name!r}")
    if not reranker_available(name):
        warnings.warn(f"no weights for reranker {name!r} (python -m compressor.training.reranker builds "
                      "them); ranking without it", RuntimeWarning, stacklevel=5)
        return relevance
    start = time.perf_counter()
    top = np.argsort(-np.asarray(relevance, dtype=float), kind="stable")[:k]
    model = get_reranker(name, _embedder_device(request), bool(request.options.get("rerank_int8", RERANK_INT8)))
    candidates = [texts[i] for i in top]
    scores = model.scores(query, candidates)
    if _count_option(request, "rerank_hops", RERANK_HOPS) == 2 and len(top) > 1:
        titles = section_titles(request.documents, request.units)
        scores = _second_rerank_hop(model, query, candidates, scores, [titles[i] for i in top])
    fused = (1 - weight) * _rank01(-np.arange(len(top), dtype=float)) + weight * _rank01(scores)
    out = np.asarray(relevance, dtype=float).copy()
    out[top[np.argsort(-fused, kind="stable")]] = out[top]
    request.timings["rerank"] = time.perf_counter() - start
    return out


def _second_rerank_hop(model, query: str, candidates: list[str], scores: np.ndarray,
                       sections: list[str]) -> np.ndarray:
    """Each candidate's better score: for ``query``, or for ``query`` followed by the best candidate (the
    reranker learned such chains: question + hop-1 evidence -> hop-2 evidence). Only candidates of
    another titled section than that best one can gain: the expanded query otherwise lifts the rest of the
    hop-1 passage over the bridge passage."""
    best = int(np.argmax(scores))
    others = [k for k, title in enumerate(sections) if title and title != sections[best]]
    if not others:
        return scores
    hop = model.scores(f"{query} {candidates[best]}", [candidates[k] for k in others])
    out = np.asarray(scores, dtype=float).copy()
    out[others] = np.maximum(out[others], hop)
    return out


def _rank01(x: np.ndarray) -> np.ndarray:
    """Ranks scaled to [0, 1]: puts scores of different scales on one footing before blending."""
    if len(x) < 2:
        return np.ones_like(x, dtype=float)
    return np.argsort(np.argsort(x, kind="stable"), kind="stable") / (len(x) - 1)

