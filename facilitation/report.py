"""The Word report of a workshop, built from a `Snapshot` with python-docx.

    data = build_report(snapshot, progress=lambda fraction, message: ...)   # .docx bytes

Contents: a title page; the agenda as it was run; who took part, by function; then one
chapter per exercise on the agenda with its question and purpose, its stories verbatim (never
shortened) in the exercise's report view, and finally an appendix with all the raw data.

Each exercise's chapter is written by its report view (`[report] view` in the exercise file,
resolved in `facilitation.views`; each view's module says what its section holds): "by_function"
(and "wall") every story by the teller's function, "map" (also "handoffs") the handoff table and
journey map first, "pairs" two versions side by side, "ranked" by votes, "commitments" one table
by date, "glossary" a glossary first.
Any exercise that names a `glossary` pair of fields gets the glossary too, and any exercise
that was voted on (other than "ranked") gets a "Most votes" table. Additions to a story
("build on it") appear under it, with who added them. Votes come from the snapshot
(`Snapshot.vote_counts()`) or from the `vote_counts` argument.

Anonymity: when the workshop does not show names, no name is printed anywhere (authors,
proxy tellers, partners, the list of people): a partner becomes "a colleague from <function>".
Hidden stories never appear, nor do additions to them, not even in counts or numbering.

Stories are numbered within their exercise in the order they arrived (additions get no
number); the CSV export uses the same numbers.

Look and feel come from `assets/report_template.docx` (made by
`assets/make_report_template.py`): the report uses only the styles listed in
`REQUIRED_STYLES`, plus the template's page size, margins and footer, so an organisation
rebrands the report by replacing that one file.

Participants' text is stored exactly as typed; `docx_safe` makes it valid for Word only
here, at rendering time.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import io
import logging
import os
import re
import threading
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.oxml.ns import qn
from docx.shared import Emu, Mm
from docx.text.paragraph import Paragraph
from lxml import etree

from . import exports, handoff_sides, i18n, room, rounds, views
from .exercises import Exercise, Field, in_language, library
from .input_rules import MAX_FUNCTIONS
from .workshops import AgendaItem, Snapshot, Story, counts_by_function

TEMPLATE_PATH = Path(__file__).resolve().parent.parent / "assets" / "report_template.docx"
TEMPLATE_ENV = "STORY_RELAY_REPORT_TEMPLATE"  # another template file, for an organisation's branding

REQUIRED_STYLES = (
    "Normal", "Title", "Subtitle", "Heading 1", "Heading 2", "Heading 3", "Caption",
    "Title Page Detail", "Question", "Story Heading", "Story Label", "Story Text", "Note",
    "Table Text", "Table Heading", "Figure", "Strong", "Field Label", "Story Relay Table",
)
NO_PICTURE_NOTE = i18n.N_("The map picture could not be drawn on this server (no Chromium found); "
                          "the table below holds the same information.")
PICTURE_FAILED_NOTE = i18n.N_("The map picture could not be drawn this time; the table below holds the same "
                              "information. Building the report again may bring the picture back.")
# The template's own footer text ("… · page 3 of 12" around its page fields); a report in another language
# says it in that language (a template with a footer of its own keeps it).
TEMPLATE_FOOTER = (i18n.N_("Story Relay workshop report · page "), i18n.N_(" of "))
MAP_PX_WIDTH = 1600          # the journey figure is laid out for this width
# Pixels per layout pixel in the map picture. 1.5 gives 2,400 px across a landscape A4 page
# (about 240 dpi, sharp in print); a big map is drawn at 1.25 (about 200 dpi), which takes the
# browser noticeably less time to paint and encode.
MAP_SCALE, MAP_SCALE_BIG, BIG_MAP_STORIES = 1.5, 1.25, 500
GRID_HEADLINES_PER_CELL = 3  # headlines shown in a cell of the map table before "… and N more"
GRID_HEADLINE_CHARS = 60
TOP_HANDOFFS = 10            # handoffs in the chapter's opening table; a longer list follows the map
TOP_GAP_STORIES = 5          # handoffs shown with their stories (promise, experience, loss)
STORIES_PER_GAP = 8          # stories quoted per such handoff; the rest are listed by number
TOP_VOTED = 5                # stories in an exercise's "Most votes" table
Progress = Callable[[float, str], None]

_log = logging.getLogger(__name__)
_W_P, _W_PPR, _W_PSTYLE, _W_VAL, _W_TBL = (qn(t) for t in ("w:p", "w:pPr", "w:pStyle", "w:val", "w:tbl"))



class ReportTemplateError(RuntimeError):
    """The template file is missing or lacks a style the report needs."""


# --- text ------------------------------------------------------------------------------------

# Characters XML 1.0 forbids (C0 controls except tab/newline/CR, lone surrogates, U+FFFE/U+FFFF),
# plus DEL and the C1 controls, which are legal XML but never meaningful text and upset some readers.
_ILLEGAL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")
_BREAKS = re.compile("\r\n|[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


def docx_safe(text: object) -> str:
    """`text` as something Word can hold: every line break (\\r\\n, \\r, \\n, U+2028 …) becomes \\n
    (python-docx turns it into a line break), characters XML cannot carry are dropped; everything
    else (RTL scripts, emoji, tabs, any length) is kept as is. None becomes ''."""
    if text is None:
        return ""
    text = text if isinstance(text, str) else str(text)
    return _ILLEGAL.sub("", _BREAKS.sub("\n", text))


def shorten(text: str, limit: int) -> str:
    """One line of at most `limit` characters, cut at a word where possible, with '…'."""
    line = " ".join(docx_safe(text).split())
    if len(line) <= limit:
        return line
    cut = line[:limit - 1]
    if " " in cut[limit // 2:]:
        cut = cut[:cut.rindex(" ")]
    return cut.rstrip(" ,;:.-") + "…"


def _right_to_left(text: str) -> bool:
    """True when the first strongly directional character is Hebrew, Arabic or another RTL script."""
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            return True
        if kind == "L":
            return False
    return False


# The language of the report being written (build_report sets it; one report per thread at a time).
_LANGUAGE: contextvars.ContextVar[str] = contextvars.ContextVar("report_language", default=i18n.SOURCE_LANGUAGE)


def _(message: str) -> str:
    """A report string in the workshop's language."""
    return i18n.translator(_LANGUAGE.get()).gettext(message)


def _np(one: str, many: str, n: int) -> str:
    """A count in words ("{n} story" / "{n} stories"), by the language's plural rule, n written its way."""
    return i18n.translator(_LANGUAGE.get()).ngettext(one, many, n).format(n=_num(n))


def N_np(one: str, many: str) -> tuple[str, str]:
    """Marks a count used inside an f-string for the catalogue (pybabel cannot see into f-strings)."""
    return one, many


_COUNTS_IN_SENTENCES = (
    N_np("{n} addition", "{n} additions"),
    N_np("{n} commitment", "{n} commitments"),
    N_np("{n} day", "{n} days"),
    N_np("{n} dot", "{n} dots"),
    N_np("{n} function", "{n} functions"),
    N_np("{n} handoff", "{n} handoffs"),
    N_np("{n} person", "{n} people"),
    N_np("{n} story", "{n} stories"),
    N_np("{n} widest handoff gap", "{n} widest handoff gaps"),
)


