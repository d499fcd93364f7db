"""Then and now: a story the company tells about itself beside where it is happening again today
(Always be storytelling, round 2). On the projector, three to a screen; in the report, one table.

The report table is written for every exercise whose file names a `then_and_now` pair of fields,
whatever its report view (as the glossary is).
"""

from __future__ import annotations

from . import View, register


@register
class ThenAndNow(View):
    name = "then_and_now"

    def shape(self, stories, exercise, *, snapshot, labelled, show_names):
        """The stories that tell a company story, newest first."""
        then_field = exercise.then_and_now[0] if exercise.then_and_now else exercise.headline
        return [s for s in reversed(stories) if str(s.answers.get(then_field, "")).strip()]


def then_and_now_section(w, ctx, ex, told) -> None:
    """The company's stories, each beside where it happens again today, and who told it."""
    from .. import exports, report

    names = tuple(getattr(ex, "then_and_now", ()) or ())
    if len(names) != 2:
        return
    then_f, now_f = (ex.field(n) for n in names)
    rows = []
    for s in told:
        a = report._answers(s)
        if a.get(then_f.name) in (None, ""):
            continue
        name = exports.author(s, ctx.show_names)
        rows.append([report._answer(then_f, a.get(then_f.name), ctx), report._answer(now_f, a.get(now_f.name), ctx) or "—",
                     [(name, True), (s.function, False)] if name else report.function_name(s.function)])
    w.heading(report._("The company's story, then and now"), 2)
    if not rows:
        w.paragraph(report._("Nobody told a company story."))
        return
    w.paragraph(report._("Left: {left} Right: {right}").format(left=then_f.label, right=now_f.label), "Caption")
    usable_w, _height = w.usable_mm()
    w.table([report._("The story we tell"), report._("Where it happens again today"), report._("Told by")], rows,
            [(usable_w - 35) / 2, (usable_w - 35) / 2, 35])
