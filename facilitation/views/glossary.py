"""Glossary: the wall on the projector; in the report, a two-column glossary before the stories.

The glossary section is written for every exercise whose file names a `glossary` pair of fields.
"""

from __future__ import annotations

from . import View, register


@register
class Glossary(View):
    name = "glossary"
    glossary_by_default = True


def glossary_fields(ex):
    """The (term, meaning) fields of an exercise's glossary: the pair its file names in
    `glossary`; for an exercise whose report view is a glossary and names none, its first
    two text fields; else None."""
    from . import get

    names = tuple(getattr(ex, "glossary", ()) or ())
    by_name = {f.name: f for f in ex.fields}
    if len(names) == 2 and all(n in by_name for n in names):
        return by_name[names[0]], by_name[names[1]]
    if get(ex.report_view).glossary_by_default:
        text = [f for f in ex.fields if f.is_text]
        if len(text) >= 2:
            return text[0], text[1]
    return None


def glossary_section(w, ctx, ex, told) -> None:
    """The exercise's glossary as a table, terms in order, each with the function it comes from."""
    from .. import report

    pair = glossary_fields(ex)
    if pair is None:
        return
    term_f, meaning_f = pair
    entries = []
    for s in told:
        a = report._answers(s)
        term = a.get(term_f.name)
        if term is None or not str(term).strip():
            continue
        entries.append((report.docx_safe(term).strip().casefold(), s, term, a.get(meaning_f.name)))
    w.heading(report._("Glossary"), 2)
    if not entries:
        w.paragraph(report._("Nobody wrote down a term."))
        return
    w.paragraph(report._("Words that one function uses and the others misread, with what they mean in plain "
                         "language. Under each term: the function it comes from."), "Caption")
    entries.sort(key=lambda e: (e[0], ctx.number.get(e[1].id, 0)))
    usable_w, _height = w.usable_mm()
    rows = [[[(term, True), (report.function_name(s.function), False)], report._answer(meaning_f, meaning, ctx)]
            for _key, s, term, meaning in entries]
    header = [report.short_label(term_f) if getattr(term_f, "short_label", "") else report._("Term"),
              report.short_label(meaning_f) if getattr(meaning_f, "short_label", "") else report._("What it means")]
    guesses = getattr(ctx, "guesses", {}) or {}
    if getattr(ex, "guess_first", False) and any(guesses.get(s.id) for _, s, _t, _m in entries):
        # Guess first: what the other functions thought the word meant, before it was revealed.
        for row, (_key, s, _t, _m) in zip(rows, entries):
            row.append("; ".join(guesses.get(s.id, [])) or report._("not played"))
        w.table([*header, report._("What others guessed first")], rows, [40, (usable_w - 40) / 2, (usable_w - 40) / 2])
    else:
        w.table(header, rows, [55, usable_w - 55])
