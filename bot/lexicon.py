"""Irregular English word forms the stemmer cannot join ("meet" / "met", "begin" / "began").

Questions ask "Who did X meet?" while the article says "X met ..."; Snowball stems leave the two
apart. Both the sentence-level BM25 and the sparse query map every form of a group to one term.
"""

from __future__ import annotations

from functools import lru_cache

from indexing.sparse import _stem, term_index

_GROUPS = """
arise arose arisen|awake awoke awoken|bear bore born borne|beat beaten|become became|begin began begun
bend bent|bet|bid|bind bound|bite bit bitten|bleed bled|blow blew blown|break broke broken|breed bred
bring brought|build built|burn burnt|burst|buy bought|cast|catch caught|choose chose chosen|cling clung
come came|cost|creep crept|cut|deal dealt|dig dug|do did done|draw drew drawn|dream dreamt|drink drank drunk
drive drove driven|eat ate eaten|fall fell fallen|feed fed|feel felt|fight fought|find found|flee fled
fly flew flown|forbid forbade forbidden|forget forgot forgotten|forgive forgave forgiven|freeze froze frozen
get got gotten|give gave given|go went gone|grind ground|grow grew grown|hang hung|have had|hear heard
hide hid hidden|hit|hold held|hurt|keep kept|kneel knelt|know knew known|lay laid|lead led|lean leant
leap leapt|learn learnt|leave left|lend lent|let|lie lay lain|light lit|lose lost|make made|mean meant
meet met|pay paid|prove proven|put|quit|read|ride rode ridden|ring rang rung|rise rose risen|run ran
say said|see saw seen|seek sought|sell sold|send sent|set|shake shook shaken|shine shone|shoot shot
show shown|shrink shrank shrunk|shut|sing sang sung|sink sank sunk|sit sat|sleep slept|slide slid
speak spoke spoken|speed sped|spend spent|spin spun|spread|spring sprang sprung|stand stood|steal stole stolen
stick stuck|sting stung|strike struck|strive strove striven|swear swore sworn|sweep swept|swim swam swum
swing swung|take took taken|teach taught|tear tore torn|tell told|think thought|throw threw thrown
understand understood|undertake undertook undertaken|wake woke woken|wear wore worn|weave wove woven
win won|wind wound|withdraw withdrew withdrawn|write wrote written|overthrow overthrew overthrown
die death dead|born birth|marry marriage|live life|invent invention inventor|discover discovery discoverer
found founder foundation|decide decision|explain explanation|destroy destruction|arrive arrival
describe description|die died|fail failure|introduce introduction|succeed success successor|produce production
"""


@lru_cache(maxsize=1)
def _canon_map() -> dict[str, str]:
    mapping: dict[str, str] = {}
    for group in _GROUPS.replace("\n", "|").split("|"):
        words = group.split()
        if not words:
            continue
        base = _stem(words[0])
        for word in words:
            mapping.setdefault(_stem(word), base)
    return mapping


@lru_cache(maxsize=1)
def _variants() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for stem, base in _canon_map().items():
        out.setdefault(base, []).append(stem)
    return out


def canon(term: str) -> str:
    """The group term of a stemmed term (itself when it has no irregular forms)."""
    return _canon_map().get(term, term)


def variants(term: str) -> list[str]:
    """Every stemmed form in the group of `term` (at least `term`)."""
    forms = _variants().get(canon(term))
    return forms if forms else [term]


def expand_query(terms: list[str]) -> tuple[list[int], list[float]]:
    """Sparse query with every irregular form of each term (weight 1 each, distinct indices)."""
    indices = sorted({term_index(form) for term in terms for form in variants(term)})
    return indices, [1.0] * len(indices)
