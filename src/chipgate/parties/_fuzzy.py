"""The ``fuzzy-v1`` matcher: a recall-first candidate index, then a weighted scorer on the few candidates.

Stage 1, candidates. Every matchable name of every entry (see `matchable_names`) is read
into words: Han and Cyrillic to Latin (`latinize`), `normalize_name` (case, accents,
punctuation, legal forms), then `name_variants.yaml`'s synonyms (``langchao`` is
``inspur``, ``technologies`` is ``technology``). Each word points to the names that have
it. A query word the lists do not have is looked up by its one-letter deletions, so a
typo (one letter inserted, dropped, changed, or two swapped) still finds the listed word.
The names sharing the most weight with the query are scored in full.

Stage 2, score. Each word weighs its rarity in the lists (inverse document frequency),
half for places (Chinese companies are often named without their city) and joining
words. The score of a query against a listed name is

    0.8 * weighted Dice overlap of their words (a typo'd word counts at 1 - 0.6/length)
  + 0.2 * character similarity of their sorted words (rapidfuzz token_sort_ratio),

1.0 when the words are the same, times 0.93 when the two name different places or only
one names a place (sister companies differ by city). A country given with the query that none of the entry's
countries is multiplies the score by 0.92: the same name elsewhere is still worth a
look, but less sure. An identifier (``USCC:…``) on both sides decides: the same one is a
score of 1.0, a different one of the same scheme halves the name score.

Each hit carries these features, so an analyst can see why it scored as it did.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from functools import lru_cache

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from chipgate.parties._model import ListEntry, NameMatch
from chipgate.parties._normalize import LEGAL_FORMS_ANYWHERE
from chipgate.parties._scripts import name_variants
from chipgate.parties._words import FUZZY_NAME, FUZZY_VERSION, IndexedNames, indexed_names, skeleton, words

__all__ = ["FuzzyMatcher"]

# How much of the score the word overlap and the characters carry.
_OVERLAP_SHARE = 0.8
# A place name or a joining word weighs this share of its rarity.
_PLACE_FACTOR = 0.5
_JOINING_FACTOR = 0.2
_JOINING_WORDS = frozenset({"and", "of", "the", "for", "de", "in"})
_SHORT_FACTOR = 0.3
_PLACE_MISMATCH = 0.93
# Words not in the lists, remembered with the listed words one typo away.
_NEAR_CACHE = 100_000
_COUNTRY_MISMATCH = 0.92
_IDENTIFIER_CONFLICT = 0.5
# Names scored in full per query, best candidates first.
_SCORED = 8
# Names carrying a word more often than this do not become candidates through it alone.
_COMMON_POSTINGS = 150
# Candidates whose overlap is computed in full, at most.
_CANDIDATES = 16
# Up to this many postings in all, a query's overlaps are summed in plain Python.
_FEW_POSTINGS = 100
_MIN_TYPO_LENGTH = 4
# A word one typo from a listed word counts 1 - _TYPO_COST / its length of that word's weight.
_TYPO_COST = 0.6
# Legal-form words long enough that one typo in them is still recognisably the word.
_LONG_LEGAL_WORDS = tuple(sorted({word for form in LEGAL_FORMS_ANYWHERE for word in form if len(word) >= 5}))


def _deletions(word: str) -> list[str]:
    return [word[:i] + word[i + 1 :] for i in range(len(word))]


class _TypoIndex:
    """The spellings one typo from a word may be, found through one-letter deletions: a typo
    (a letter inserted, dropped, changed, or two swapped) leaves the word and the spelling
    with a deletion in common, or one of them equal to a deletion of the other. Also each
    spelling's romanisation skeleton -> the spellings.

    Each spelling and each of its deletions is a key. Nearly every key comes from one
    spelling, kept as a string in `_first`; the others landing on a key (two thousand
    keys have any) are listed in `_more`. Fifty thousand one-item lists would take a third
    of the time of the build, which a batch waits for.
    """

    __slots__ = ("_first", "_more", "by_skeleton")

    def __init__(self, spellings: Iterable[str], skeletons: Mapping[str, str]) -> None:
        """Index `spellings`; `skeletons` holds the skeletons of those computed earlier."""
        self._first: dict[str, str] = {}
        self._more: dict[str, list[str]] = {}
        self.by_skeleton: dict[str, list[str]] = {}
        first, more = self._first, self._more
        for spelling in spellings:
            if len(spelling) < _MIN_TYPO_LENGTH:
                continue
            # Deleting the letter at each i, and at i = len(spelling) none: the spelling itself.
            for i in range(len(spelling) + 1):
                key = spelling[:i] + spelling[i + 1 :]
                # A spelling landing on a key twice ("committee" less either "t") is listed
                # once: the look-up would skip it the second time.
                if first.setdefault(key, spelling) != spelling:
                    more.setdefault(key, []).append(spelling)
            sound = skeletons[spelling] if spelling in skeletons else skeleton(spelling)
            self.by_skeleton.setdefault(sound, []).append(spelling)

    def sharing_a_deletion(self, word: str) -> Iterator[str]:
        """The spellings `word` or one of its deletions is a key of; some are more than one typo away.

        In a fixed order (the word, then its deletions left to right): the first spelling found
        for a listed word gives its similarity, so the order must not be a set's.
        """
        for key in dict.fromkeys((word, *_deletions(word))):
            spelling = self._first.get(key)
            if spelling is not None:
                yield spelling
                yield from self._more.get(key, ())


class FuzzyMatcher:
    """Ranked, scored matches that survive typos, word order, legal forms and other scripts."""

    name: str = FUZZY_NAME
    version: str = FUZZY_VERSION

    def __init__(self, entries: Sequence[ListEntry], names: IndexedNames | None = None) -> None:
        """Index `entries`; `names` are their `indexed_names`, when computed earlier."""
        self._entries = tuple(entries)
        places = name_variants().place_words
        if names is None:
            names = indexed_names(self._entries)
        # Name n, as parallel lists rather than one object per name: the matcher is built on
        # the way to the first decision of a batch, and nine thousand small objects cost more
        # to make than a few lists.
        self._name_entry = names.entry
        self._name_raw = names.raw
        self._skeletons = names.skeletons
        split = [text.split() for text in names.words]
        self._name_words = [frozenset(found) for found in split]
        # The words sorted and joined: compared by character similarity, and the key of an exact match.
        self._name_text = [" ".join(sorted(found)) for found in split]
        # Read in the names' own word order, not a frozenset's: the order of `postings` is
        # the order the typo index is built in, and a frozenset of strings iterates in an
        # order that changes with PYTHONHASHSEED (and with it, which spelling a look-up finds first).
        postings: dict[str, list[int]] = {}
        for n, found in enumerate(split):
            for word in found:
                ids = postings.get(word)
                if ids is None:
                    postings[word] = [n]
                elif ids[-1] != n:  # a word twice in one name is one posting
                    ids.append(n)
        count = len(split)
        self._unseen_weight = math.log((count + 1) / 0.5)
        # A word's frequency is the number of names that have it: its postings.
        self._weights = {
            word: math.log((count + 1) / (len(ids) + 0.5)) * _factor(word, places) for word, ids in postings.items()
        }
        self._places = places
        weight = self._weights.__getitem__
        # Summed over the name's words in their order, not the frozenset's: float addition
        # is not associative and a frozenset's order changes with PYTHONHASHSEED, so names
        # of equal weight (the CSSC research institutes) differed in the last bit from one
        # process to the next, and with them which of those tied names were kept as candidates.
        self._name_weight_list = [sum(map(weight, dict.fromkeys(found))) for found in split]
        self._name_weights = np.array(self._name_weight_list)
        self._exact: dict[str, list[int]] = {}
        for n, text in enumerate(self._name_text):
            self._exact.setdefault(text, []).append(n)
        self._postings_list = postings
        # As numpy arrays, made on first use by a query with many postings.
        self._postings: dict[str, np.ndarray] = {}
        self._sizes = {word: len(ids) for word, ids in postings.items()}
        self._common = frozenset(word for word, ids in postings.items() if len(ids) > _COMMON_POSTINGS)
        # Spellings one typo can reach: the listed words, and the other spellings the
        # synonyms turn into a listed word ("technologies" for "technology").
        self._spelling: dict[str, str] = {word: word for word in self._postings_list}
        for phrase, replacement in name_variants().synonyms.items():
            if len(phrase) == 1 and len(replacement) == 1 and replacement[0] in self._postings_list:
                self._spelling.setdefault(phrase[0], replacement[0])
        # Built on the first word not in the lists (a few hundredths of a second), not before.
        self._typos: _TypoIndex | None = None
        self._near: dict[str, list[tuple[str, float]]] = {}
        self._by_identifier: dict[str, list[int]] = {}
        for i, entry in enumerate(self._entries):
            for identifier in entry.identifiers:
                self._by_identifier.setdefault(identifier.upper(), []).append(i)

    def match(
        self,
        query: str,
        *,
        country: str | None = None,
        identifiers: Collection[str] = (),
        floor: float = 0.0,
    ) -> tuple[NameMatch, ...]:
        """Entries scoring at least `floor`, best first (then by list code and record id)."""
        found = words(query)
        best: dict[int, tuple[float, int, dict[str, float]]] = {}
        if found:
            for n, score, features in self._scored_names(found, floor):
                owner = self._name_entry[n]
                if owner not in best or score > best[owner][0]:
                    best[owner] = (score, n, features)
        wanted = {identifier.upper() for identifier in identifiers}
        for identifier in wanted:
            for owner in self._by_identifier.get(identifier, ()):
                n = best[owner][1] if owner in best else -1
                best[owner] = (1.0, n, {"identifier": 1.0})
        country = country.upper() if country else None
        hits: list[NameMatch] = []
        for entry_index, (score, n, features) in best.items():
            entry = self._entries[entry_index]
            if features.get("identifier") != 1.0:
                score = self._adjust(entry, score, features, country, wanted)
            if score < floor:
                continue
            hits.append(
                NameMatch(
                    entry=entry,
                    query=query,
                    matched_name=self._name_raw[n] if n >= 0 else entry.name,
                    matcher=self.name,
                    score=round(score, 4),
                    features={name: round(value, 4) for name, value in features.items()},
                )
            )
        hits.sort(key=lambda m: (-m.score, m.entry.list_code, m.entry.record_id))
        return tuple(hits)

    def _adjust(
        self,
        entry: ListEntry,
        score: float,
        features: dict[str, float],
        country: str | None,
        identifiers: Collection[str],
    ) -> float:
        if country is not None and entry.countries:
            agrees = country in entry.countries
            features["country"] = 1.0 if agrees else 0.0
            if not agrees:
                score *= _COUNTRY_MISMATCH
        if identifiers and entry.identifiers:
            schemes = {identifier.split(":", 1)[0] for identifier in identifiers}
            if any(listed.split(":", 1)[0].upper() in schemes for listed in entry.identifiers):
                # Both sides name an identifier of one scheme and they differ: another company.
                features["identifier"] = 0.0
                score *= _IDENTIFIER_CONFLICT
        return score

    def _scored_names(self, found: tuple[str, ...], floor: float) -> Iterable[tuple[int, float, dict[str, float]]]:
        exact = self._exact.get(" ".join(sorted(found)), ())
        for n in exact:
            yield n, 1.0, {"words": 1.0, "characters": 1.0}
        query_words = self._query_words(found)
        if not query_words:
            return  # nothing left but misspelt legal forms
        options = [self._options(word) for word in query_words]
        query_weight = sum(
            self._weights[alternatives[0][0]] if alternatives else self._unseen(word)
            for word, alternatives in zip(query_words, options, strict=True)
        )
        text = " ".join(sorted(query_words))
        name_text, name_words = self._name_text, self._name_words
        # A misspelt place is still that place.
        query_places = self._places.intersection(found, (words[0][0] for words in options if words))
        # A name whose words overlap too little cannot reach `floor` even with every
        # character alike; the adjustments below only lower a score.
        least = (floor - (1 - _OVERLAP_SHARE)) / _OVERLAP_SHARE
        # The best any name can do is to be exactly the query's listed words: when even that
        # overlaps too little (an invented name with a word or two in common), stop here.
        reachable = sum(max(self._weights[w] * sim for w, sim in words) for words in options if words)
        if 2 * reachable / (query_weight + reachable) < least:
            return
        for n, dice in self._overlaps(options, query_weight):
            if n in exact or dice < least:
                continue
            characters = fuzz.token_sort_ratio(text, name_text[n], processor=None) / 100
            score = _OVERLAP_SHARE * dice + (1 - _OVERLAP_SHARE) * characters
            features = {"words": dice, "characters": characters}
            if query_places != self._places.intersection(name_words[n]):
                # Sister companies differ by their city ("Huawei Cloud Beijing", "... Shanghai"):
                # a place left out or different keeps a name from being sure.
                score *= _PLACE_MISMATCH
                features["places"] = 0.0
            yield n, score, features

    def warm(self) -> None:
        """Build now what the first query would otherwise build (the typo index)."""
        self._typo_index()

    def _typo_index(self) -> _TypoIndex:
        if self._typos is None:
            self._typos = _TypoIndex(self._spelling, self._skeletons)
        return self._typos

    def _query_words(self, found: tuple[str, ...]) -> tuple[str, ...]:
        """The query's words, read as the lists would write them: two words that are one
        listed word run together ("sense time" -> "sensetime"); a misspelt legal form
        ("limted", "compnay") dropped as `normalize_name` drops the right one; and two
        listed words run together and found no other way split ("cloudwalktechnology")."""
        joined: list[str] = []
        i = 0
        while i < len(found):
            pair = found[i] + found[i + 1] if i + 1 < len(found) else ""
            if pair in self._postings_list:
                joined.append(pair)
                i += 2
            else:
                joined.append(found[i])
                i += 1
        out: list[str] = []
        for word in joined:
            if word in self._postings_list or len(word) < _MIN_TYPO_LENGTH:
                out.append(word)
            elif _is_legal_form_typo(word):
                continue
            elif self._options(word):
                out.append(word)
            else:
                out += self._split(word)
        return tuple(dict.fromkeys(out))

    def _split(self, word: str) -> list[str]:
        postings = self._postings_list
        splits = [
            (word[:i], word[i:]) for i in range(3, len(word) - 2) if word[:i] in postings and word[i:] in postings
        ]
        if not splits:
            return [word]
        left, right = max(splits, key=lambda pair: min(len(pair[0]), len(pair[1])))
        return [left, right]

    def _options(self, word: str) -> list[tuple[str, float]]:
        """The listed words `word` may be: itself, else those one typo away, best first."""
        if word in self._postings_list:
            return [(word, 1.0)]
        if len(word) < _MIN_TYPO_LENGTH:
            return []
        known = self._near.get(word)
        if known is not None:
            return known
        if len(self._near) >= _NEAR_CACHE:
            self._near.clear()
        near: dict[str, float] = {}
        typos = self._typo_index()
        for spelling in typos.sharing_a_deletion(word):
            listed = self._spelling[spelling]
            if listed not in near and OSA.distance(word, spelling, score_cutoff=1) <= 1:
                near[listed] = 1 - _TYPO_COST / max(len(word), len(spelling))
        # Another romanisation of the same sounds ("elektroniks", "rosoboroneksport"): as sure as a typo.
        for spelling in typos.by_skeleton.get(skeleton(word), ()):
            listed = self._spelling[spelling]
            near.setdefault(listed, 1 - _TYPO_COST / max(len(word), len(spelling)))
        # Closest first; among equals the commoner word, the likelier one to have been meant
        # (its weight is the one the query is taken to carry); then alphabetically, so that
        # the first option (the weight and place the query word is read as) is always the same.
        found = self._near[word] = sorted(near.items(), key=lambda item: (-item[1], self._weights[item[0]], item[0]))
        return found

    def _overlaps(self, options: list[list[tuple[str, float]]], query_weight: float) -> list[tuple[int, float]]:
        """The names sharing the most with the query, with their weighted Dice overlap.

        Each query word adds its weight (times its similarity, for a typo) to every name
        that has it; where a word has several near spellings, a name is credited with the
        best one only. Words on very many names ("technology", "beijing") weigh little and
        cannot make a candidate: the rarer words gather the candidates, and the common ones
        are then added to those candidates' overlaps only.
        """
        common_words = self._common
        rare = [a for a in options if not a or any(w not in common_words for w, _ in a)]
        common = [a for a in options if a and all(w in common_words for w, _ in a)]
        if not any(rare):
            rare, common = options, []
        sizes = self._sizes
        if sum(sizes[word] for alternatives in rare for word, _ in alternatives) <= _FEW_POSTINGS:
            shared = self._few_shared(rare)
        else:
            shared = self._many_shared(rare, query_weight)
        name_words = self._name_words
        name_weight = self._name_weight_list
        if len(shared) > _CANDIDATES:
            shared = dict(heapq.nlargest(_CANDIDATES, shared.items(), key=lambda item: item[1] / name_weight[item[0]]))
        if common:
            # The common words' weights, credited to the candidates that have them.
            single = [(a[0][0], self._weights[a[0][0]] * a[0][1]) for a in common if len(a) == 1]
            several = [[(w, self._weights[w] * sim) for w, sim in a] for a in common if len(a) > 1]
            for n in shared:
                words_of_n = name_words[n]
                for word, weight in single:
                    if word in words_of_n:
                        shared[n] += weight
                for credits in several:
                    shared[n] += max((weight for word, weight in credits if word in words_of_n), default=0.0)
        ranked = sorted(((2 * total / (query_weight + name_weight[n]), n) for n, total in shared.items()), reverse=True)
        return [(n, min(1.0, dice)) for dice, n in ranked[:_SCORED]]

    def _many_shared(self, options: list[list[tuple[str, float]]], query_weight: float) -> dict[int, float]:
        """Shared weight of the names sharing the most with the query, summed in numpy."""
        shared = np.zeros(len(self._name_text))
        touched: list[np.ndarray] = []
        for alternatives in options:
            if len(alternatives) == 1:
                word, sim = alternatives[0]
                ids = self._array(word)
                shared[ids] += self._weights[word] * sim
                touched.append(ids)
            elif alternatives:
                best = np.zeros(len(self._name_text))
                for word, sim in alternatives:
                    ids = self._array(word)
                    best[ids] = np.maximum(best[ids], self._weights[word] * sim)
                    touched.append(ids)
                shared += best
        ids = np.concatenate(touched) if len(touched) > 1 else touched[0]
        estimate = shared[ids] / (query_weight + self._name_weights[ids])
        if ids.size > _CANDIDATES:
            # A name appears once per word it shares, so keep a few more than needed.
            keep = np.argpartition(-estimate, _CANDIDATES)[:_CANDIDATES]
            ids = ids[keep]
        return dict(zip(ids.tolist(), shared[ids].tolist(), strict=True))

    def _array(self, word: str) -> np.ndarray:
        found = self._postings.get(word)
        if found is None:
            found = self._postings[word] = np.array(self._postings_list[word], dtype=np.int32)
        return found

    def _few_shared(self, options: list[list[tuple[str, float]]]) -> dict[int, float]:
        """Shared weight per name for queries whose words are rare: plain loops beat numpy's per-call cost."""
        shared: dict[int, float] = {}
        for alternatives in options:
            credited: dict[int, float] = {}
            for word, sim in alternatives:
                weight = self._weights[word] * sim
                for n in self._postings_list[word]:
                    if credited.get(n, 0.0) < weight:
                        credited[n] = weight
            for n, weight in credited.items():
                shared[n] = shared.get(n, 0.0) + weight
        return shared

    def _unseen(self, word: str) -> float:
        return self._unseen_weight * _factor(word, self._places)


@lru_cache(maxsize=4096)
def _is_legal_form_typo(word: str) -> bool:
    return any(form[0] == word[0] and OSA.distance(word, form, score_cutoff=1) <= 1 for form in _LONG_LEGAL_WORDS)


def _factor(word: str, places: frozenset[str]) -> float:
    if word in _JOINING_WORDS:
        return _JOINING_FACTOR
    if word in places:
        return _PLACE_FACTOR
    if len(word) <= 2:
        # A stray letter pair ("lt", "oo") identifies little.
        return _SHORT_FACTOR
    return 1.0
