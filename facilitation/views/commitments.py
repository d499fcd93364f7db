"""Commitments: a board by function pair (who → whom); in the report, one table by date."""

from __future__ import annotations

from dataclasses import dataclass

from .. import commitments, exports, room
from . import View, register


@dataclass(frozen=True)
class Board:
    pairs: dict                         # (teller's function, the function it connects to) → its commitments
    facts: commitments.BoardFacts       # the first date on the board, the functions nobody connected to


@register
class Commitments(View):
    name = "commitments"
    collects_commitments = True

    def shape(self, stories, exercise, *, snapshot, labelled, show_names):
        """(teller's function → the function it connects to) → its commitments, in workshop order."""
        return Board(pairs=room.commitment_board(stories, exercise, snapshot.workshop.functions),
                     facts=commitments.board_facts(snapshot, exercise, stories))

    def report_section(self, w, ctx, ex, told) -> None:
        """The commitments as one table, ready to paste into a follow-up email: every field as a
        column, then who committed. Sorted by date (the first date field), then function."""
        from .. import report

        w.heading(report._("Commitments"), 2)
        if not told:
            return
        fields = list(ex.fields)
        date_f = next((f for f in fields if f.kind == "date"), None)

        def when(s) -> str:
            value = report._answers(s).get(date_f.name) if date_f else None
            return str(value) if value else "9999"

        ordered = sorted(told, key=lambda s: (when(s), s.function.casefold(), ctx.number.get(s.id, 0)))
        usable_w, _height = w.usable_mm()
        rows = []
        for s in ordered:
            a = report._answers(s)
            name = exports.author(s, ctx.show_names)
            who = [(name, True), (s.function, False)] if name else report.function_name(s.function)
            rows.append([report._answer(f, a.get(f.name), ctx) if a.get(f.name) not in (None, "") else ""
                         for f in fields] + [who])
        header = [report.short_label(f) for f in fields] + [report._("Who")]
        w.table(header, rows, report.fit_widths(header, rows, usable_w))
        who = report._("the person and their function") if ctx.show_names else report._("their function")
        w.paragraph(report._("Columns: {columns}.").format(columns="; ".join(
            [f"{report.short_label(f)}: {f.label}" for f in fields] + [f"{report._('Who')}: {who}"])), "Caption")
        if getattr(ctx, "snapshot", None) is not None and ex.board_by:
            facts = commitments.board_facts(ctx.snapshot, ex, told)
            if facts.earliest:
                w.paragraph(report._("First date on the board: {date}, a good day to check back.").format(
                    date=report._date(facts.earliest)))
            w.paragraph(report._("Functions in the room nobody connected to: {functions}.").format(
                functions=", ".join(facts.nobody_connected) or report._("none")))
        for s in ordered:
            if ctx.additions.get(s.id):
                w.paragraph(report._("Added to the commitment of story {number}").format(
                    number=ctx.number.get(s.id, "")), "Story Label")
                report._build_ons(w, ctx, ex, s)
        ctx.tick(len(told))