def function_name(function: str) -> str:
    """A teller's function as the report names it: the room's "Other functions" in the report's language.
    Only printing translates it: the snapshot keeps the room's own name, which folding with names off
    (room.anonymous_snapshot, done again by the journey map) recognises."""
    return _(room.OTHER_FUNCTIONS) if function == room.OTHER_FUNCTIONS else function


def _num(n: int | float) -> str:
    return i18n.format_number(n, _LANGUAGE.get())


def _when(ts: float | None, kind: str = "time") -> str:
    if not ts:
        return ""
    moment = dt.datetime.fromtimestamp(ts).astimezone()
    if kind == "time":
        return i18n.format_time(moment, _LANGUAGE.get())
    return f"{i18n.format_date(moment, _LANGUAGE.get())}, {i18n.format_time(moment, _LANGUAGE.get())} {moment:%Z}"


def _date(d: dt.date) -> str:
    return i18n.format_date(d, _LANGUAGE.get())


def _gap(x: float) -> str:
    """A mean gap with one decimal, as the language writes it ("4.5", "4,5")."""
    from babel.numbers import format_decimal
    return format_decimal(round(x, 1), format="0.0", locale=i18n._babel_locale(_LANGUAGE.get()))


def _library() -> dict[str, Exercise]:
    language = _LANGUAGE.get()
    return {key: in_language(e, language) for key, e in library().items()}


# --- the document ----------------------------------------------------------------------------

class _Writer:
    """A python-docx Document from the template, written to fast.

    Paragraphs and tables are written as WordprocessingML text into a buffer and parsed into
    the document in one go (`flush`) before anything python-docx must do itself (a picture, a
    new section) and before saving: making ~40,000 lxml elements one at a time, or going through
    python-docx's paragraph and table API (which searches the body for every paragraph and
    rebuilds row lists on every access), takes several times longer for a 1,500-story report.
    """

    def __init__(self, template: Path):
        if not template.is_file():
            raise ReportTemplateError(f"The report template {template} does not exist; "
                                      "run assets/make_report_template.py to make it.")
        self.doc = Document(str(template))
        names = {s.name for s in self.doc.styles}
        missing = [n for n in REQUIRED_STYLES if n not in names]
        if missing:
            raise ReportTemplateError(f"The report template {template.name} lacks these styles: {', '.join(missing)}")
        self.style = {n: self.doc.styles[n] for n in REQUIRED_STYLES}
        # Style ids, quoted for XML once: python-docx's name lookup costs milliseconds per paragraph.
        self.style_id = {n: s.style_id for n, s in self.style.items()}
        self._ppr = {n: f'<w:pPr><w:pStyle w:val="{_attr(i)}"/></w:pPr>' for n, i in self.style_id.items()}
        self._ppr_bidi = {n: f'<w:pPr><w:pStyle w:val="{_attr(i)}"/><w:bidi/></w:pPr>' for n, i in self.style_id.items()}
        self._rpr = {n: f'<w:rPr><w:rStyle w:val="{_attr(i)}"/></w:rPr>' for n, i in self.style_id.items()}
        body = self.doc.element.body
        for child in list(body):  # the template's own body text is not part of the report
            if child.tag != qn("w:sectPr"):
                body.remove(child)
        self._body = body
        self._sect = body.find(qn("w:sectPr"))
        self._buf: list[str] = []
        self._usable = self._measure()

    # --- writing ---

    def _runs_xml(self, runs: Iterable[tuple[object, str | None]]) -> tuple[str, bool]:
        """The runs' XML, and whether the paragraph reads right to left (its first text does)."""
        out = []
        rtl = None
        for text, char_style in runs:
            safe = docx_safe(text)
            if not safe:
                continue
            if rtl is None:
                rtl = _right_to_left(safe)
            out.append("<w:r>")
            if char_style:
                out.append(self._rpr[char_style])
            if "\n" in safe or "\t" in safe:
                for i, line in enumerate(safe.split("\n")):
                    if i:
                        out.append("<w:br/>")
                    for j, chunk in enumerate(line.split("\t")):
                        if j:
                            out.append("<w:tab/>")
                        if chunk:
                            out.append(_t(chunk))
            else:
                out.append(_t(safe))
            out.append("</w:r>")
        return "".join(out), bool(rtl)

    def _paragraph_xml(self, runs: Iterable[tuple[object, str | None]], style: str) -> str:
        xml, rtl = self._runs_xml(runs)
        # A paragraph that starts in Hebrew, Arabic … reads right to left (w:bidi follows w:pStyle).
        return f"<w:p>{(self._ppr_bidi if rtl else self._ppr)[style]}{xml}</w:p>"

    def paragraph(self, text: object = "", style: str = "Normal") -> None:
        """One paragraph of `text` (made safe; line breaks and tabs kept) in a paragraph style."""
        self._buf.append(self._paragraph_xml(((text, None),), style))

    def rich(self, runs: Iterable[tuple[object, str | None]], style: str = "Normal") -> None:
        """One paragraph of several runs, each (text, character style or None)."""
        self._buf.append(self._paragraph_xml(runs, style))

    def heading(self, text: str, level: int) -> None:
        self.paragraph(text, f"Heading {level}")

    def table(self, header: list[str], rows: Iterable[list], widths_mm: list[float]) -> None:
        """A table in the template's table style, with a fixed layout (Word keeps the widths given
        here), a header row repeated on every page, and rows that never break across pages.
        Cells are text, or lists of (text, strong) lines."""
        twips = [int(Mm(w).twips) for w in header_widths(header, widths_mm)]
        look = ('<w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" w:firstColumn="0" w:lastColumn="0" '
                'w:noHBand="0" w:noVBand="1"/>')
        buf = self._buf
        buf.append(f'<w:tbl><w:tblPr><w:tblStyle w:val="{_attr(self.style_id["Story Relay Table"])}"/>'
                   f'<w:tblW w:type="dxa" w:w="{sum(twips)}"/><w:tblLayout w:type="fixed"/>{look}</w:tblPr>'
                   "<w:tblGrid>" + "".join(f'<w:gridCol w:w="{t}"/>' for t in twips) + "</w:tblGrid>")
        cell_open = [f'<w:tc><w:tcPr><w:tcW w:type="dxa" w:w="{t}"/></w:tcPr>' for t in twips]
        for r, values in enumerate([header, *rows]):
            # Rows never break across pages; the header row repeats (schema order: cantSplit, tblHeader).
            buf.append("<w:tr><w:trPr><w:cantSplit/><w:tblHeader/></w:trPr>" if r == 0
                       else "<w:tr><w:trPr><w:cantSplit/></w:trPr>")
            style = "Table Heading" if r == 0 else "Table Text"
            for c, opening in enumerate(cell_open):
                value = values[c] if c < len(values) else ""
                buf.append(opening)
                if isinstance(value, list) and value:
                    for line, strong in value:
                        buf.append(self._paragraph_xml(((line, "Strong" if strong and r > 0 else None),), style))
                else:
                    buf.append(self._paragraph_xml(((value, None),), style))
                buf.append("</w:tc>")
            buf.append("</w:tr>")
        buf.append("</w:tbl>")

    def mark(self) -> int:
        """A bookmark in what was written, for `keep_together`."""
        return len(self._buf)

    def keep_together(self, mark: int) -> None:
        """Keep the paragraphs written since `mark` on one page where they fit (each one is kept with
        the next, the last one excepted): a short story is not split by a page break."""
        buf = self._buf
        last = max((i for i in range(mark, len(buf)) if buf[i].startswith("<w:p><w:pPr><w:pStyle ")), default=-1)
        for i in range(mark, last):
            item = buf[i]
            if item.startswith("<w:p><w:pPr><w:pStyle "):
                cut = item.index("/>") + 2  # after w:pStyle: keepNext comes next in the schema's order
                buf[i] = item[:cut] + "<w:keepNext/>" + item[cut:]

    def page_break(self) -> None:
        self._buf.append(f'<w:p>{self._ppr["Normal"]}<w:r><w:br w:type="page"/></w:r></w:p>')

    def flush(self) -> None:
        """Parse what was written so far into the document, before the final section properties."""
        if not self._buf:
            return
        xml = f'<w:body xmlns:w="{_W_NS}">{"".join(self._buf)}</w:body>'
        self._buf = []
        for child in list(etree.fromstring(xml.encode("utf-8"))):
            if child.tag == _W_TBL:
                # Moving one big subtree into another document is quadratic in lxml (in the number
                # of xml:space attributes it holds): a 1,500-row table took 25 s. Row by row is linear.
                tbl = self._body.makeelement(_W_TBL, {})
                self._sect.addprevious(tbl)
                for part in list(child):
                    tbl.append(part)
            else:
                self._sect.addprevious(child)

    # --- things python-docx does ---

    def placeholder(self, style: str) -> Paragraph:
        """An empty paragraph at this point of the document, to be filled in later (a picture)."""
        self.flush()
        p = self._body.makeelement(_W_P, {})
        self._sect.addprevious(p)
        etree.SubElement(etree.SubElement(p, _W_PPR), _W_PSTYLE, {_W_VAL: self.style_id[style]})
        return Paragraph(p, self.doc._body)

    def fill_picture(self, para: Paragraph, png: bytes, width_mm: float) -> None:
        para.add_run().add_picture(io.BytesIO(png), width=Mm(width_mm))

    def fill_note(self, para: Paragraph, text: str) -> None:
        """Replace a placeholder with a paragraph of text in the "Note" style."""
        new = etree.fromstring(f'<w:body xmlns:w="{_W_NS}">{self._paragraph_xml(((text, None),), "Note")}</w:body>')[0]
        para._p.addprevious(new)
        para._p.getparent().remove(para._p)

    def page_setup(self, landscape: bool):
        """Start a new section on a new page, in landscape or portrait."""
        self.flush()
        section = self.doc.add_section(WD_SECTION.NEW_PAGE)
        self._sect = self.doc.element.body.find(qn("w:sectPr"))
        section.different_first_page_header_footer = False
        w, h = section.page_width, section.page_height
        if landscape != (w > h):
            section.page_width, section.page_height = h, w
        section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
        self._usable = self._measure()
        return section

    def _measure(self) -> tuple[float, float]:
        s = self.doc.sections[-1]
        width = s.page_width - s.left_margin - s.right_margin
        height = s.page_height - s.top_margin - s.bottom_margin
        return Emu(width).mm, Emu(height).mm

    def usable_mm(self) -> tuple[float, float]:
        """Width and height inside the margins of the current section, in millimetres."""
        return self._usable

    def save(self, out) -> None:
        self.flush()
        self.doc.save(out)


