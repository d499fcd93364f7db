"""Cards: each story as a card with its number large and the client story under it, grouped by
kind of number; the stories the room built on most come first and are drawn larger.

What the view reads from the exercise file, without keys of its own: the number is the
headline field (`[room] headline`), the kind of number is the first `choice` field (its options
give the order of the groups), and the client story is every long text field, in file order.
Additions ("build on it") come with the adder's byline under the workshop's anonymity rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import room
from ..i18n import N_
from . import View, register

# How many cards of the room are drawn larger: the most built-on ones (with at least one addition).
GROWN = 2
NO_KIND = N_("Kind not given")


@dataclass(frozen=True)
class Addition:
    text: str
    byline: str             # who added it, as the room may see it ('' when nothing may be said)


@dataclass(frozen=True)
class Card:
    story: object
    number: str
    client_story: list      # (short label, text) for each long text field answered
    additions: list         # Addition, oldest first
    grown: bool             # among the most built-on in the room: drawn larger


@dataclass(frozen=True)
class CardWall:
    groups: list            # (kind of number, [Card]), in the order of the kind field's options
    kind_label: str         # the kind field's label, '' when the exercise has none
    kind: object = None     # the kind field (exercises.Field), None when the exercise has none

    def group_name(self, group: str, gettext) -> str:
        """A group's heading as the room reads it (see `kind_name`)."""
        return kind_name(self.kind, group, gettext)


def kind_name(kind, group: str, gettext) -> str:
    """A group of cards named in the room's language: the kind field's option label for the stored
    option, "Kind not given" for cards without one."""
    return gettext(NO_KIND) if group == NO_KIND or kind is None else kind.option_label(group)


def kind_field(exercise):
    """The field that says which kind of number a story is about: the first choice field."""
    return next((f for f in exercise.fields if f.kind == "choice"), None)


def story_fields(exercise):
    """The fields that tell the client story under the number: the long text fields."""
    return [f for f in exercise.fields if f.kind == "long_text" and f.name != exercise.headline]


def addition_text(addition) -> str:
    answers = addition.answers if isinstance(addition.answers, dict) else {}
    return str(answers.get("addition", next(iter(answers.values()), "") if answers else ""))


def cards(stories, exercise, snapshot, *, labelled: set[str], show_names: bool) -> CardWall:
    """The room's stories as cards grouped by kind of number; most built-on first in each group
    (ties: newest first), and the `GROWN` most built-on of the room drawn larger."""
    from ..report import short_label

    kind = kind_field(exercise)
    fields = story_fields(exercise)
    made = []
    for s in stories:
        answers = s.answers if isinstance(s.answers, dict) else {}
        # With names on every adder's function is shown; off, only those the rule lets the room name.
        additions = [Addition(addition_text(a), room.byline(a, show_names=show_names,
                                                             labelled=labelled | {a.function} if show_names else labelled))
                     for a in snapshot.build_ons(s.id)]
        made.append(Card(story=s, number=str(answers.get(exercise.headline, "") or ""),
                         client_story=[(short_label(f), str(answers[f.name])) for f in fields
                                       if str(answers.get(f.name, "") or "").strip()],
                         additions=additions, grown=False))
    arrival = {s.id: i for i, s in enumerate(stories)}
    made.sort(key=lambda c: (-len(c.additions), -arrival[c.story.id]))
    top = {c.story.id for c in made[:GROWN] if c.additions}
    made = [Card(c.story, c.number, c.client_story, c.additions, c.story.id in top) for c in made]
    groups: dict[str, list] = {}
    order = list(kind.options) if kind is not None else []
    for c in made:
        value = c.story.answers.get(kind.name) if kind is not None and isinstance(c.story.answers, dict) else None
        groups.setdefault(str(value) if value else NO_KIND, []).append(c)
    rank = {k: i for i, k in enumerate(order)}
    ordered = sorted(groups.items(), key=lambda kv: (kv[0] == NO_KIND, rank.get(kv[0], len(rank)), kv[0]))
    return CardWall(groups=ordered, kind_label=kind.label if kind is not None else "", kind=kind)


@register
class Cards(View):
    name = "cards"
    draws_build_ons = True

    def shape(self, stories, exercise, *, snapshot, labelled, show_names):
        return cards(stories, exercise, snapshot, labelled=labelled, show_names=show_names)

    def stories_section(self, w, ctx, ex, told) -> None:
        """The most built-on cards as a table, then every card by kind of number, most built-on
        first, each with its additions and who added them (function, and name when names are on)."""
        from .. import report

        kind = kind_field(ex)
        built = sorted((s for s in told if ctx.additions.get(s.id)), key=lambda s: -len(ctx.additions[s.id]))
        if built:
            w.heading(report._("The most built-on numbers"), 2)
            w.paragraph(report._("The cards other functions added most to; the functions that added to each, in "
                                 "brackets after the count."), "Caption")
            usable_w, _height = w.usable_mm()
            rows = []
            for s in built[:report.TOP_VOTED * 2]:
                adders = list(dict.fromkeys(report.function_name(a.function) for a in ctx.additions[s.id]))
                rows.append([str(ctx.number.get(s.id, "")), report._answer(ex.field(ex.headline),
                                                                            report._answers(s).get(ex.headline), ctx),
                             f"{report._num(len(ctx.additions[s.id]))} ({', '.join(adders)})"])
            w.table([report._("Story"), report.short_label(ex.field(ex.headline)), report._("Additions (from)")], rows,
                    [16, usable_w - 76, 60])
        w.heading(report._("Cards by kind of number") if kind is not None else report._("Cards"), 2)
        groups: dict[str, list] = {}
        for s in sorted(told, key=lambda s: -len(ctx.additions.get(s.id, ()))):
            value = report._answers(s).get(kind.name) if kind is not None else None
            groups.setdefault(str(value) if value else NO_KIND, []).append(s)
        rank = {k: i for i, k in enumerate(kind.options if kind is not None else ())}
        for group, stories in sorted(groups.items(), key=lambda kv: (kv[0] == NO_KIND, rank.get(kv[0], len(rank)))):
            if kind is not None:
                cards = report._np("{n} card", "{n} cards", len(stories))
                w.heading(f"{kind_name(kind, group, report._)} · {cards}", 3)
            for s in stories:
                n = len(ctx.additions.get(s.id, ()))
                heading = report._story_heading(ctx, s, function=True)
                if n:
                    heading += " · " + report._np("built on {n} time", "built on {n} times", n)
                report._story(w, ctx, ex, s, heading=heading)
