"""Guess first: the terminology wall played one term at a time (Always be storytelling, round 3).
The term up, the other functions' guesses as they arrive, then its meaning; beside it the terms
revealed so far. In the report, the glossary carries each term's guesses (views/glossary.py).
The rules (who guesses, when, the reveal) are in facilitation/rounds.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import rounds
from . import View, register


@dataclass(frozen=True)
class GuessWall:
    terms: list                 # rounds.Term, in the order they were put up, then the ones not played yet
    current: object             # the Term up now (None before the first)
    labelled: set               # guessers' functions the anonymity rule lets the room see named


@register
class GuessFirst(View):
    name = "guess_first"
    glossary_by_default = True

    def shape(self, stories, exercise, *, snapshot, labelled, show_names):
        wall = rounds.terms(snapshot, exercise, stories)
        return GuessWall(terms=wall, current=next((t for t in wall if t.current), None),
                         labelled=rounds.guess_labels(snapshot, exercise))
