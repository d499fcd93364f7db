"""Spreadsheet export of a workshop's stories, and the small rules the exports share.

    data = stories_csv(snapshot)          # bytes: UTF-8 with a BOM, so Excel reads the accents

One row per story (hidden stories, and additions to hidden stories, are left out), in the
order the stories arrived. The columns are: exercise, story number within the exercise (the
number the report uses; an addition has none), function, author, created (UTC, ISO 8601),
votes (when voting was opened or dots were cast), "builds on story" (when a story was added
to), and then every field of every exercise that has stories, headed "<exercise title>:
<field label>". A story fills the columns of its own exercise and leaves the others empty.

Anonymity: when the workshop does not show names, the author column is empty and a
"partner" answer (a person's name) is replaced by that person's function.

Spreadsheet safety: a text cell that starts with = + - @ (or a tab or carriage return, or
their full-width forms) gets a leading apostrophe, so a spreadsheet shows it as text and
never runs it as a formula ("CSV injection"). Numbers are written as numbers. Lone
surrogates (which UTF-8 cannot hold) become U+FFFD and NUL characters are dropped; every
other character, line breaks included, is kept as typed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from typing import Iterable

from .exercises import Exercise, Field, library
from .room import MIN_CONTRIBUTORS_FOR_FUNCTION_LABEL as MIN_PEOPLE_FOR_FUNCTION
from . import handoff_sides, i18n
from .room import anonymous_snapshot
from .workshops import Snapshot, Story

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_SURROGATES = re.compile("[\ud800-\udfff]")
CSV_MEDIA_TYPE = "text/csv"


# --- shared by the CSV and the report -----------------------------------------------------------

def vote_counts(snapshot: Snapshot, explicit: dict[int, int] | None = None) -> dict[int, int] | None:
    """Dots per story id: `explicit` if given, else the snapshot's own count if it has one
    (`Snapshot.vote_counts()` or a `vote_counts` dict), else None (the workshop has no votes)."""
    if explicit is not None:
        return dict(explicit)
    found = getattr(snapshot, "vote_counts", None)
    if callable(found):
        found = found()
    if isinstance(found, dict):
        return {int(k): int(v) for k, v in found.items()}
    return None


def visible_stories(snapshot: Snapshot) -> list[Story]:
    """The stories that may be shown outside the room: not hidden, not an addition to a hidden story,
    and not one its view keeps in the room (a story not cleared for retelling)."""
    from . import views

    hidden = {s.id for s in snapshot.stories if s.hidden}
    kept = views.kept_in_room(snapshot)
    return [s for s in snapshot.stories if not s.hidden and getattr(s, "builds_on", None) not in hidden
            and s.id not in kept]


def is_addition(story: Story) -> bool:
    """True for an addition to another story ("build on it"), shown under that story."""
    return getattr(story, "builds_on", None) is not None


def story_numbers(stories: Iterable[Story]) -> dict[int, int]:
    """Story id → its number within its exercise (1, 2, … in the order they arrived), for the
    visible stories given; additions get no number. The report and the CSV use the same numbers."""
    counters: dict[str, int] = {}
    numbers: dict[int, int] = {}
    for s in stories:
        if is_addition(s):
            continue
        counters[s.exercise_key] = counters.get(s.exercise_key, 0) + 1
        numbers[s.id] = counters[s.exercise_key]
    return numbers


def partner_functions(snapshot: Snapshot) -> dict[str, str]:
    """Display name → function, for names that belong to exactly one participant."""
    seen: dict[str, set[str]] = {}
    for p in snapshot.participants:
        seen.setdefault(p.display_name, set()).add(p.function)
    return {name: next(iter(fs)) for name, fs in seen.items() if len(fs) == 1}


def shown_partner(value: object, show_names: bool, functions_by_name: dict[str, str],
                  language: str | None = None) -> str:
    """A partner answer as it may be shown: the name, or with names hidden the partner's function
    (said in the workshop's `language`)."""
    if value is None or value == "":
        return ""
    if show_names:
        return value if isinstance(value, str) else str(value)
    function = functions_by_name.get(value) if isinstance(value, str) else None
    # Names off: a function with fewer than three people in it would name the colleague.
    if function is not None and sum(1 for f in functions_by_name.values() if f == function) < MIN_PEOPLE_FOR_FUNCTION:
        function = None
    _ = i18n.translator(language).gettext
    return _("a colleague from {function}").format(function=function) if function else _("a colleague")


def author(story: Story, show_names: bool) -> str:
    """Who told the story, when names are shown (also a name typed in by proxy); else ''."""
    if not show_names:
        return ""
    return (story.author_name or getattr(story, "proxy_name", None) or "").strip()


def iso_utc(ts: float | None) -> str:
    if ts is None:
        return ""
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).isoformat(timespec="seconds")


