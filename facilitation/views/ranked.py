"""Ranked: the wall on the projector; in the report, the stories by votes, most first."""

from . import View, register


@register
class Ranked(View):
    name = "ranked"
    ranks_by_votes = True

    def stories_section(self, w, ctx, ex, told) -> None:
        """Stories by votes, most first (ties in the order they arrived)."""
        from .. import report

        if ctx.votes is None or not any(ctx.votes_of(s) for s in told):
            w.heading(report._("Stories in the order they arrived"), 2)
            w.paragraph(report._("No votes were cast in this exercise, so the stories are not ranked."), "Caption")
            ranked = told
        else:
            w.heading(report._("Stories ranked by votes"), 2)
            w.paragraph(report._("Most votes first; stories with as many votes keep the order they arrived in."),
                        "Caption")
            ranked = sorted(told, key=lambda s: -ctx.votes_of(s))
        for rank, s in enumerate(ranked, 1):
            prefix = f"{rank}. " if ranked is not told else ""
            heading = prefix + report._story_heading(ctx, s, function=True)
            report._story(w, ctx, ex, s, heading=heading)
