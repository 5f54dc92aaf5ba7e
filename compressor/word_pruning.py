"""Below the sentence: shorten one sentence to a token budget by dropping its least informative words.

When the budget cannot hold the sentence that matters (a short note, a high compression rate), a shorter
but irrelevant sentence in its place loses the fact. ``prune_sentence`` keeps the sentence instead, less
its least informative words. It is a content-word pruner, not a model; each word is weighed:

- ``ANSWER`` (kept first): words of the kind the question asks for: dates and times for *when*
  (weekdays, months, years, ``3pm``), numbers for *how many/much*, names for *who*, *where* and *which city* (country, company...);
- ``FACT``: numbers and words with a digit (``Q3``, ``204``), IDs and code (``user_id``, ``a.b``,
  ``getUser()``), capitalised words (names, places, organisations; the first word of the sentence only
  when it is not a function word) and the function words inside such a name ("Bank *of* America"), and
  negations (``not``, ``never``, ``won't``);
- ``ECHO``: the question's own words (they say which sentence this is, but the reader knows them);
- ``CONTENT``: any other word;
- ``FUNCTION``: the function words of ``STOPWORDS``, dropped first.

The kept words are the runs of consecutive words with the largest total weight whose text, with one
``…`` for each cut, fits the budget (dynamic programming over words x tokens, token costs of the target
LLM's encoding). Each run is a verbatim slice of the sentence: words are never altered or split, so
numbers, IDs, names and code come through as they were. Sentences with CJK characters are not pruned:
they are cut only at sentence boundaries.
"""

from __future__ import annotations

import re

import numpy as np

from compressor.tokens import count_tokens, get_encoding
from retriever.sentences import CJK_CHARS

ANSWER = 10.0
FACT = 4.0
ECHO = 3.0
CONTENT = 1.0
FUNCTION = 0.0
#: a little more weight for earlier words, to break ties
EARLIER = 0.01
#: a little less weight per cut, so that among equal choices the one with fewer ``…`` wins
CUT_PENALTY = 0.05
#: what marks text cut out of a sentence
MARKER = "…"

STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below between
both but by can could did do does doing down during each few for from further had has have having he her
here hers herself him himself his how i if in into is it its itself just me more most my myself nor of off
on once only or other our ours ourselves out over own same she should so some such than that the their
theirs them themselves then there these they this those through to too under until up very was we were
what when where which while who whom why will with would you your yours yourself yourselves also its
""".split())
NEGATIONS = frozenset("not no never none nobody nothing nor neither cannot without n't".split())
#: function words that may sit inside a name ("Bank of America", "Leonardo da Vinci")
NAME_JOINERS = frozenset("of the de da di del der van von la le du y and &".split())
TEMPORAL = frozenset("""
monday tuesday wednesday thursday friday saturday sunday january february march april may june july august
september october november december am pm a.m. p.m. noon midnight today tomorrow yesterday morning
afternoon evening night week weekend month year century decade
""".split())
NUMBER_WORDS = frozenset("""
zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen
seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand million
billion trillion dozen half first second third
""".split())
_WHEN = re.compile(r"\b(when|what (year|date|time|day|month)|since|until)\b", re.IGNORECASE)
_HOW_MUCH = re.compile(r"\b(how (many|much|long|old|far|big|large|tall|often)|what (number|percentage|amount))\b",
                       re.IGNORECASE)
_WHO = re.compile(r"\b(who|whom|whose|where|(which|what) (city|country|state|town|village|place|person|man|"
                  r"woman|company|band|team|club|university|school|river|language|nationality|party))\b",
                  re.IGNORECASE)
_TIME_NUMBER = re.compile(r"^(1\d{3}|20\d{2}|\d{1,2}(:\d\d)?([ap]\.?m\.?)?|\d{1,2}(st|nd|rd|th)|\d{4}s)$", re.IGNORECASE)
_WORD = re.compile(r"\S+")
#: punctuation a run may leave off its last word before a cut
_TRAILING = ",;:"
_CORE = re.compile(r"^[\W_]*(.*?)[\W_]*$", re.DOTALL)
_CODE = re.compile(r"\w[_/\\@#:=.<>{}()\[\]]+\w|[a-z][A-Z]|[`(){}\[\]=<>]")
_CJK = re.compile(f"[{CJK_CHARS}]")


def has_cjk(text: str) -> bool:
    """Whether ``text`` holds CJK characters (such text is cut only at sentence boundaries)."""
    return _CJK.search(text) is not None


def word_weights(words: list[str], query: str | None) -> np.ndarray:
    """The weight of each word of one sentence (see the module docstring), for ``query`` (may be None)."""
    asked = _question_words(query)
    cores = [_CORE.match(w).group(1) for w in words]
    lowers = [c.lower() for c in cores]
    capital = [bool(c) and c[0].isupper() and (i > 0 or lowers[i] not in STOPWORDS) for i, c in enumerate(cores)]
    wants = _answer_kind(query)
    out = np.empty(len(words))
    for i, (word, core, low) in enumerate(zip(words, cores, lowers)):
        number = any(ch.isdigit() for ch in word) or low in NUMBER_WORDS
        echo = _asked(low, asked)
        if ((wants == "time" and (low in TEMPORAL or _TIME_NUMBER.match(core)))
                or (wants == "number" and number) or (wants == "name" and capital[i] and not echo)):
            out[i] = ANSWER
        elif (number or bool(_CODE.search(core)) or (capital[i] and not echo) or low in NEGATIONS
              or low.endswith("n't") or (low in NAME_JOINERS and word == core and 0 < i < len(words) - 1
                                         and capital[i - 1] and capital[i + 1])):
            out[i] = FACT
        elif echo:
            out[i] = ECHO
        else:
            out[i] = FUNCTION if low in STOPWORDS or not core else CONTENT
    return out


def _answer_kind(query: str | None) -> str | None:
    """What kind of word answers ``query``: ``time``, ``number``, ``name`` or None (any)."""
    if not query:
        return None
    if _HOW_MUCH.search(query):
        return "number"
    if _WHEN.search(query):
        return "time"
    return "name" if _WHO.search(query) else None


def prune_sentence(text: str, start: int, end: int, budget: int, query: str | None = None,
                   encoding: str = "cl100k_base") -> list[tuple[int, int]] | None:
    """The runs of ``text[start:end]`` (one sentence) to keep so that they, joined with ``MARKER`` where
    words were cut, cost at most ``budget`` tokens of ``encoding`` (estimated from each word's own cost;
    the caller counts the assembled text). ``[(start, end)]`` when the sentence fits whole; None when it
    has CJK characters, or not even its best word fits."""
    matches = list(_WORD.finditer(text, start, end))
    if not matches or budget <= 0:
        return None
    if has_cjk(text[start:end]):
        return None if count_tokens(text[start:end], encoding) > budget else [(start, end)]
    enc = get_encoding(encoding)
    costs = [len(enc.encode_ordinary(("" if i == 0 else " ") + m.group())) for i, m in enumerate(matches)]
    if sum(costs) + len(matches) - 1 <= budget and count_tokens(text[start:end], encoding) <= budget:
        return [(start, end)]
    marker = len(enc.encode_ordinary(" " + MARKER))
    words = [m.group() for m in matches]
    weights = word_weights(words, query)
    # a long ID or number ("INC-20431", "db-7.eu") is worth its tokens: it is one fact, kept whole or not
    exact = np.asarray([bool(_CODE.search(w) or any(ch.isdigit() for ch in w)) for w in words])
    weights = np.where(exact & (weights >= FACT), weights * np.maximum(1, np.asarray(costs) - 1), weights)
    # ties between words that say something: the earlier one (the main clause)
    weights = weights + np.where(weights >= CONTENT, EARLIER * np.linspace(1, 0, len(words)), 0.0)
    # a run that ends before a cut leaves out its last word's trailing comma ("Montreal …", not "Montreal, …")
    ends = [m.start() + len(m.group().rstrip(_TRAILING)) or m.end() for m in matches]
    refunds = [c - len(enc.encode_ordinary(("" if i == 0 else " ") + text[m.start() : e]))
               for i, (c, m, e) in enumerate(zip(costs, matches, ends))]
    kept = _best_runs(weights, costs, marker, budget, refunds)
    if not kept:
        return None
    runs, first = [], None
    for i in range(len(matches)):
        if i in kept and first is None:
            first = i
        if first is not None and i + 1 not in kept:
            runs.append((matches[first].start(), matches[i].end() if i + 1 == len(matches) else ends[i]))
            first = None
    return runs


def _best_runs(weights: np.ndarray, costs: list[int], marker: int, budget: int,
               refunds: list[int]) -> set[int]:
    """Indices of the words to keep: the largest total weight (less ``CUT_PENALTY`` per cut) whose word
    costs plus ``marker`` per cut (a run of dropped words, at the start, inside or at the end), less the
    ``refunds`` of words that end a run before a cut, fit ``budget``. Dynamic programming over words x
    tokens spent, with three states: nothing kept yet, the last word kept, the last word dropped after a
    kept one."""
    n, width = len(costs), budget + 1
    kept = np.full(width, -np.inf)  # best weight by tokens spent, last word kept
    dropped = np.full(width, -np.inf)  # ... last word dropped, some word kept before it
    back: list[tuple[np.ndarray, np.ndarray]] = []  # per word: where each state came from
    for i in range(n):
        cost = costs[i]
        from_kept = _shift(kept, cost)
        from_dropped = _shift(dropped, cost + marker)
        from_empty = np.full(width, -np.inf)  # every word before i dropped (a leading cut if i > 0)
        lead = cost + (marker if i else 0)
        if lead < width:
            from_empty[lead] = -CUT_PENALTY if i else 0.0
        options = np.stack([from_kept, from_dropped, from_empty])
        keep_from = options.argmax(0)
        new_kept = options.max(0) + weights[i]
        drop_options = np.stack([_shift(kept, -refunds[i - 1]) - CUT_PENALTY if i else kept, dropped])
        drop_from = drop_options.argmax(0)
        dropped = drop_options.max(0)
        kept = new_kept
        back.append((keep_from, drop_from))
    final_dropped = _shift(dropped, marker)  # a trailing cut costs its marker
    if np.isneginf(kept).all() and np.isneginf(final_dropped).all():
        return set()
    best_kept, best_dropped = kept.max(), final_dropped.max()
    state, spent = ("kept", int(kept.argmax())) if best_kept >= best_dropped else \
        ("dropped", int(final_dropped.argmax()) - marker)
    chosen: set[int] = set()
    for i in range(n - 1, -1, -1):
        keep_from, drop_from = back[i]
        if state == "kept":
            chosen.add(i)
            origin = int(keep_from[spent])
            if origin == 2:
                break
            spent -= costs[i] + (marker if origin == 1 else 0)
            state = "kept" if origin == 0 else "dropped"
        elif int(drop_from[spent]) == 0:
            state, spent = "kept", spent + refunds[i - 1]
    return chosen


def _shift(values: np.ndarray, by: int) -> np.ndarray:
    """``values`` moved ``by`` tokens up (spending ``by`` more; down for a negative ``by``), -inf where
    nothing comes from."""
    out = np.full(len(values), -np.inf)
    if 0 <= by < len(values):
        out[by:] = values[: len(values) - by]
    elif -len(values) < by < 0:
        out[:by] = values[-by:]
    return out


def _question_words(query: str | None) -> set[str]:
    if not query:
        return set()
    cores = (_CORE.match(w).group(1).lower() for w in _WORD.findall(query))
    return {c for c in cores if c and c not in STOPWORDS}


def _asked(word: str, asked: set[str]) -> bool:
    """Whether ``word`` is one of the question's words, or shares its first five letters with one."""
    if not word or not asked:
        return False
    return word in asked or (len(word) >= 5 and any(len(a) >= 5 and a[:5] == word[:5] for a in asked))