_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _t(text: str) -> str:
    """A w:t element; xml:space="preserve" only where Word would otherwise drop spaces."""
    if text[0] == " " or text[-1] == " " or "  " in text:
        return f'<w:t xml:space="preserve">{_esc(text)}</w:t>'
    return f"<w:t>{_esc(text)}</w:t>"


def _esc(text: str) -> str:
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _attr(text: str) -> str:
    return _esc(text).replace('"', "&quot;")


# --- sections --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Summary:
    """What the report's first page says: who took part, the widest gaps, the room's choices, the commitments."""

    people: int
    functions: dict[str, int]                  # function → people, in the workshop's order (present only)
    stories: int                               # visible stories, additions not counted
    additions: int
    widest_gaps: list                          # journey_map.Handoff, widest mean gap first (at most 3)
    top_stories: list[tuple[str, Story, int]]  # (exercise title, story, dots), most dots first (at most 3)
    commitments: int
    earliest: tuple[dt.date, Story] | None     # the earliest commitment date and its story


def story_counts(snapshot: Snapshot) -> tuple[int, int]:
    """(stories, additions) the report counts: visible stories of the exercises on the agenda.
    The report page says the same numbers."""
    lib = _library()
    keys = set(_exercise_keys(snapshot, lib))
    shown = [s for s in exports.visible_stories(snapshot) if s.exercise_key in keys]
    additions = sum(1 for s in shown if exports.is_addition(s))
    return len(shown) - additions, additions


def summarise(snapshot: Snapshot, *, vote_counts: dict[int, int] | None = None, limit: int = 3) -> Summary:
    """The facts of the report's opening page (pure; hidden stories left out)."""
    from . import journey_map

    lib = _library()
    keys = _exercise_keys(snapshot, lib)
    visible = [s for s in exports.visible_stories(snapshot) if s.exercise_key in keys]
    told = [s for s in visible if not exports.is_addition(s)]
    counts = counts_by_function(snapshot.participants, snapshot.workshop.functions)
    journey = journey_map.build_journey(replace(snapshot, stories=told))
    gaps = [h for h in journey.handoffs if h.mean_gap is not None][:limit]
    votes = exports.vote_counts(snapshot, vote_counts) or {}
    voted = sorted((s for s in told if votes.get(s.id)), key=lambda s: (-votes[s.id], s.created_at, s.id))[:limit]
    top = [(lib[s.exercise_key].title, s, votes[s.id]) for s in voted]
    commitments, earliest = 0, None
    for k in keys:
        ex = lib[k]
        if not views.get(ex.report_view).collects_commitments:
            continue
        dated = [f.name for f in ex.fields if f.kind == "date"]
        for story in (s for s in told if s.exercise_key == k):
            commitments += 1
            for name in dated:
                try:
                    when = dt.date.fromisoformat(str(_answers(story).get(name, "")))
                except ValueError:
                    continue
                if earliest is None or when < earliest[0]:
                    earliest = (when, story)
    return Summary(people=len(snapshot.participants), functions={f: n for f, n in counts.items() if n},
                   stories=len(told), additions=len(visible) - len(told), widest_gaps=gaps, top_stories=top,
                   commitments=commitments, earliest=earliest)