# --- CSV --------------------------------------------------------------------------------------

def spreadsheet_safe(value: object) -> object:
    """A cell value a spreadsheet shows as typed: text made safe (see the module docstring),
    numbers left as numbers, lists joined with '; ', anything else as JSON text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, (list, tuple)):
        value = "; ".join("" if v is None else str(v) for v in value)
    elif isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False)
    elif not isinstance(value, str):
        value = str(value)
    value = _SURROGATES.sub("\ufffd", value).replace("\x00", "")
    if value.startswith(FORMULA_STARTS):
        value = "'" + value
    return value


def _columns(exercises: Iterable[Exercise], stories: list[Story]) -> list[tuple[str, str, str]]:
    """(exercise key, field name, header) for every field of every exercise with stories, plus
    answers to fields no longer in the exercise file."""
    cols: list[tuple[str, str, str]] = []
    for ex in exercises:
        mine = [s for s in stories if s.exercise_key == ex.key]
        if not mine:
            continue
        known = {f.name for f in ex.fields}
        cols += [(ex.key, f.name, f"{ex.title}: {f.label}") for f in ex.fields]
        extra = sorted({k for s in mine if isinstance(s.answers, dict) for k in s.answers if k not in known})
        cols += [(ex.key, name, f"{ex.title}: {name}") for name in extra]
    return cols


def stories_csv(snapshot: Snapshot, *, vote_counts_by_story: dict[int, int] | None = None) -> bytes:
    """Every visible story as one CSV row (see the module docstring). UTF-8 with BOM, CRLF lines.

    With names off, a function that could point at one or two people reads "Other functions"."""
    shown_handoff = handoff_sides.anonymous_handoffs(snapshot)  # folds read before the snapshot is anonymous
    snapshot = anonymous_snapshot(snapshot)
    ws = snapshot.workshop
    lib = library()
    stories = visible_stories(snapshot)
    order = list(dict.fromkeys([i.exercise_key for i in snapshot.agenda] + [s.exercise_key for s in stories]))
    exercises = [lib[k] if k in lib else _unknown_exercise(k) for k in order]
    titles = {ex.key: ex.title for ex in exercises}
    fields: dict[tuple[str, str], Field | None] = {}
    for ex in exercises:
        for f in ex.fields:
            fields[(ex.key, f.name)] = f
    votes = vote_counts(snapshot, vote_counts_by_story)
    if votes is not None and not any(votes.values()) \
            and not any(getattr(i, "voting", "off") != "off" for i in snapshot.agenda):
        votes = None  # nobody voted and voting never opened: no Votes column
    has_build_ons = any(is_addition(s) for s in stories)
    partners = partner_functions(snapshot)
    number = story_numbers(stories)
    cols = _columns(exercises, stories)

    header = ["Exercise", "Story", "Function", "Author", "Created (UTC)"]
    if votes is not None:
        header.append("Votes")
    if has_build_ons:
        header.append("Builds on story")
    header += [h for _, _, h in cols]

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([spreadsheet_safe(h) for h in header])
    for s in stories:
        row: list[object] = [titles.get(s.exercise_key, s.exercise_key), number.get(s.id, ""), s.function,
                             author(s, ws.show_names), iso_utc(s.created_at)]
        if votes is not None:
            row.append(votes.get(s.id, 0))
        if has_build_ons:
            row.append(number.get(getattr(s, "builds_on", None), ""))
        answers = s.answers if isinstance(s.answers, dict) else {}
        for key, name, _ in cols:
            if key != s.exercise_key:
                row.append("")
                continue
            value = answers.get(name)
            f = fields.get((key, name))
            if f is not None and f.kind == "partner" and not ws.show_names:
                value = shown_partner(value, False, partners)
            elif f is not None and f.kind == "handoff":
                value = shown_handoff(value)
            row.append(value)
        writer.writerow([spreadsheet_safe(v) for v in row])
    return out.getvalue().encode("utf-8-sig")


def csv_filename(snapshot: Snapshot) -> str:
    stamp = dt.datetime.fromtimestamp(snapshot.taken_at).strftime("%Y-%m-%d_%H%M")
    return f"story-relay-{snapshot.workshop.code}-{stamp}-stories.csv"


def _unknown_exercise(key: str) -> Exercise:
    """Stand-in for an exercise whose file is gone: its stories keep their raw answers."""
    return Exercise(key=key, title=key, question="", purpose="", minutes=1, order=999, source="", say="",
                    debrief="", fields=(), room_view="wall", headline="", report_view="by_function")
