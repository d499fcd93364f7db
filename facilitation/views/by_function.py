"""By function: the stories in one column per teller's function, the terminology wall beside them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from .. import room, rounds
from . import View, register


@dataclass(frozen=True)
class FunctionWall:
    groups: dict            # function (or OTHER_FUNCTIONS) → its stories, in the workshop's order
    glossary: list          # (term, meaning, function) rows, by term


@register
class ByFunction(View):
    name = "by_function"

    def shape(self, stories, exercise, *, snapshot, labelled, show_names):
        glossary = room.glossary(stories, exercise)
        if exercise.guess_first:  # a meaning stays off the wall until the room has guessed it
            glossary = room.glossary([t.story for t in rounds.terms(snapshot, exercise, stories)
                                      if t.state == "revealed"], exercise)
        if exercise.paced:  # in rounds: the wall shows the stories that have the headline's round
            stories = [s for s in stories if str(s.answers.get(exercise.headline, "")).strip()]
        return FunctionWall(groups=room.by_function(stories, snapshot.workshop.functions, labelled=labelled),
                            glossary=glossary)


def stories_by_function(w, ctx, ex, told) -> None:
    """Every story verbatim, grouped by the author's function (workshop order), every field labelled."""
    from .. import report

    w.heading(report._("Stories by function"), 2)
    by_function: dict[str, list] = defaultdict(list)
    for s in told:
        by_function[s.function].append(s)
    order = [f for f in ctx.functions if f in by_function] + sorted(set(by_function) - set(ctx.functions))
    for function in order:
        group = by_function[function]
        stories = report._np("{n} story", "{n} stories", len(group))
        w.heading(f"{report.function_name(function)} · {stories}", 3)
        for s in group:
            report._story(w, ctx, ex, s)