def _summary_page(w: _Writer, snap: Snapshot, facts: Summary) -> None:
    """Page 1: the title and the workshop in one page a sponsor reads first."""
    ws = snap.workshop
    lib = _library()
    w.paragraph(ws.title, "Title")
    w.paragraph(f"{_('Workshop report')} · {ws.organisation}" if ws.organisation.strip() else _("Workshop report"), "Subtitle")
    details = []
    if ws.held_on:
        details.append((_("Date"), _date(ws.held_on)))
    if ws.facilitator.strip():
        details.append((_("Facilitator"), ws.facilitator))
    details.append((_("Report generated"), _when(snap.taken_at, "datetime")))
    for label, value in details:
        w.rich(((f"{label}: ", "Strong"), (value, None)), "Title Page Detail")

    w.heading(_("Summary"), 2)
    by_function = ", ".join(f"{f} {n}" for f, n in facts.functions.items())
    w.rich(((_("Who took part") + ": ", "Strong"),
            (_("{people} from {functions}").format(people=_np('{n} person', '{n} people', facts.people),
                                                    functions=_np('{n} function', '{n} functions', len(facts.functions)))
             + (f" ({by_function})" if by_function else "") + f"; {_np('{n} story', '{n} stories', facts.stories)}"
             + (", " + _("with {additions}").format(additions=_np('{n} addition', '{n} additions', facts.additions))
                if facts.additions else "") + ".", None)))

    w.rich(((_("The {gaps}").format(gaps=_np('{n} widest handoff gap', '{n} widest handoff gaps', len(facts.widest_gaps)))
             if facts.widest_gaps else _("Handoff gaps"), "Strong"),
            (" " + _("(mean gap between promise and experience, 1 barely any, 5 a canyon)") if facts.widest_gaps
             else ": " + _("no story scored a handoff."), None)))
    for h in facts.widest_gaps:
        lost = next((a.lost for a in h.accounts if a.lost.strip()), "")
        w.rich((("•  " + _("{sender} → {receiver} at {stage}: {gap}").format(
                    sender=function_name(h.from_function), receiver=function_name(h.to_function), stage=h.stage,
                    gap=_gap(h.mean_gap)), "Strong"),
                (" " + _("from {stories}").format(stories=_np('{n} story', '{n} stories', h.count))
                 + (" · " + _("nobody picks it up") if h.dead_end else "")
                 + (". " + _("Lost: {text}").format(text=shorten(lost, 160)) if lost else ""), None)))

    w.rich(((_("The room's top stories"), "Strong"),
            ("" if facts.top_stories else ": " + _("no dots were cast."), None)))
    for title, story, dots in facts.top_stories:
        ex = lib[story.exercise_key]
        who = (function_name(story.function) if not ws.show_names or not story.author_name
               else f"{story.author_name} · {story.function}")
        w.rich(((f"•  {shorten(_text_of(ex, story), 200)}", None),
                (f" — {who}, {_np('{n} dot', '{n} dots', dots)} ({title})", "Strong")))

    if facts.commitments:
        text = f"{_np('{n} commitment', '{n} commitments', facts.commitments)}"
        if facts.earliest:
            when, story = facts.earliest
            ex = lib[story.exercise_key]
            text += "; " + _("the earliest is due {date}: “{text}” ({function})").format(
                date=_date(when), text=shorten(_text_of(ex, story), 140), function=function_name(story.function))
        w.rich(((_("Commitments") + ": ", "Strong"), (text + ".", None)))
    else:
        w.rich(((_("Commitments") + ": ", "Strong"), (_("none were made."), None)))
    w.paragraph(_("Stories are quoted exactly as participants typed them. Stories the facilitator hid "
                  "during the workshop are left out of this report."), "Caption")


def _text_of(ex: Exercise, story: Story) -> str:
    return str(_answers(story).get(ex.headline, "") or "")


def _workshop_section(w: _Writer, snap: Snapshot) -> None:
    w.heading(_("The workshop"), 1)
    w.heading(_("Agenda as run"), 2)
    lib = _library()
    rows = []
    for item in snap.agenda:
        ex = lib.get(item.exercise_key)
        title = ex.title if ex else item.exercise_key
        ran = ""
        stopped = room.stopped_at(snap, item)
        if item.opened_at and stopped is not None and stopped >= item.opened_at:
            minutes = (stopped - item.opened_at) / 60
            ran = _("{n} min").format(n=_num(round(minutes))) if minutes >= 0.5 else _("under 1 min")
        rows.append([str(item.position + 1), title, _("{n} min").format(n=_num(item.minutes)),
                     _when(item.opened_at) or _("not opened"),
                     _when(stopped) or (_("still open") if item.opened_at else ""), ran])
    if rows:
        w.table([_("#"), _("Exercise"), _("Planned"), _("Opened"), _("Closed"), _("Ran for")], rows, [10, 70, 22, 22, 22, 24])
        tz = dt.datetime.fromtimestamp(snap.taken_at).astimezone().tzname()
        w.paragraph(_("Times are the server's clock ({tz}).").format(tz=tz), "Caption")
    else:
        w.paragraph(_("The agenda was empty."))

    ws = snap.workshop
    w.heading(_("Who took part"), 2)
    counts = counts_by_function(snap.participants, ws.functions)
    present = sum(1 for n in counts.values() if n)
    w.paragraph(_("{people} from {functions} took part.").format(
        people=_np('{n} person', '{n} people', len(snap.participants)),
        functions=_np('{n} function', '{n} functions', present)))
    names: dict[str, list[str]] = defaultdict(list)
    for p in snap.participants:
        names[p.function].append(p.display_name)
    total = [[(_("Total"), True)], [(_num(len(snap.participants)), True)]]
    if len(counts) > MAX_FUNCTIONS:  # only a workshop stored some other way has more: list who came
        listed = set(sorted(counts, key=lambda f: -counts[f])[:MAX_FUNCTIONS])
        w.paragraph(_("The {n} functions with the most people, of {total}, are listed.").format(
            n=MAX_FUNCTIONS, total=_num(len(counts))), "Caption")
        counts = {f: n for f, n in counts.items() if f in listed}
    if ws.show_names:
        rows = [[f, _num(n), ", ".join(names.get(f, [])) or "—"] for f, n in counts.items()]
        w.table([_("Function"), _("People"), _("Names")], [*rows, [*total, ""]], [45, 18, 107])
    else:
        rows = [[function_name(f), _num(n)] for f, n in counts.items()]
        w.table([_("Function"), _("People")], [*rows, total], [60, 25])


@dataclass
class _Context:
    """What every section needs to know about the workshop being written."""

    show_names: bool
    functions: list[str]
    partners: dict[str, str]              # display name → function, for anonymous partner answers
    votes: dict[int, int] | None          # dots per story id; None when the workshop has no votes
    number: dict[int, int]                # story id → number within its exercise
    additions: dict[int, list[Story]]     # story id → its additions ("build on it"), oldest first
    tick: Callable[[int], None]
    shown_handoff: Callable[[object], object] = lambda value: value  # names off: the sender folded
    journeys: dict = field(default_factory=dict)  # exercise key → its journey, for views that draw a map
    pictures: dict = field(default_factory=dict)  # exercise key → its map picture being drawn
    pending: list = field(default_factory=list)   # map pictures still to put in the document
    guesses: dict[int, list[str]] = field(default_factory=dict)  # term story id → "“guess” (who)" before the reveal
    snapshot: Snapshot | None = None              # the workshop as the report shows it (the commitments board)
    kept_in_room: dict = field(default_factory=dict)  # exercise key → stories not cleared to leave the room

    def votes_of(self, s: Story) -> int:
        return (self.votes or {}).get(s.id, 0)


