"""What a commitment is tied to, and what the commitments board says about the room.

A commitment names the story or handoff from today it serves, picked from `serve_options`: the
journey map's handoffs (widest gap first) and the stories the room has seen on its walls. The
labels are what is stored, so a commitment still reads the same in an archive restored elsewhere.
`board_facts` gives the board its dates and the functions in the room nobody connected to.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from . import i18n, journey_map, room
from .exercises import Exercise, library
from .workshops import Snapshot, Story

STORY_LABEL_CHARS = 90  # a story's headline is cut to this in the list a phone scrolls


def _short(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def handoff_label(from_function: str, to_function: str, stage: str) -> str:
    """How a handoff reads in the list: 'Handoff · Sales → Implementation at Sale'."""
    return f"Handoff · {from_function} → {to_function} at {stage}"


def serve_label(value: str, language: str | None = None) -> str:
    """How a stored `handoff_label` reads in the room's language (the stored text stays as it is);
    a story's words are shown as they were typed."""
    head = "Handoff · "
    if not isinstance(value, str) or not value.startswith(head) or " → " not in value or " at " not in value:
        return str(value)
    sender, _arrow, rest = value[len(head):].partition(" → ")
    receiver, _at, stage = rest.rpartition(" at ")
    return i18n.translator(language).gettext("Handoff · {sender} → {receiver} at {stage}").format(
        sender=sender, receiver=receiver, stage=stage)


def serve_options(snapshot: Snapshot, lib: dict[str, Exercise] | None = None) -> list[str]:
    """What a commitment may serve: every handoff on the map (widest gap first), then every story
    the room may see from the other exercises (most dots first within an exercise, in agenda order).

    Built from what the room may see (blind exercises not yet revealed are left out) and, with names
    off, under the anonymity rule: a handoff names only functions the map may name.
    """
    lib = lib or library()
    seen = room.room_snapshot(snapshot)
    options: list[str] = []
    journey = journey_map.build_journey(seen, whole=seen)
    options += [handoff_label(h.from_function, h.to_function, h.stage) for h in journey.handoffs]
    counts = seen.vote_counts()
    for item in seen.agenda:
        ex = lib.get(item.exercise_key)
        if ex is None or ex.board_by or any(f.kind == "story_or_handoff" for f in ex.fields):
            continue
        for story, _dots in room.ranked(room.room_stories(seen, item), counts):
            headline = story.answers.get(ex.headline, "")
            if isinstance(headline, str) and headline.strip():
                options.append(f"{ex.title} · {_short(headline, STORY_LABEL_CHARS)}")
    return list(dict.fromkeys(options))


@dataclass(frozen=True)
class BoardFacts:
    """What the commitments board adds to the commitments themselves."""

    nobody_connected: list[str]     # functions in the room no commitment connects to, in the workshop's order
    earliest: dt.date | None        # the first date on the board: a good day to check back
    dated: int                      # commitments with a date


def commitment_date(story: Story, exercise: Exercise) -> dt.date | None:
    """The commitment's date (its first date field), or None when it has none or it is unreadable."""
    name = next((f.name for f in exercise.fields if f.kind == "date"), None)
    value = story.answers.get(name) if name else None
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def board_facts(snapshot: Snapshot, exercise: Exercise, stories: list[Story]) -> BoardFacts:
    """The functions in the room nobody connected to, and the dates on the board."""
    present = {p.function for p in snapshot.participants}
    # A stored answer may be any JSON value (an archive, an older version): only text names a function.
    connected = {a for a in (s.answers.get(exercise.board_by) for s in stories) if isinstance(a, str)} \
        if exercise.board_by else set()
    nobody = [f for f in snapshot.workshop.functions if f in present and f not in connected]
    dates = [d for d in (commitment_date(s, exercise) for s in stories) if d is not None]
    return BoardFacts(nobody_connected=nobody, earliest=min(dates) if dates else None, dated=len(dates))


def short_date(day: dt.date | None, language: str | None = None) -> str:
    """'Fri 11 Dec' (the board's date, read from the back of the room), as the room's language writes it
    ('Fr., 11. Dez.'); '' for none."""
    if not day:
        return ""
    if not language or language == i18n.SOURCE_LANGUAGE:
        return f"{day:%a} {day.day} {day:%b}"
    return i18n.format_date(day, language, "EEE d MMM")
