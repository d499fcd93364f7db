"""Pairs: one pair's story at a time, its two versions side by side (projector and report)."""

from __future__ import annotations

from dataclasses import dataclass

from .. import exports, room
from . import View, register


@dataclass(frozen=True)
class PairWall:
    stories: list           # newest first
    left: object            # the two fields shown next to each other
    right: object
    partner: object         # the field naming the partner, or None


@register
class Pairs(View):
    name = "pairs"

    def shape(self, stories, exercise, *, snapshot, labelled, show_names):
        """The pairs, newest first, with the two fields to show side by side; without a
        `side_by_side` pair in the exercise file, the plain wall."""
        if not exercise.side_by_side:
            return super().shape(stories, exercise, snapshot=snapshot, labelled=labelled, show_names=show_names)
        left, right = (exercise.field(n) for n in exercise.side_by_side)
        return PairWall(stories=list(reversed(stories)), left=left, right=right, partner=exercise.partner_field)

    def stories_section(self, w, ctx, ex, told) -> None:
        """Each pair's story: who with whom, the two versions side by side, then the other fields."""
        from .. import report

        w.heading("The pairs", 2)
        partner = ex.partner_field
        pair = side_by_side_fields(ex)
        usable_w, _ = w.usable_mm()
        for s in told:
            a = report._answers(s)
            who = exports.author(s, ctx.show_names) or ("Someone" if s.function == room.OTHER_FUNCTIONS
                                                         else f"Someone from {s.function}")
            if exports.author(s, ctx.show_names):
                who += f" ({s.function})"
            heading = f"Pair {ctx.number.get(s.id, '')} · {who}"
            if partner is not None and a.get(partner.name):
                other = a.get(partner.name)
                shown = exports.shown_partner(other, ctx.show_names, ctx.partners)
                if ctx.show_names and isinstance(other, str) and other in ctx.partners:
                    shown += f" ({ctx.partners[other]})"
                heading += f" with {shown}"
            if ctx.votes is not None:
                heading += f" · {report._plural(ctx.votes_of(s), 'vote')}"
            start = w.mark()
            w.paragraph(heading, "Story Heading")
            skip = {partner.name} if partner is not None else set()
            if pair is not None:
                left, right = pair
                w.table([left.label, right.label], [[report._answer(left, a.get(left.name), ctx),
                                                     report._answer(right, a.get(right.name), ctx)]],
                        [usable_w / 2, usable_w / 2])
                skip |= {left.name, right.name}
            report._fields(w, ctx, ex, a, skip=skip)
            report._build_ons(w, ctx, ex, s)
            w.keep_together(start)
            ctx.tick(1)


def side_by_side_fields(ex):
    """The two fields a pair's story shows next to each other: the pair its file names in
    `side_by_side`, else the first two long text fields."""
    names = tuple(getattr(ex, "side_by_side", ()) or ())
    by_name = {f.name: f for f in ex.fields}
    if len(names) == 2 and all(n in by_name for n in names):
        return by_name[names[0]], by_name[names[1]]
    long = [f for f in ex.fields if f.kind == "long_text"]
    return (long[0], long[1]) if len(long) >= 2 else None