def _answer(f: Field, value: object, ctx: _Context | None = None) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return _("(no answer)")
    if f.kind == "partner" and ctx is not None:
        return exports.shown_partner(value, ctx.show_names, ctx.partners, _LANGUAGE.get())
    if f.kind == "handoff":
        return handoff_sides.handoff_text(ctx.shown_handoff(value) if ctx is not None else value, _LANGUAGE.get())
    if f.kind == "scale" and isinstance(value, (int, float)) and not isinstance(value, bool):
        text = _("{value} on a scale of {low} to {high}").format(value=_num(value), low=_num(f.scale_min),
                                                                 high=_num(f.scale_max))
        if value == f.scale_max and f.scale_high:
            text += f" ({f.scale_high})"
        elif value == f.scale_min and f.scale_low:
            text += f" ({f.scale_low})"
        return text
    if f.kind == "choice":
        return f.option_label(value)
    if f.kind == "story_or_handoff":
        from .commitments import serve_label
        return serve_label(value, _LANGUAGE.get())
    if f.kind == "date":
        try:
            return _date(dt.date.fromisoformat(str(value)))
        except ValueError:
            return str(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return value if isinstance(value, str) else str(value)


def short_label(f: Field) -> str:
    """A column heading for a field: its `short_label` if the exercise file gives one, else its name
    in words ("by_when" → "By when")."""
    given = getattr(f, "short_label", "")
    return given or f.name.replace("_", " ").strip().capitalize()


def _extra_heading(name: str) -> str:
    """The column heading of an answer no field of the exercise holds: an addition's text ("build on it"),
    or a field since removed from the exercise file, by its name in words."""
    return _("Addition") if name == "addition" else name.replace("_", " ").capitalize()


def _answers(s: Story) -> dict:
    return s.answers if isinstance(s.answers, dict) else {}


def _story_heading(ctx: _Context, s: Story, *, function: bool = False, prefix: str = "") -> str:
    parts = [prefix or _("Story {number}").format(number=ctx.number.get(s.id, "")).strip()]
    if function:
        parts.append(function_name(s.function))
    name = exports.author(s, ctx.show_names)
    if name:
        parts.append(name)
    if ctx.votes is not None:
        parts.append(_np("{n} vote", "{n} votes", ctx.votes_of(s)))
    return " · ".join(p for p in parts if p)


def _fields(w: _Writer, ctx: _Context, ex: Exercise, answers: dict, *, skip: Iterable[str] = (),
            only_answered: bool = False) -> None:
    """Every field of a story under its label. Long text answers get their label on a line of
    its own; short answers (a stage, a function, a score, a date, one line of text) sit on one
    line after their label. Answers to fields since removed from the exercise file follow."""
    skip = set(skip)
    known = {f.name for f in ex.fields}
    for f in ex.fields:
        if f.name in skip or (only_answered and answers.get(f.name) in (None, "")):
            continue
        value = _answer(f, answers.get(f.name), ctx)
        if f.kind == "long_text" or "\n" in docx_safe(value):
            w.paragraph(f.label, "Story Label")
            w.paragraph(value, "Story Text")
        else:
            w.rich(((f.label + " ", "Field Label"), (value, None)), "Story Text")
    for name in sorted(k for k in answers if k not in known and k not in skip):
        w.paragraph(name, "Story Label")
        w.paragraph(_answer(Field(name=name, kind="long_text", label=name), answers[name]), "Story Text")


def _build_ons(w: _Writer, ctx: _Context, ex: Exercise, s: Story) -> None:
    """The additions to a story, each under "Added by <function>" (and the name, if shown)."""
    for a in ctx.additions.get(s.id, ()):
        who = function_name(a.function) + (f" · {exports.author(a, ctx.show_names)}" if exports.author(a, ctx.show_names) else "")
        w.paragraph(_("Added by {who}").format(who=who), "Story Label")
        answers = _answers(a)
        known = {f.name for f in ex.fields}
        if len(answers) == 1 and not set(answers) & known:  # a plain addition: one piece of text
            w.paragraph(_answer(Field(name="text", kind="long_text", label=""), next(iter(answers.values()))),
                        "Story Text")
        else:
            _fields(w, ctx, ex, answers, only_answered=True)
        ctx.tick(1)


def _story(w: _Writer, ctx: _Context, ex: Exercise, s: Story, *, heading: str | None = None,
           skip: Iterable[str] = ()) -> None:
    start = w.mark()
    w.paragraph(heading or _story_heading(ctx, s), "Story Heading")
    _fields(w, ctx, ex, _answers(s), skip=skip)
    _build_ons(w, ctx, ex, s)
    w.keep_together(start)
    ctx.tick(1)


def top_votes(w: _Writer, ctx: _Context, ex: Exercise, told: list[Story], limit: int = TOP_VOTED) -> None:
    """The stories with the most votes, as a short table (for views that are not already ranked)."""
    if ctx.votes is None:
        return
    voted = sorted((s for s in told if ctx.votes_of(s)), key=lambda s: -ctx.votes_of(s))[:limit]
    if not voted:
        return
    w.heading(_("Most votes"), 2)
    headline = next((f for f in ex.fields if f.name == ex.headline), None)
    usable_w, _height = w.usable_mm()
    rows = [[_num(ctx.votes_of(s)), str(ctx.number.get(s.id, "")), function_name(s.function),
             _answer(headline, _answers(s).get(headline.name), ctx) if headline else ""] for s in voted]
    w.table([_("Votes"), _("Story"), _("Function"), headline.label if headline else _("Story")], rows,
            [16, 16, 32, usable_w - 64])


def _appendix(w: _Writer, ctx: _Context, lib: dict[str, Exercise], keys: list[str],
              told: dict[str, list[Story]], everything: dict[str, list[Story]],
              votes_in: Callable[[str], dict[int, int] | None]) -> None:
    """Every visible story (additions too), every field, in compact tables on landscape pages."""
    w.page_setup(landscape=True)
    w.heading(_("Appendix: all the data"), 1)
    w.paragraph(_("Every story as it was typed, one row each, in the order the stories arrived. Additions to a "
                  "story (“build on it”) have no number of their own and name the story they build on. "
                  "Hidden stories are left out. The same data comes as a spreadsheet (CSV) beside this report."),
                "Caption")
    usable_w, _height = w.usable_mm()
    for k in keys:
        ex = lib[k]
        rows_of = everything[k]
        if not rows_of:
            continue
        w.heading(f"{ex.title} · {_np('{n} story', '{n} stories', len(told[k]))}", 2)
        ctx.votes = votes_in(k)
        has_additions = any(exports.is_addition(s) for s in rows_of)
        known = {f.name for f in ex.fields}
        extra = sorted({n for s in rows_of for n in _answers(s) if n not in known})
        header = [_("#"), _("Function")] + ([_("Author")] if ctx.show_names else []) + [_("Time")]
        time_column = len(header) - 1
        if ctx.votes is not None:
            header.append(_("Votes"))
        if has_additions:
            header.append(_("Builds on"))
        header += [short_label(f) for f in ex.fields] + [_extra_heading(n) for n in extra]
        rows = []
        for s in rows_of:
            a = _answers(s)
            row: list = [str(ctx.number.get(s.id, "")), function_name(s.function)]
            if ctx.show_names:
                row.append(exports.author(s, True))
            row.append(_when(s.created_at))
            if ctx.votes is not None:
                row.append(_num(ctx.votes_of(s)) if not exports.is_addition(s) else "")
            if has_additions:
                row.append(str(ctx.number.get(getattr(s, "builds_on", None), "")))
            for f in ex.fields:
                value = a.get(f.name)
                row.append("" if value is None or value == "" else _appendix_value(f, value, ctx))
            row += ["" if a.get(n) is None else _answer(Field(name=n, kind="long_text", label=n), a[n]) for n in extra]
            rows.append(row)
        fixed = {0: 9.0, time_column: 12.0}
        widths = fit_widths(header, rows, usable_w, fixed=fixed)
        w.table(header, rows, widths)
        ctx.tick(len(rows_of))


HEADER_MM_PER_CHAR, CELL_PAD_MM = 2.1, 3.6  # bold table heading: mm per character (generous), cell margins


def header_widths(header: list[str], widths_mm: list[float]) -> list[float]:
    """The widths with every column at least as wide as its header's longest word, so a narrow
    column's header ("Gap") never breaks inside a word; what that takes comes off the widest columns."""
    widths = list(widths_mm)
    need = [max((len(word) for word in _BREAKABLE.split(str(h)) if word), default=0) * HEADER_MM_PER_CHAR + CELL_PAD_MM
            for h in header]
    short = sum(max(0.0, n - w) for n, w in zip(need, widths))
    if short <= 0:
        return widths
    widths = [max(w, n) for w, n in zip(widths, need)]
    spare = [i for i in range(len(widths)) if widths[i] - need[i] > 0]
    spare_total = sum(widths[i] - need[i] for i in spare)
    for i in spare:  # in proportion to what each can give
        widths[i] -= short * (widths[i] - need[i]) / spare_total if spare_total else 0
    return widths


def fit_widths(header: list[str], rows: list[list], total_mm: float, *, fixed: dict[int, float] | None = None,
               sample: int = 400) -> list[float]:
    """Column widths (mm) that add up to `total_mm`, shaped by the text in each column: every column
    at least as wide as its longest word (so words are not cut in the middle, where that fits),
    the rest shared out by how much text the column holds, and no column wider than its longest
    line needs. `fixed` gives some columns a set width. Looks at up to `sample` rows."""
    fixed = fixed or {}
    per_char, pad = 1.75, 3.4  # 9 pt Arial: mm per character (a generous mean); the cell's margins
    step = max(1, len(rows) // sample)
    rows = rows[::step]
    lo, hi, weight = [], [], []
    for c, head in enumerate(header):
        texts = [_cell_text(r[c]) if c < len(r) else "" for r in rows]
        words = [len(wd) for t in texts + [head] for wd in _BREAKABLE.split(t) if wd] or [1]
        longest_word = min(max(words), 14)
        longest_line = max((len(t) for t in texts), default=0)
        mean = sum(len(t) for t in texts) / max(1, len(texts))
        lo.append(longest_word * per_char + pad)
        hi.append(max(lo[-1], min(longest_line, 90) * per_char + pad))
        weight.append(max(mean, 3.0))
    widths = list(lo)
    for c, mm in fixed.items():
        widths[c] = lo[c] = hi[c] = mm
    free = [c for c in range(len(header)) if c not in fixed]
    room = total_mm - sum(widths)
    if room < 0:  # not even the longest words fit: shrink the free columns in proportion
        shrink = (sum(widths[c] for c in free) + room) / max(1e-9, sum(widths[c] for c in free))
        for c in free:
            widths[c] *= max(0.2, shrink)
        return widths
    for _round in range(len(free) + 1):  # share the room out by weight, capping columns at what they need
        open_ = [c for c in free if widths[c] < hi[c] - 1e-6]
        if room <= 1e-6 or not open_:
            break
        total_weight = sum(weight[c] for c in open_)
        spent = 0.0
        for c in open_:
            add = min(room * weight[c] / total_weight, hi[c] - widths[c])
            widths[c] += add
            spent += add
        room -= spent
    if room > 1e-6 and free:  # every column has what it needs: spread the rest evenly
        for c in free:
            widths[c] += room / len(free)
    return widths


_BREAKABLE = re.compile(r"[\s/-]+")  # where a line may break: spaces, after a slash or a hyphen


def _cell_text(value: object) -> str:
    if isinstance(value, list):
        return "\n".join(str(line) for line, _strong in value)
    return "" if value is None else str(value)


def _appendix_value(f: Field, value: object, ctx: _Context) -> str:
    """An answer in the appendix: as typed; scales as the number, dates as ISO, partners anonymous."""
    if f.kind == "partner":
        return exports.shown_partner(value, ctx.show_names, ctx.partners, _LANGUAGE.get())
    if f.kind == "scale" or f.kind == "date":
        return str(value)
    return _answer(f, value, ctx)


def map_scale(journey) -> float:
    """The scale the map picture is drawn at: smaller for a big map (see MAP_SCALE)."""
    return MAP_SCALE_BIG if journey.story_count > BIG_MAP_STORIES else MAP_SCALE


class _MapPicture:
    """The journey map picture, drawn by the browser while the report's text is being written.

    Chromium paints in its own process, so the 0.5 to 2 s a big map takes overlaps the Python
    work of writing the stories instead of adding to it. The figure itself is built here, in
    the calling thread; only the drawing runs in a helper thread."""

    def __init__(self, journey):
        from . import journey_map  # plotly is slow to import; only reports with a map need it

        fig = journey_map.journey_figure(journey, theme="light")
        self.px_h = int(fig.layout.height or 700)
        scale = map_scale(journey)
        self._result: tuple[bytes | None, str | None, bool] | None = None
        self._thread = threading.Thread(target=self._draw, args=(fig, scale), name="report-map-picture", daemon=True)
        self._thread.start()

    def _draw(self, fig, scale: float) -> None:
        from . import figure_images

        try:
            png = figure_images.figure_png(fig, MAP_PX_WIDTH, self.px_h, scale=scale)
            # the reason is kept per thread by figure_images: read it here, in the drawing thread
            self._result = (png, figure_images.last_error(), figure_images.browser_missing())
        except BaseException as exc:  # noqa: BLE001 - figure_png never raises; this is belt and braces
            self._result = (None, f"The picture could not be drawn: {type(exc).__name__}", False)

    def result(self) -> tuple[bytes | None, str | None, bool]:
        """(png or None, why not, whether the reason is a missing browser); waits for the drawing."""
        from . import figure_images

        self._thread.join(figure_images.START_TIMEOUT_SECONDS + figure_images.RENDER_TIMEOUT_SECONDS + 15)
        return self._result or (None, "The picture took too long to draw.", False)


def _fill_pictures(w: _Writer, pending: list, say: Callable[[str], None]) -> None:
    """Put each map picture into its placeholder, or a note saying why there is none."""
    for para, picture, width_mm in pending:
        say("Waiting for the journey map picture…")
        png, reason, missing = picture.result()
        if png is not None:
            w.fill_picture(para, png, width_mm)
        else:
            _log.warning("Report without the map picture: %s", reason)
            w.fill_note(para, _(NO_PICTURE_NOTE if reason is None or missing else PICTURE_FAILED_NOTE))


def _map_sections(w: _Writer, journey, picture: _MapPicture | None, pending: list) -> None:
    """The journey map picture and the same grid as a Word table, on landscape pages.

    The picture goes into a placeholder paragraph, filled in by `_fill_pictures` at the end."""
    w.page_setup(landscape=True)
    usable_w, usable_h = w.usable_mm()
    if picture is not None:
        w.heading(_("Journey map"), 2)
        w.paragraph(_("Rows are functions, columns are stages of the customer's life. Each dot is a story; "
                      "each arrow a handoff, as wide as the number of stories that describe it and coloured by "
                      "the mean gap between promise and experience (★: the customer judged it; no ★: our guess). "
                      "✕ marks a handoff nobody downstream picks up, ◆ a handoff its receiver answered, and the bar "
                      "under a lane how far that function's story reaches."),
                    "Caption")
        max_h = usable_h - 30  # what the heading and the caption above take
        pending.append((w.placeholder("Figure"), picture, min(usable_w, max_h * MAP_PX_WIDTH / picture.px_h)))
        w.page_break()
        w.heading(_("The map as a table"), 2)
        w.paragraph(_("The same grid as the picture: each cell counts the stories a function told about a stage "
                      "and quotes up to {n} of them, shortened.").format(n=_num(GRID_HEADLINES_PER_CELL)), "Caption")
    else:
        w.heading(_("Journey map"), 2)
        w.paragraph(_("Rows are functions, columns are stages of the customer's life; each cell counts the stories "
                      "a function told about a stage and quotes up to {n} of them, shortened.").format(
                          n=_num(GRID_HEADLINES_PER_CELL)), "Caption")
    from .journey_map import drawn_grid, grid_note

    lanes, columns = drawn_grid(journey)  # as many as the picture draws, however many are stored
    if note := grid_note(journey, lanes, columns):
        w.paragraph(f"{note}.", "Caption")
    first_col = 32
    stage_w = (usable_w - first_col) / max(1, len(columns))
    rows = []
    for function in lanes:
        row: list = [[(function_name(function), True)]]
        for stage in columns:
            cell = journey.cell(function, stage)
            if not cell.count:
                row.append("")
                continue
            lines = [(_np("{n} story", "{n} stories", cell.count), True)]
            for placed in cell.placed[:GRID_HEADLINES_PER_CELL]:
                lines.append(("• " + shorten(placed.headline or _("(no text)"), GRID_HEADLINE_CHARS), False))
            if cell.count > GRID_HEADLINES_PER_CELL:
                lines.append((_("… and {n} more").format(n=_num(cell.count - GRID_HEADLINES_PER_CELL)), False))
            row.append(lines)
        rows.append(row)
    w.table([_("Function"), *columns], rows, [first_col] + [stage_w] * len(columns))
    if journey.unplaced:
        w.paragraph(_np("{n} story named no stage and is not in the grid.",
                        "{n} stories named no stage and are not in the grid.", journey.unplaced), "Caption")
    w.page_setup(landscape=False)


# --- building --------------------------------------------------------------------------------

def _exercise_keys(snap: Snapshot, lib: dict[str, Exercise]) -> list[str]:
    keys = list(dict.fromkeys(item.exercise_key for item in snap.agenda))
    keys += [k for k in dict.fromkeys(s.exercise_key for s in snap.stories) if k not in keys]
    return [k for k in keys if k in lib]


def build_report(snapshot: Snapshot, *, include_map_image: bool = True, progress: Progress | None = None,
                 template: Path | str | None = None, vote_counts: dict[int, int] | None = None,
                 appendix: bool = True, after_the_room=None) -> bytes:
    """The workshop report as .docx bytes.

    `after_the_room` (`facilitation.after_report.gather`) adds the common themes the facilitator
    confirmed and the commitments' follow-through, before the appendix.
    `progress(fraction, message)` is called as the work advances (0 → 1), for a progress bar.
    `include_map_image=False` leaves out the map picture (and the note about it) faster.
    `template` overrides the template file (default: $STORY_RELAY_REPORT_TEMPLATE or
    assets/report_template.docx). Raises ReportTemplateError for an unusable template.
    `vote_counts` (dots per story id) ranks the stories; by default the snapshot's own votes
    are used when it has them, and a workshop without votes keeps the order of arrival.
    `appendix=False` leaves out the appendix with all the raw data.
    """
    def say(fraction: float, message: str) -> None:
        if progress is not None:
            progress(max(0.0, min(1.0, fraction)), message)

    language = _LANGUAGE.set(snapshot.workshop.language)
    try:
        return _build_report(snapshot, say, include_map_image=include_map_image, template=template,
                             vote_counts=vote_counts, appendix=appendix, after_the_room=after_the_room)
    finally:
        _LANGUAGE.reset(language)


def _build_report(snapshot: Snapshot, say: Callable[[float, str], None], *, include_map_image: bool,
                  template: Path | str | None, vote_counts: dict[int, int] | None, appendix: bool,
                  after_the_room) -> bytes:
    say(0.0, "Preparing the report…")
    template = Path(template or os.environ.get(TEMPLATE_ENV) or TEMPLATE_PATH)
    w = _Writer(template)
    _footer_in_language(w.doc)
    shown_handoff = _other_functions_said(handoff_sides.anonymous_handoffs(snapshot))
    snapshot = room.anonymous_snapshot(snapshot)  # names off: no function that points at one or two people
    visible = exports.visible_stories(snapshot)
    snap = replace(snapshot, stories=visible)
    lib = _library()
    ws = snap.workshop
    keys = _exercise_keys(snap, lib)
    everything = {k: [s for s in visible if s.exercise_key == k] for k in keys}
    told = {k: [s for s in v if not exports.is_addition(s)] for k, v in everything.items()}
    additions: dict[int, list[Story]] = defaultdict(list)
    for s in visible:
        if exports.is_addition(s):
            additions[s.builds_on].append(s)
    n_told = sum(len(v) for v in told.values())
    n_additions = sum(len(v) for v in everything.values()) - n_told
    # Stories are written once in their chapter (additions with them) and once in the appendix.
    total = max(1, (n_told + n_additions) * (2 if appendix else 1))
    done = 0
    all_votes = exports.vote_counts(snapshot, vote_counts)

    def votes_in(k: str) -> dict[int, int] | None:
        """The votes, for an exercise that was voted on (dots cast, or voting opened); else None."""
        if all_votes is None:
            return None
        voted = any(all_votes.get(s.id) for s in everything[k])
        opened = any(getattr(i, "voting", "off") != "off" for i in snap.agenda if i.exercise_key == k)
        return all_votes if voted or opened else None

    def tick(n: int) -> None:
        nonlocal done
        before, done = done, done + n
        if before // 100 != done // 100 or done == total:
            say(0.1 + 0.8 * done / total, f"Writing stories… {min(done, total):,} of {total:,}")

    ctx = _Context(show_names=ws.show_names, functions=list(ws.functions),
                   partners=exports.partner_functions(snapshot), votes=None,
                   number=exports.story_numbers(visible), additions=additions, tick=tick,
                   shown_handoff=shown_handoff, guesses=rounds.guesses_by_term(snap, lib), snapshot=snap)
    kept = views.kept_in_room(snapshot)
    ctx.kept_in_room = Counter(s.exercise_key for s in snapshot.stories
                               if s.id in kept and not s.hidden and not exports.is_addition(s))

    _summary_page(w, snap, summarise(snapshot, vote_counts=vote_counts))
    _workshop_section(w, snap)
    say(0.05, "Agenda and people written.")

    # Journey maps first: their pictures are drawn by the browser while the stories are written.
    for k in keys:
        if views.get(lib[k].report_view).draws_map and told[k]:
            from . import journey_map

            # The map is drawn from every exercise that places stories (as the live map is), so a stage
            # someone owns in another exercise is not marked "no owner"; handoffs come from this one.
            on_map = [st for key in keys for st in told[key] if key == k or not views.get(lib[key].report_view).draws_map]
            ctx.journeys[k] = journey_map.build_journey(replace(snap, stories=on_map))
            if include_map_image:
                say(0.06, f"Drawing the journey map for {lib[k].title}…")
                ctx.pictures[k] = _MapPicture(ctx.journeys[k])

    for k in keys:
        ex = lib[k]
        stories = told[k]
        # A chapter with handoffs opens on a landscape page: both sides of each handoff need its width.
        wide = k in ctx.journeys and bool(ctx.journeys[k].handoffs) and bool(told[k])
        if wide:
            w.page_setup(landscape=True)
        w.heading(ex.title, 1)
        w.paragraph(ex.question, "Question")
        w.paragraph(ex.purpose)
        items = [i for i in snap.agenda if i.exercise_key == k]
        w.paragraph(_exercise_summary(stories, len(everything[k]) - len(stories), items), "Caption")
        ctx.votes = votes_in(k)
        if not stories:
            w.paragraph(_("No stories were told in this exercise."))
            continue
        views.get(ex.report_view).report_section(w, ctx, ex, stories)

    if after_the_room is not None:
        _after_the_room(w, after_the_room)
    if appendix and any(everything.values()):
        say(0.1 + 0.8 * done / total, "Writing the appendix…")
        _appendix(w, ctx, lib, keys, told, everything, votes_in)

    _fill_pictures(w, ctx.pending, lambda m: say(0.9, m))
    say(0.92, "Saving the document…")
    _properties(w, snap)
    out = io.BytesIO()
    w.save(out)
    say(1.0, "The report is ready.")
    return out.getvalue()


def _other_functions_said(shown_handoff: Callable[[object], object]) -> Callable[[object], object]:
    """A handoff answer whose sender is folded ("Other functions · Sale"), the fold in the report's language."""
    other, said = room.OTHER_FUNCTIONS + handoff_sides.SEPARATOR, _(room.OTHER_FUNCTIONS) + handoff_sides.SEPARATOR

    def shown(value: object) -> object:
        value = shown_handoff(value)
        return said + value[len(other):] if isinstance(value, str) and value.startswith(other) else value
    return shown


def _footer_in_language(doc) -> None:
    """The default template's footer ("Story Relay workshop report · page N of M") in the report's language."""
    said = {words: _(words) for words in TEMPLATE_FOOTER}
    for section in doc.sections:
        for part in (section.footer, section.first_page_footer, section.even_page_footer):
            if part.is_linked_to_previous:  # no footer of its own (reading it would add one)
                continue
            for paragraph in part.paragraphs:
                for run in paragraph.runs:
                    if run.text in said:
                        run.text = said[run.text]


def _exercise_summary(stories: list[Story], n_additions: int, items: list[AgendaItem]) -> str:
    functions = {s.function for s in stories}
    text = _("{stories} from {functions}").format(stories=_np('{n} story', '{n} stories', len(stories)),
                                                  functions=_np('{n} function', '{n} functions', len(functions)))
    if n_additions:
        text += ", " + _("with {additions}").format(additions=_np('{n} addition', '{n} additions', n_additions))
    if items and items[0].opened_at:
        text += "; " + _("opened at {time}").format(time=_when(items[0].opened_at))
    return text + "."


def _properties(w: _Writer, snap: Snapshot) -> None:
    props = w.doc.core_properties
    ws = snap.workshop
    props.title = docx_safe(ws.title)[:255]
    props.subject = docx_safe(_("Story Relay workshop report") + (f" · {ws.organisation}" if ws.organisation else ""))[:255]
    props.author = docx_safe(ws.facilitator or "Story Relay")[:255]
    props.last_modified_by = "Story Relay"
    props.comments = ""
    props.keywords = "Story Relay; " + _("workshop report")
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    props.created = props.modified = now
    props.revision = 1


def _after_the_room(w: _Writer, after) -> None:
    """Common themes (confirmed ones only) and commitment follow-through (facilitation/after_report.py)."""
    if after.themes:
        w.heading(_("Common themes"), 1)
        w.paragraph(_("Stories from different functions that say the same thing, grouped on this server and "
                      "confirmed by the facilitator."))
        usable_w, _height = w.usable_mm()
        w.table([_("Theme"), _("Stories of"), _("Heard by")], [[t.label, t.topic, t.heard_by] for t in after.themes],
                [usable_w * 0.35, usable_w * 0.25, usable_w * 0.4])
        for t in after.themes:
            w.heading(f"{t.label} · {t.heard_by.split(':', 1)[0]}", 2)
            for text, line in t.stories:
                w.paragraph(text + (f" — {line}" if line else ""))
    if after.rows:
        w.heading(_("Commitment follow-through"), 1)
        w.paragraph(after.totals.line(_LANGUAGE.get()))
        w.paragraph(_("What each person said since the workshop about their commitment, from their own link, "
                      "{days} after the workshop.").format(days=_np("{n} day", "{n} days", after.days_since)))
        usable_w, _height = w.usable_mm()
        header = [_("Functions"), _("Commitment"), _("By"), _("Status"), _("What happened")]
        rows = [list(r) for r in after.rows]
        w.table(header, rows, fit_widths(header, rows, usable_w, fixed={2: 22}))
