"""Sentence scoring: per-signal features for every candidate sentence, fused linearly.

Signals (all computed from what retrieval returned: no re-encoding of sentences):
- `cos`: dense cosine of the question with the sentence embedding;
- `bm25`: sentence-level BM25 (IDF from the aggregated `term_df`), max-normalised over the candidates,
  and `coverage`: the share of the question's IDF mass the sentence contains (absolute);
- `nb_*` / `prev_*` / `next_*` / `win_*`: the same signals of the neighbouring sentences (context);
- `chunk_bm25`: BM25 of the best retrieved chunk holding the sentence (which passage is meant);
- `off_title_cov`: coverage of the question terms the article title lacks; `run`: longest in-order match;
- `title`: cosine of the question with the article title; `art`: best cosine in the same article;
- answer type: who / when / how many / where questions against names, dates, numbers, places in the sentence;
- length: penalties for very short or very long sentences; `asks`: a sentence that asks a question does not answer it.
Weights (log-odds between candidates) were fitted on the tuning half of the SQuAD benchmark only (see docs/quality.md).
`answerability` (a logistic model over question-level evidence) decides whether to abstain.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

import numpy as np

from bot.dates import QuestionDates, date_features
from bot.lexicon import canon
from bot.types import Quote
from indexing.cleaning import DROPPED_LINE_MARK
from indexing.sparse import K1, tokenize

B_SENT = 0.75

# Fitted on the tuning half (even article index) of benchmarks/bench_quality.py; see docs/quality.md.
WEIGHTS: dict[str, float] = {
    "cos": 3.9628,
    "bm25": -0.9128,
    "coverage": -2.6231,
    "bigram": 3.0219,
    "nb_cos": 2.2822,
    "nb_bm25": -0.4484,
    "title": 2.2065,
    "art": 2.9915,
    "type_match": 0.5976,
    "type_miss": -0.687,
    "m_date": 1.1542,
    "m_number": 1.1066,
    "m_person": -0.0082,
    "m_place": 0.338,
    "novel_caps": 0.1499,
    "novel_num": -0.0141,
    "rrf": 0.5688,
    "nb_cov": -0.7001,
    "art_bm25": 0.6637,
    "proximity": 0.2778,
    "cos_x_cov": -2.3244,
    "novel": 1.032,
    "short": -1.2501,
    "long": 0.0,
    "win_cov": 4.3408,
    "win_cos": 8.3172,
    "prev_cos": -1.1076,
    "next_cos": -1.937,
    "prev_bm25": 0.2866,
    "next_bm25": -1.2178,
    "prev_cov": -0.8779,
    "next_cov": 0.6095,
    "has_prev": 0.4799,
    "has_next": 0.6689,
    "leans_back": 0.0704,
    "chunk_bm25": 3.272,
    "off_title_cov": 6.8838,
    "run": -1.4762,
    "rank_cos": 0.7911,
    "rank_bm25": -0.0064,
    "fresh": 5.7188,
    "age": 3.1295,
    "recent_age": -5.5157,
    "date_in": 1.3361,
    "date_out": -0.1077,
    "future": -6.18,
    "ent_sent": 0.0,
    "ent_art": 0.0,
    "art_cov": 0.0,
    "title_cov": 0.0,
    "num_match": 0.0,
    "pos": 0.0,
    "early": 0.0,
    # a sentence that asks a question (a quiz page's question, an interview's) does not answer it, however close
    # it reads: chosen on the news tuning half (docs/quality.md round 17), not part of the fitted weights
    "asks": -5.0,
}
FEATURES = list(WEIGHTS)
# With RERANKER=bundled, the cross-encoder's logit (bot/rerank.py) joins the fused score of the best RERANK_TOP_K
# candidates with this weight: chosen on the news tuning half (the cross-encoder was trained on SQuAD's tuning half;
# docs/quality.md round 7).
CROSS_WEIGHT = 1.5

# Default abstain threshold on the answerability (see `answerability`): declines 0.75 % of the SQuAD tuning half's
# answerable questions (2 % of the news tuning half's); calibrated in docs/quality.md.
DEFAULT_ABSTAIN_THRESHOLD = 0.039
# Between the abstain threshold and this one the quotes are shown as the closest passages, flagged as perhaps not
# answering (`Answer.tentative`): the largest value that flags at most 4 % of the answerable questions of each tuning
# half (SQuAD 2.2 %, news 4.0 %), while two thirds of the off-collection questions the bot does not decline fall
# under it (docs/quality.md, round 6).
DEFAULT_TENTATIVE_THRESHOLD = 0.15
# Quotes after the first are shown only when they score within this many log-odds of the first (calibrated in
# docs/quality.md).
DEFAULT_QUOTE_FLOOR = 5.0
# A later quote that sits right next to the first one in its article (the sentence before or after it) gets this
# wider floor: it is the first quote's context, never an unrelated sentence, and it is where the answer is when the
# first quote restates the question ("This led to protests…" after the sentence saying what led to them).
DEFAULT_NEIGHBOUR_FLOOR = 9.0


@dataclass
class SentenceCandidate:
    """One candidate sentence of a retrieved chunk, with its features and fused score."""

    article_id: str
    start: int
    end: int
    text: str
    prev_start: int | None  # start offset of the previous / next sentence, when known
    next_start: int | None
    gap_after: str | None  # the exact text between this sentence and the next one, when known
    title: str
    url: str | None
    source: str | None
    published: str | None
    content_hash: str
    vector: np.ndarray
    chunks: tuple[int, ...] = ()  # the retrieved chunks (pool-local numbers) holding this sentence
    features: dict[str, float] = field(default_factory=dict)
    score: float = 0.0
    confidence: float = 0.0


# --- question analysis -----------------------------------------------------------------------------------

_YEAR = re.compile(r"\b(1[0-9]{3}|20[0-9]{2})s?\b")
_MONTH = re.compile(
    r"\b(January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\b\.?"
)
_DATE_WORDS = re.compile(
    r"\b(century|centuries|decade|BC|AD|BCE|CE|today|yesterday|Monday|Tuesday|Wednesday|"
    r"Thursday|Friday|Saturday|Sunday|season|era|period|age)\b",
    re.I,
)
_NUMBER = re.compile(
    r"\b\d[\d,.]*\b|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|"
    r"thirty|forty|fifty|hundred|thousand|million|billion|trillion|dozen|half|percent)\b",
    re.I,
)
# a sentence opening like this leans on the previous one ("He later ...", "However, ...")
_LEANS_BACK = re.compile(
    r"^(It|He|She|They|This|These|That|Those|His|Her|Their|Its|The latter|The former|However|But|Also|In|After|During)\b"
)
# a sentence ending on a question mark, perhaps inside closing quotes or brackets
_ASKS = re.compile(r"\?[\"”’')\]]*\s*$")
_CAPWORD = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-zA-Z'’\-]+")
_PLACE_CUE = re.compile(r"\b(in|at|near|from|to|into|across|between)\s+(the\s+)?[A-Z]")

_QTYPES = [
    (
        "number",
        re.compile(
            r"\bhow (many|much|long|old|far|big|large|high|tall|often|fast|deep|wide)\b|"
            r"\bwhat (percentage|percent|proportion|number|amount|fraction|size)\b|\bwhat was the (population|cost|price)\b",
            re.I,
        ),
    ),
    (
        "date",
        re.compile(
            r"\bwhen\b|\bwhat (year|years|date|day|month|century|decade|time|era|period)\b|"
            r"\bwhich (year|years|date|day|month|century|decade)\b|\bhow long ago\b|\bsince when\b",
            re.I,
        ),
    ),
    (
        "person",
        re.compile(
            r"\bwho\b|\bwhom\b|\bwhose\b|\bwhat (person|man|woman|company|organi[sz]ation|group|team)\b|"
            r"\bwhich (person|man|woman|company|organi[sz]ation|group|team)\b",
            re.I,
        ),
    ),
    (
        "place",
        re.compile(
            r"\bwhere\b|\bwhat (country|city|state|place|region|area|continent|location|town|river)\b|"
            r"\bwhich (country|city|state|place|region|area|continent|location|town|river)\b|\bin what\b",
            re.I,
        ),
    ),
]


def question_type(question: str) -> str | None:
    """The kind of answer a question asks for: number, date, person, place or None."""
    for name, pattern in _QTYPES:
        if pattern.search(question):
            return name
    return None


def _capitalised(text: str) -> set[str]:
    return {match.group().lower() for match in _CAPWORD.finditer(text)}


def has_type(text: str, qtype: str, question_caps: set[str]) -> bool:
    """Does `text` contain an answer of kind `qtype` not already named in the question?"""
    if qtype == "date":
        return bool(_YEAR.search(text) or _MONTH.search(text) or _DATE_WORDS.search(text))
    if qtype == "number":
        return bool(_NUMBER.search(text))
    if qtype == "person":
        return bool(_capitalised(text) - question_caps)
    if qtype == "place":
        return bool(_PLACE_CUE.search(text)) and bool(_capitalised(text) - question_caps)
    return False


# --- BM25 ---------------------------------------------------------------------------------------------------


def bm25_scores(
    query_terms: list[str], sentences_terms: list[list[str]], idf: dict[str, float], avg_len: float
) -> np.ndarray:
    """Sentence-level BM25 of each tokenised sentence against the distinct query terms."""
    out = np.zeros(len(sentences_terms), dtype=np.float32)
    query = set(query_terms)
    for row, terms in enumerate(sentences_terms):
        if not terms:
            continue
        norm = K1 * (1 - B_SENT + B_SENT * len(terms) / avg_len)
        counts: dict[str, int] = {}
        for term in terms:
            if term in query:
                counts[term] = counts.get(term, 0) + 1
        out[row] = sum(idf[t] * tf * (K1 + 1) / (tf + norm) for t, tf in counts.items())
    return out


def chunk_bm25(candidates: list[SentenceCandidate], terms: list[list[str]], idf: dict[str, float]) -> np.ndarray:
    """Per sentence, the best BM25 of a retrieved chunk holding it (the chunk = its candidate sentences),
    max-normalised: which passage the question is about."""
    chunk_terms: dict[int, list[str]] = {}
    for c, ts in zip(candidates, terms, strict=True):
        for chunk in c.chunks:
            chunk_terms.setdefault(chunk, []).extend(ts)
    if not chunk_terms:
        return np.zeros(len(candidates), dtype=np.float32)
    bags = list(chunk_terms.values())
    avg = sum(map(len, bags)) / len(bags) or 1.0
    score = dict(zip(chunk_terms, bm25_scores(list(idf), bags, idf, avg), strict=True))
    top = max(score.values()) or 1.0
    return np.array([max((score[k] for k in c.chunks), default=0.0) / top for c in candidates], dtype=np.float32)


def longest_run(query: list[str], terms: list[str]) -> int:
    """Length of the longest run of consecutive question terms found in the same order in `terms`."""
    matcher = SequenceMatcher(None, query, terms, autojunk=False)
    return matcher.find_longest_match(0, len(query), 0, len(terms)).size


# --- fusion -------------------------------------------------------------------------------------------------


def compute_features(
    question: str,
    question_vec: np.ndarray,
    candidates: list[SentenceCandidate],
    title_cos: dict[str, float],
    idf_of,
    avg_len: float,
    context: str | None = None,
    dates: QuestionDates | None = None,
) -> np.ndarray:
    """Fill `features` of each candidate; returns the feature matrix (rows = candidates, cols = FEATURES).

    `context` (an earlier question, for follow-ups) adds its terms at half weight; `dates` (what the
    question says about time, relative to the day it is asked) adds the published-date features.
    """
    if not candidates:
        return np.zeros((0, len(FEATURES)), dtype=np.float32)
    own = {canon(t) for t in tokenize(question)}
    extra = {canon(t) for t in tokenize(context)} - own if context else set()
    q_terms = sorted(own | extra)
    idf = {term: idf_of(term) * (0.5 if term in extra else 1.0) for term in q_terms}
    idf_total = sum(idf.values()) or 1.0
    terms = [[canon(t) for t in tokenize(c.text)] for c in candidates]
    matrix = np.stack([c.vector for c in candidates])
    cos = matrix @ question_vec
    bm25 = bm25_scores(q_terms, terms, idf, avg_len)
    bm25_max = float(bm25.max()) if len(bm25) else 0.0
    bm25_n = bm25 / bm25_max if bm25_max > 0 else bm25
    coverage = np.array([sum(idf[t] for t in set(ts) if t in idf) / idf_total for ts in terms], dtype=np.float32)

    index = {(c.article_id, c.start): row for row, c in enumerate(candidates)}
    art_best: dict[str, float] = {}
    art_bm25: dict[str, float] = {}
    for row, c in enumerate(candidates):
        art_best[c.article_id] = max(art_best.get(c.article_id, -1.0), float(cos[row]))
        art_bm25[c.article_id] = max(art_bm25.get(c.article_id, 0.0), float(bm25_n[row]))
    rank_cos = np.empty(len(candidates))
    rank_cos[np.argsort(-cos)] = np.arange(len(candidates))
    rank_bm = np.empty(len(candidates))
    rank_bm[np.argsort(-bm25)] = np.arange(len(candidates))
    q_numbers = set(re.findall(r"\d+", question))

    qtype = question_type(question)
    q_caps = _capitalised(question) | {w.lower() for w in re.findall(r"[A-Za-z][\w'’\-]*", question)}
    q_words = set(q_terms)
    q_seq = [canon(t) for t in tokenize(question)]
    q_bigrams = set(itertools.pairwise(q_seq))
    chunk_bm = chunk_bm25(candidates, terms, idf)
    off_title: dict[str, tuple[dict[str, float], float]] = {}  # per article: the question terms its title lacks
    title_cov: dict[str, float] = {}
    art_terms: dict[str, set[str]] = {}  # per article: every term of its title and retrieved sentences
    for c, ts in zip(candidates, terms, strict=True):
        if c.article_id not in off_title:
            in_title = {canon(t) for t in tokenize(c.title)}
            off = {t: w for t, w in idf.items() if t not in in_title and t not in extra}
            off_title[c.article_id] = off, sum(off.values()) or 1.0
            title_cov[c.article_id] = sum(w for t, w in idf.items() if t in in_title) / idf_total
            art_terms[c.article_id] = set(in_title)
        art_terms[c.article_id].update(ts)
    art_cov = {aid: sum(w for t, w in idf.items() if t in ts) / idf_total for aid, ts in art_terms.items()}
    q_ents = entities(question)
    art_text: dict[str, str] = {}
    for c in candidates:
        art_text[c.article_id] = art_text.get(c.article_id, c.title.lower()) + " " + c.text.lower()
    ent_patterns = _name_patterns(q_ents)
    ent_art = {aid: _share_found(ent_patterns, text) for aid, text in art_text.items()}
    dated = {aid: date_features(c.published, dates) for aid, c in {c.article_id: c for c in candidates}.items()}
    # per row, plain Python floats (float32 values, as float(array[row]) gives them) and neighbour rows
    cos_v, bm_v, cov_v = cos.tolist(), bm25_n.tolist(), coverage.tolist()
    chunk_v, rank_cos_v, rank_bm_v = chunk_bm.tolist(), rank_cos.tolist(), rank_bm.tolist()
    prevs = [index.get((c.article_id, c.prev_start)) if c.prev_start is not None else None for c in candidates]
    nexts = [index.get((c.article_id, c.next_start)) if c.next_start is not None else None for c in candidates]
    win_cos_v = _window_cos(matrix, question_vec, prevs, nexts).tolist()
    feats = np.zeros((len(candidates), len(FEATURES)), dtype=np.float32)
    for row, c in enumerate(candidates):
        prev, nxt = prevs[row], nexts[row]
        neighbours = [n for n in (prev, nxt) if n is not None]
        own_terms = set(terms[row])
        off, off_total = off_title[c.article_id]
        nb_cos = max((cos_v[n] for n in neighbours), default=0.0)
        nb_bm = max((bm_v[n] for n in neighbours), default=0.0)
        n_words = len(c.text.split())
        match = has_type(c.text, qtype, q_caps) if qtype else False
        novel = len(own_terms - q_words) / max(len(own_terms), 1)
        caps = _capitalised(c.text) - q_caps
        numbers = set(re.findall(r"\d+", c.text))
        positions = [i for i, t in enumerate(terms[row]) if t in q_words]
        proximity = len(positions) / (positions[-1] - positions[0] + 1) if len(positions) > 1 else 0.0
        window = own_terms.union(*(terms[n] for n in neighbours))
        win_cov = sum(idf[t] for t in window if t in idf) / idf_total
        values = {
            "cos": cos_v[row],
            "bm25": bm_v[row],
            "coverage": cov_v[row],
            "bigram": len(q_bigrams & set(zip(terms[row], terms[row][1:], strict=False))) / len(q_bigrams)
            if q_bigrams
            else 0.0,
            "nb_cos": nb_cos,
            "nb_bm25": nb_bm,
            "title": title_cos.get(c.article_id, 0.0),
            "art": art_best[c.article_id],
            "type_match": 1.0 if (qtype and match) else 0.0,
            "type_miss": 1.0 if (qtype and not match) else 0.0,
            "m_date": 1.0 if (qtype == "date" and match) else 0.0,
            "m_number": 1.0 if (qtype == "number" and match) else 0.0,
            "m_person": 1.0 if (qtype == "person" and match) else 0.0,
            "m_place": 1.0 if (qtype == "place" and match) else 0.0,
            "novel_caps": min(len(caps), 3) / 3.0,
            "novel_num": 1.0 if numbers - q_numbers else 0.0,
            "rrf": float(10.0 * (1.0 / (10 + rank_cos_v[row]) + 1.0 / (10 + rank_bm_v[row]))),
            "nb_cov": max((cov_v[n] for n in neighbours), default=0.0),
            "art_bm25": art_bm25[c.article_id],
            "proximity": proximity,
            "cos_x_cov": cos_v[row] * cov_v[row],
            "win_cov": win_cov,
            "win_cos": win_cos_v[row],
            "novel": novel,
            "short": 1.0 if n_words < 6 else 0.0,
            "long": max(0.0, (n_words - 45) / 30.0),
            "prev_cos": cos_v[prev] if prev is not None else 0.0,
            "next_cos": cos_v[nxt] if nxt is not None else 0.0,
            "prev_bm25": bm_v[prev] if prev is not None else 0.0,
            "next_bm25": bm_v[nxt] if nxt is not None else 0.0,
            "prev_cov": cov_v[prev] if prev is not None else 0.0,
            "next_cov": cov_v[nxt] if nxt is not None else 0.0,
            "has_prev": 1.0 if prev is not None else 0.0,
            "has_next": 1.0 if nxt is not None else 0.0,
            "leans_back": 1.0 if _LEANS_BACK.match(c.text) else 0.0,
            "chunk_bm25": chunk_v[row],
            "off_title_cov": sum(w for t, w in off.items() if t in own_terms) / off_total,
            "run": longest_run(q_seq, terms[row]) / max(len(q_seq), 1),
            "rank_cos": float(1.0 / (1.0 + rank_cos_v[row])),
            "rank_bm25": float(1.0 / (1.0 + rank_bm_v[row])),
            "ent_sent": _share_found(ent_patterns, c.text.lower()),
            "ent_art": ent_art[c.article_id],
            "art_cov": art_cov[c.article_id],
            "title_cov": title_cov[c.article_id],
            "num_match": 1.0 if q_numbers and q_numbers <= numbers else 0.0,
            "pos": min(1.0, math.log1p(c.start / 200) / math.log1p(100)),  # news put the essentials first
            "early": 1.0 if c.start < 600 else 0.0,
            "asks": 1.0 if _ASKS.search(c.text) else 0.0,
            **dated[c.article_id],
        }
        c.features = values
        feats[row] = [values[name] for name in FEATURES]
    return feats


_QUESTION_WORDS = {"who", "what", "when", "where", "which", "why", "how", "whose", "whom", "the", "a", "an", "in", "on"}


def entities(question: str) -> set[str]:
    """Names and numbers the question mentions: capitalised words (not the first word, not question words)
    and digit groups, lower-cased."""
    words = re.findall(r"[A-Za-z][\w'’\-]*|\d[\d,.]*\d|\d", question)
    out = set()
    for i, word in enumerate(words):
        if word[0].isdigit():
            out.add(word)
        elif i > 0 and word[0].isupper() and word.lower() not in _QUESTION_WORDS:
            out.add(word.lower().removesuffix("'s").removesuffix("’s"))
    return out


def _name_patterns(names: set[str]) -> list[re.Pattern]:
    """One whole-word pattern per name, compiled once per question (not once per sentence)."""
    return [re.compile(rf"(?<!\w){re.escape(n)}(?!\w)") for n in names]


def _share_found(patterns: list[re.Pattern], text: str) -> float:
    """Share of the names (`_name_patterns`) found in `text` (lower case); 1 without names (none is missing)."""
    if not patterns:
        return 1.0
    return sum(1 for p in patterns if p.search(text)) / len(patterns)


def _window_cos(
    matrix: np.ndarray, question_vec: np.ndarray, prevs: list[int | None], nexts: list[int | None]
) -> np.ndarray:
    """Per row, the cosine of the question with the sum of the sentence's vector and its retrieved neighbours'."""
    rows = len(matrix)
    padded = np.vstack([matrix, np.zeros((1, matrix.shape[1]), dtype=matrix.dtype)])  # row `rows`: no neighbour
    around = padded[[rows if p is None else p for p in prevs]] + padded[[rows if n is None else n for n in nexts]]
    window = matrix + around
    norms = np.linalg.norm(window, axis=1).astype(np.float64)
    return (window @ question_vec).astype(np.float64) / np.where(norms > 0, norms, 1.0)


def fuse(candidates: list[SentenceCandidate], feats: np.ndarray, weights: dict[str, float] | None = None) -> None:
    """Linear fusion into `score`, plus the absolute per-sentence `confidence` (closest-article scores, `maxconf`)."""
    weights = weights or WEIGHTS
    w = np.array([weights.get(name, 0.0) for name in FEATURES], dtype=np.float32)
    scores = feats @ w if len(candidates) else np.zeros(0)
    for row, c in enumerate(candidates):
        c.score = float(scores[row])
        c.confidence = confidence(c.features)


def confidence(features: dict[str, float]) -> float:
    """Absolute evidence that a sentence answers (not max-normalised, so comparable across questions):
    its cosine, the share of the question's IDF mass it contains and the article title's cosine."""
    return 0.5 * features.get("cos", 0.0) + 0.25 * features.get("coverage", 0.0) + 0.25 * features.get("title", 0.0)


# --- answerability ------------------------------------------------------------------------------------------

# Logistic model "is this question answered by the collection?", fitted on the tuning halves of every set of
# benchmarks/bench_quality.py: SQuAD and news questions asked of their own store (answerable), the other half's,
# the other collection's and the written unanswerable questions (not answerable); see docs/quality.md.
ANSWERABILITY_WEIGHTS: dict[str, float] = {
    "maxconf": 7.626,
    "cos": 0.067,
    "win_cov": 0.0,
    "win_cos": 4.384,
    "title": 3.861,
    "art": 4.439,
    "margin": 0.135,
    "missing": -0.933,
    "unm1": -0.6,
    "unm_share": 0.0,
    "ent_art": 0.0,
    "ent_best": 1.041,
    "art_cov": 0.075,
    "art_cov_best": 1.546,
    "off_title": 0.0,
    "ent_win": 1.32,
    "rel_cov": 0.044,
    "n_terms": 0.0,
    "type_ok": 0.0,
    "top_cov": 0.0,
}
ANSWERABILITY_BIAS = -13.047
ANSWERABILITY_FEATURES = list(ANSWERABILITY_WEIGHTS)


def answerability_features(
    question: str, ranked: list[SentenceCandidate], df: dict[str, int], idf_of, context: str | None = None
) -> dict[str, float]:
    """Question-level evidence that the best candidates answer `question` (`ranked`: best first).

    Besides the best sentence's cosine, window and title scores: the share of the question's IDF mass
    that no sentence of the collection contains (`missing`), the rarest question term missing from the
    best three-sentence window (its IDF relative to a term the collection has never seen) and the
    share of the IDF mass the window misses; the fused-score margin over the second candidate and the
    best confidence among the first ten candidates. (The median / fifth-best candidate cosines helped
    on SQuAD by two points but depend on the collection's size, so they are left out.)
    """
    if not ranked:
        return {}
    own = {canon(t) for t in tokenize(question)}
    extra = {canon(t) for t in tokenize(context)} - own if context else set()
    idf = {t: idf_of(t) * (0.5 if t in extra else 1.0) for t in own | extra}
    total = sum(idf.values()) or 1.0
    unseen = idf_of("\x00") or 1.0  # the IDF of a term no sentence contains
    top = ranked[0]
    by_key = {(c.article_id, c.start): c for c in ranked}
    window = {canon(t) for t in tokenize(top.text)}
    window_text = top.text.lower()
    type_ok = not question_type(question) or bool(f_type(top))
    for start in (top.prev_start, top.next_start):
        nb = by_key.get((top.article_id, start)) if start is not None else None
        if nb is not None:
            window.update(canon(t) for t in tokenize(nb.text))
            window_text += " " + nb.text.lower()
            type_ok = type_ok or bool(f_type(nb))
    names = entities(question)
    name_terms = {canon(t) for n in names for t in tokenize(n)}
    relation = {t: w for t, w in idf.items() if t not in name_terms}
    f = top.features
    second = ranked[1].score if len(ranked) > 1 else top.score - 1.0
    return {
        "maxconf": max(c.confidence for c in ranked[:10]),
        "cos": f.get("cos", 0.0),
        "win_cov": f.get("win_cov", 0.0),
        "win_cos": f.get("win_cos", 0.0),
        "title": f.get("title", 0.0),
        "art": f.get("art", 0.0),
        "margin": top.score - second,
        "missing": sum(w for t, w in idf.items() if df.get(t, 0) == 0) / total,
        "unm1": max((w for t, w in idf.items() if t not in window), default=0.0) / unseen,
        "unm_share": sum(w for t, w in idf.items() if t not in window) / total,
        "ent_art": f.get("ent_art", 0.0),
        "ent_best": max(c.features.get("ent_art", 0.0) for c in ranked),
        "art_cov": f.get("art_cov", 0.0),
        "art_cov_best": max(c.features.get("art_cov", 0.0) for c in ranked),
        "off_title": f.get("off_title_cov", 0.0),
        "ent_win": _share_found(_name_patterns(names), window_text),
        "rel_cov": sum(w for t, w in relation.items() if t in window) / (sum(relation.values()) or 1.0),
        "n_terms": min(1.0, len(own) / 10.0),
        "type_ok": 1.0 if type_ok else 0.0,
        "top_cov": f.get("coverage", 0.0),
    }


def f_type(c: SentenceCandidate) -> float:
    """Does the candidate hold the kind of answer its question asks for (from its features)?"""
    return c.features.get("type_match", 0.0)


@dataclass(frozen=True)
class AnswerabilityModel:
    """A logistic model "is this question answered by the collection?" and the thresholds calibrated for it:
    under `abstain` the bot declines, under `tentative` it shows the quotes as the closest passages."""

    weights: dict[str, float]
    bias: float
    abstain: float
    tentative: float

    def __call__(self, features: dict[str, float]) -> float:
        """Probability-like score in [0, 1] that the question is answered (0 without candidates)."""
        return sigmoid(self.logit(features)) if features else 0.0

    def logit(self, features: dict[str, float], skip: tuple[str, ...] = ()) -> float:
        """The log-odds, leaving out the `skip` terms."""
        return self.bias + sum(w * features.get(n, 0.0) for n, w in self.weights.items() if n not in skip)


CHECK_TERMS = ("check_best", "check_first")  # bot/answer_check.check_features
SCORES_ONLY = AnswerabilityModel(
    ANSWERABILITY_WEIGHTS, ANSWERABILITY_BIAS, DEFAULT_ABSTAIN_THRESHOLD, DEFAULT_TENTATIVE_THRESHOLD
)
# With ANSWER_CHECK on (the default): the same evidence plus the answer checker's logits (bot/answer_check.py),
# refitted the same way on the tuning halves minus the checker's own training questions; the abstain threshold
# declines 1.4 % of that SQuAD tuning sample (1 % of news), the tentative one flags at most 4 % of each
# (docs/quality.md, round 9).
CHECKED = AnswerabilityModel(
    {
        "maxconf": 4.234,
        "cos": 0.327,
        "win_cos": 5.404,
        "title": 4.671,
        "art": 2.71,
        "margin": 0.094,
        "missing": -2.142,
        "unm1": -1.159,
        "ent_best": 0.614,
        "art_cov_best": 0.455,
        "ent_win": 1.39,
        "check_best": 0.357,
        "check_first": 0.025,
    },
    bias=-9.642,
    abstain=0.049,
    tentative=0.14,
)


def answerability(features: dict[str, float], model: AnswerabilityModel = SCORES_ONLY) -> float:
    """Probability-like score in [0, 1] that the question is answered (0 without candidates)."""
    return model(features)


@dataclass
class CandidatePool:
    """The retriever's output: candidate sentences and the title vectors of their articles.

    Read-only once built; `__deepcopy__` returns the same object, because Haystack deep-copies every
    component output element by element, which cost more than the scoring itself.
    """

    candidates: list[SentenceCandidate] = field(default_factory=list)
    titles: dict[str, np.ndarray] = field(default_factory=dict)

    def __deepcopy__(self, memo: dict) -> CandidatePool:
        return self


@dataclass
class QuoteDraft:
    """A quote chosen by the selector, not yet verified against the stored article text."""

    quote: Quote
    content_hash: str
    confidence: float
    lead: tuple[int, int] | None = None  # where the lead would lie in quote.text, were this the first quote


def adjacent_gap(gap: str | None) -> bool:
    """Does `gap` (the text between two sentences) make them adjacent in the source? Whitespace only, and not
    a blank line: the indexer leaves one (`DROPPED_LINE_MARK`) where it dropped a boilerplate line ("RELATED:
    …") between two kept lines."""
    return gap is not None and not gap.strip() and DROPPED_LINE_MARK not in gap


def normalise_text(text: str) -> str:
    """Key for "the same sentence" (syndicated copies): lower case, words only."""
    return " ".join(re.findall(r"\w+", text.lower()))


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, x))))
