"""Story bank: the room sees each story with the practice it comes from, one column per function
(so the same habit showing up in several functions is in plain sight); the report turns the
top-voted stories cleared for retelling into a story bank listed by who should tell it to whom.

Fields it reads by name when the exercise has them: `practice` (the routine the story comes from),
`said_after` (what the customer said or did afterwards), `may_retell` (a choice whose LAST option
means "no, it stays in this room"), `teller` (the function that should tell it) and `audience`
(to whom). A story whose teller said no stays in the room: on the projector and the phones, never
in the report, the story bank or an export. Stories told before `may_retell` existed (old
archives) were never asked: they stay in the report as before, but never go in the story bank.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import i18n, room
from . import View, register

PRACTICE, SAID_AFTER, RETELL, TELLER, AUDIENCE = "practice", "said_after", "may_retell", "teller", "audience"
BANK_SIZE = 8           # stories in the story bank at most (the top-voted ones)


def _field(exercise, name):
    return next((f for f in exercise.fields if f.name == name), None)


def cleared(exercise, story) -> bool | None:
    """True when the teller cleared the story for retelling, False when they said no, None when the
    exercise never asked (no `may_retell` field, or a story told before it existed)."""
    f = _field(exercise, RETELL)
    answers = story.answers if isinstance(story.answers, dict) else {}
    value = answers.get(RETELL)
    if f is None or not f.options or not value:
        return None
    return value != f.options[-1]


@dataclass(frozen=True)
class PracticeWall:
    groups: dict            # teller's function (or OTHER_FUNCTIONS) → its stories, newest first
    practice: object        # the practice field, or None
    said_after: object      # the "what the customer said afterwards" field, or None
    functions: int          # how many functions the room may count the practices from


@register
class StoryBank(View):
    name = "story_bank"
    ranks_by_votes = True

    def stays_in_room(self, exercise, story) -> bool:
        return cleared(exercise, story) is False

    def shape(self, stories, exercise, *, snapshot, labelled, show_names):
        groups = room.by_function(list(reversed(stories)), snapshot.workshop.functions, labelled=labelled)
        return PracticeWall(groups=groups, practice=_field(exercise, PRACTICE), said_after=_field(exercise, SAID_AFTER),
                            functions=len(groups))

    def stories_section(self, w, ctx, ex, told) -> None:
        """The story bank (top-voted stories cleared for retelling, by teller → audience), then the
        other stories by votes, then how many stayed in the room."""
        from .. import report

        teller_f, audience_f = _field(ex, TELLER), _field(ex, AUDIENCE)
        votes = ctx.votes_of if ctx.votes is not None else (lambda s: 0)
        any_votes = any(votes(s) for s in told)
        ranked = sorted(told, key=lambda s: -votes(s))
        can_bank = [s for s in ranked if cleared(ex, s)]
        bank = [s for s in can_bank if votes(s)][:BANK_SIZE] if any_votes else can_bank[:BANK_SIZE]

        def answer(s, f) -> str:
            return str(report._answers(s).get(f.name) or "") if f is not None else ""

        def shown(s, f) -> str:
            """An answer as the report reads it (a choice in the report's language)."""
            value = answer(s, f)
            return f.option_label(value) if value and f is not None and f.kind == "choice" else value

        _ = report._
        w.heading(_("Story bank"), 2)
        if not bank:
            w.paragraph(_("No story was both voted for and cleared for retelling, so the story bank is empty.")
                        if any_votes or not can_bank else _("No story was cleared for retelling."))
        else:
            w.paragraph(_("The stories with the most votes that their tellers cleared for retelling, listed by who "
                          "should tell them and to whom.") if any_votes else
                        _("No votes were cast: every story cleared for retelling, listed by who should tell them "
                          "and to whom."), "Caption")
            order = {f: i for i, f in enumerate(ctx.functions)}
            audiences = {a: i for i, a in enumerate(audience_f.options if audience_f is not None else ())}

            def place(s):
                t, a = answer(s, teller_f), answer(s, audience_f)
                return (not t, order.get(t, len(order)), t, audiences.get(a, len(audiences)), a, -votes(s))

            bank.sort(key=place)
            usable_w, _height = w.usable_mm()
            rows = [[shown(s, teller_f) or _("(not said)"), shown(s, audience_f) or _("(not said)"),
                     report.shorten(answer(s, _field(ex, ex.headline)), 160), report._num(votes(s))] for s in bank]
            w.table([_("Who tells it"), _("To whom"), _("Story"), _("Votes")], rows, [34, 40, usable_w - 90, 16])
            shown_teller = None
            for s in bank:
                t = shown(s, teller_f)
                if t != shown_teller:
                    w.heading(_("{function} should tell").format(function=t) if t else _("Nobody named should tell"), 3)
                    shown_teller = t
                a = shown(s, audience_f)
                to = _("To {audience}").format(audience=i18n.inside_sentence(a, ex.language)) if a else _("To anyone")
                heading = f"{to} · " + report._story_heading(ctx, s, function=True)
                report._story(w, ctx, ex, s, heading=heading)
        rest = [s for s in ranked if s not in bank]
        if rest:
            w.heading(_("The other stories, by votes") if any_votes else _("The other stories"), 2)
            for s in rest:
                heading = report._story_heading(ctx, s, function=True)
                if cleared(ex, s) is None:
                    heading += " · " + _("retelling not asked")
                report._story(w, ctx, ex, s, heading=heading)
        kept = ctx.kept_in_room.get(ex.key, 0)
        if kept:
            w.paragraph(report._np("{n} story was not cleared for retelling: told in the room, kept out of this report.",
                                   "{n} stories were not cleared for retelling: told in the room, kept out of this "
                                   "report.", kept), "Caption")
