"""What the report says about after the room: commitment follow-through and the common themes.

`gather(store, workshop)` reads it once (the report itself is built from a snapshot; these live
in their own tables); `facilitation.report.build_report(..., after_the_room=...)` writes it.
Only confirmed themes are included, and a function is named only where the room's anonymity
rule allows it (`room.labelled_functions`).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import follow_up, i18n, room, themes
from .workshops import Workshop


@dataclass(frozen=True)
class ThemeLine:
    label: str
    topic: str
    heard_by: str                       # 'heard by 5 functions: Sales, Support and 3 others'
    stories: tuple[tuple[str, str], ...]  # (text, byline)


@dataclass(frozen=True)
class AfterTheRoom:
    totals: follow_up.FollowThrough
    rows: tuple[tuple[str, str, str, str, str], ...]  # (pair, commitment, by when, status, what happened)
    themes: tuple[ThemeLine, ...]
    days_since: int


def gather(store, workshop: Workshop) -> AfterTheRoom:
    """Follow-through and confirmed themes of a workshop, ready to write."""
    check = follow_up.check_in(store, workshop.id)
    language = workshop.language
    _ = i18n.translator(language).gettext
    rows = tuple((f"{a} → {b}" if b else a, c.action,
                  i18n.format_date(c.by_when, language, "medium") if c.by_when else "", _(c.status_label), c.note)
                 for (a, b), found in check.by_pair.items() for c in found)
    by_topic = themes.topic_stories(store, workshop.id)
    lines = []
    for t in themes.list_themes(store, workshop.id, confirmed_only=True):
        labelled = room.labelled_functions(by_topic.get(t.topic, list(t.stories)), show_names=workshop.show_names)
        topic = themes.TOPICS.get(t.topic)
        stories = tuple((themes.story_text(s, topic) if topic else "", room.byline(s, show_names=workshop.show_names,
                                                                                   labelled=labelled))
                        for s in t.stories)
        lines.append(ThemeLine(t.label, _(t.topic_title), t.heard_by_line(labelled, language), stories))
    return AfterTheRoom(totals=check.totals, rows=rows, themes=tuple(lines), days_since=check.days_since)
