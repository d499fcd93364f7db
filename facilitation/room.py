"""What the room may see of an exercise: which stories, in what order, under which byline.

Pure functions over a snapshot, used by the projector, the participant wall and the report.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from typing import Mapping

from .exercises import Exercise
from .i18n import N_
from .workshops import AgendaItem, Participant, Snapshot, Story

# Below this many contributors a function's label would point at a person, so it is left off.
MIN_CONTRIBUTORS_FOR_FUNCTION_LABEL = 3
# Where the stories of functions that may not be named go, with names off (one lane, one label).
OTHER_FUNCTIONS = "Other functions"


def counted(n: int, singular: str, plural: str | None = None) -> str:
    """'1 story', '2 stories': a count in words the room reads aloud."""
    return f"{n:,} {singular if n == 1 else (plural or singular + 's')}"


def room_stories(snapshot: Snapshot, item: AgendaItem) -> list[Story]:
    """The stories of an agenda item the room may see: not hidden, not additions, and revealed if blind."""
    if not item.on_projector:
        return []
    return snapshot.stories_for(item.exercise_key)


def room_snapshot(snapshot: Snapshot) -> Snapshot:
    """The snapshot with only what the room may see: no stories of exercises still collected blind."""
    unseen = {i.exercise_key for i in snapshot.agenda if not i.on_projector}
    if not unseen:
        return snapshot
    return dataclasses.replace(snapshot, stories=[s for s in snapshot.stories if s.exercise_key not in unseen])


def contributor(participant_id: int | None, function: str, proxy_name: str | None, story_id: int) -> object:
    """Who a story counts as, for the anonymity rule: the participant; for a story told aloud and typed
    in by the facilitator, one teller per name given, else each such story a teller of its own."""
    if participant_id is not None:
        return participant_id
    name = (proxy_name or "").strip().casefold()
    return ("told aloud", function, name) if name else ("told aloud", story_id)


def _contributor(story: Story) -> object:
    return contributor(story.participant_id, story.function, story.proxy_name, story.id)


def named_functions(contributors: Mapping[str, set]) -> set[str]:
    """The functions that may be named, from each function's set of contributors.

    A function needs `MIN_CONTRIBUTORS_FOR_FUNCTION_LABEL` contributors. The functions left
    unnamed together must hide that many people too (or nobody): one Finance person alone in
    "Other functions" next to named lanes would be Finance by elimination, so the smallest named
    functions join them until they do.
    """
    labelled = {f for f, people in contributors.items() if len(people) >= MIN_CONTRIBUTORS_FOR_FUNCTION_LABEL}
    rest: set = set()
    for f, people in contributors.items():
        if f not in labelled:
            rest |= people
    for f in sorted(labelled, key=lambda f: (len(contributors[f]), f)):
        if not rest or len(rest) >= MIN_CONTRIBUTORS_FOR_FUNCTION_LABEL:
            break
        labelled.discard(f)
        rest |= contributors[f]
    return labelled


def labelled_functions(stories: list[Story], *, show_names: bool) -> set[str]:
    """Functions whose label may appear next to their stories.

    With names shown, every function. Anonymous, only functions with at least three different
    contributors in these stories, so a label never singles out one or two people; and the
    unlabelled ones together hide at least three people too (see `named_functions`).
    """
    if show_names:
        return {s.function for s in stories}
    contributors: dict[str, set] = defaultdict(set)
    for s in stories:
        contributors[s.function].add(_contributor(s))
    return named_functions(contributors)


def function_folds(snapshot: Snapshot) -> dict[tuple[str, str], str]:
    """With names off: (exercise key, teller's function) → the function that may be shown for it.

    Decided per exercise over its visible stories (additions left out), by the same rule as the
    projector's labels (`labelled_functions`); a function that may not be named becomes
    OTHER_FUNCTIONS. Empty with names on.
    """
    if snapshot.workshop.show_names:
        return {}
    contributors: dict[str, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    for s in snapshot.stories:
        if not s.hidden and s.builds_on is None:
            contributors[s.exercise_key][s.function].add(_contributor(s))
    folds: dict[tuple[str, str], str] = {}
    for key, by_function in contributors.items():
        named = named_functions(by_function)
        for f in by_function:
            folds[(key, f)] = f if f in named else OTHER_FUNCTIONS
    return folds


def anonymous_snapshot(snapshot: Snapshot, *, whole: Snapshot | None = None) -> Snapshot:
    """The snapshot as anyone but the facilitator may see it: with names off, no names, and each
    story's teller's function replaced by OTHER_FUNCTIONS where naming it could point at a person.

    Every screen, chart, hover and export built from the result keeps the ≥3-per-function rule.
    Folds are decided on `whole` when this snapshot is a filtered view of it. With names on, or
    already anonymous, the snapshot comes back unchanged. Additions to a story are folded like
    the stories of their exercise; hidden stories lose their function too. Folded functions keep
    their (possibly empty) lane, so a missing lane never tells which function was folded.
    """
    if snapshot.workshop.show_names:
        return snapshot
    folds = function_folds(whole if whole is not None else snapshot)
    changed = []
    any_folded = False
    for s in snapshot.stories:
        # An addition from a function that told no story of its own here has no fold: it is not named.
        shown = folds.get((s.exercise_key, s.function), OTHER_FUNCTIONS)
        any_folded |= shown == OTHER_FUNCTIONS and not s.hidden
        if shown != s.function or s.author_name or s.proxy_name:
            s = dataclasses.replace(s, function=shown, author_name="", proxy_name=None)
        changed.append(s)
    workshop = snapshot.workshop
    if any_folded and OTHER_FUNCTIONS not in workshop.functions:
        workshop = dataclasses.replace(workshop, functions=[*workshop.functions, OTHER_FUNCTIONS])
    return dataclasses.replace(snapshot, workshop=workshop, stories=changed)


def stopped_at(snapshot: Snapshot, item: AgendaItem) -> float | None:
    """When an agenda item that was opened stopped taking stories; None while it still takes them.

    Its recorded close; for the live item past zero with lock at zero, its zero; for an item left
    open when the next one opened (recorded by workshops that ran before this was stored), the
    moment the next item opened, or its zero if that came first.
    """
    if item.opened_at is None:
        return None
    if item.closed_at is not None:
        return item.closed_at
    w = snapshot.workshop
    zero = item.deadline if w.lock_at_zero else None
    if w.live_position == item.position and w.live_state == "open":
        return zero if zero is not None and zero <= snapshot.taken_at else None
    later = [i.opened_at for i in snapshot.agenda if i.opened_at is not None and i.opened_at > item.opened_at]
    ends = [t for t in (min(later) if later else None, zero) if t is not None]
    return min(ends) if ends else None


def byline(story: Story, *, show_names: bool, labelled: set[str]) -> str:
    """Who told a story, as the room sees it ('' when nothing may be said)."""
    parts = []
    if show_names and story.author_name:
        parts.append(story.author_name)
    if story.function in labelled:
        parts.append(story.function)
    return " · ".join(parts)


def ranked(stories: list[Story], vote_counts: dict[int, int]) -> list[tuple[Story, int]]:
    """Stories with their dots, most dots first; ties keep arrival order."""
    order = {s.id: i for i, s in enumerate(stories)}
    return sorted(((s, vote_counts.get(s.id, 0)) for s in stories), key=lambda p: (-p[1], order[p[0].id]))


def by_function(stories: list[Story], functions: list[str], *, labelled: set[str] | None = None) -> dict[str, list[Story]]:
    """Stories grouped by their teller's function, in the workshop's order (empty functions left out).

    With `labelled` (see `labelled_functions`), the stories of every other function share one
    OTHER_FUNCTIONS group, last: separate unnamed groups would still set one person's stories apart.
    """
    groups: dict[str, list[Story]] = {f: [] for f in functions}
    other: list[Story] = []
    for s in stories:
        if labelled is not None and s.function not in labelled:
            other.append(s)
        else:
            groups.setdefault(s.function, []).append(s)
    out = {f: told for f, told in groups.items() if told}
    if other:
        out.setdefault(OTHER_FUNCTIONS, []).extend(other)
    return out


def glossary(stories: list[Story], exercise: Exercise) -> list[tuple[str, str, str]]:
    """(term, plain meaning, function) rows for an exercise with a glossary, sorted by term."""
    if not exercise.glossary:
        return []
    term_field, meaning_field = exercise.glossary
    rows = [(s.answers.get(term_field, ""), s.answers.get(meaning_field, ""), s.function) for s in stories
            if s.answers.get(term_field)]
    return sorted(rows, key=lambda r: r[0].casefold())


def commitment_board(stories: list[Story], exercise: Exercise, functions: list[str]) -> dict[tuple[str, str], list[Story]]:
    """Commitments grouped by function pair (teller's function → the function it connects to)."""
    order = {f: i for i, f in enumerate(functions)}
    board: dict[tuple[str, str], list[Story]] = defaultdict(list)
    for s in stories:
        board[(s.function, s.answers.get(exercise.board_by, "") if exercise.board_by else "")].append(s)
    return dict(sorted(board.items(), key=lambda kv: (order.get(kv[0][0], 99), order.get(kv[0][1], 99), kv[0])))


# --- the facilitator's view of the live exercise ----------------------------------------------------

# The console's cards show the newest this many stories: a room of 500 drew 500 cards and 1,000 buttons
# on every redraw (a fifth of the server at a deadline), and nobody reads that far down; the compact
# list has every story.
CONSOLE_CARDS = 40

INCOMING_SORTS = {"newest": "Newest first", "oldest": "Oldest first", "gap": "Biggest gap first", "votes": "Most dots first"}


def not_sent_yet(snapshot: Snapshot, exercise_key: str) -> dict[str, list[Participant]]:
    """The people in the room who have sent nothing to this exercise yet (no story, no addition), by
    function in the workshop's order (functions where everyone has sent something left out)."""
    sent = {s.participant_id for s in snapshot.stories if s.exercise_key == exercise_key and s.participant_id is not None}
    waiting: dict[str, list[Participant]] = {f: [] for f in snapshot.workshop.functions}
    for p in snapshot.participants:
        if p.id not in sent:
            waiting.setdefault(p.function, []).append(p)
    return {f: people for f, people in waiting.items() if people}


def gap_field(exercise: Exercise) -> str | None:
    """The field whose score a facilitator sorts incoming stories by: the handoff's gap, else the first scale."""
    if exercise.handoff and exercise.handoff.get("gap"):
        return exercise.handoff["gap"]
    return next((f.name for f in exercise.fields if f.kind == "scale"), None)


def incoming_rows(stories: list[Story], exercise: Exercise, vote_counts: dict[int, int], *, sort: str = "newest",
                  spotlight_story_id: int | None = None) -> list[dict]:
    """One line per incoming story for the console's compact list (plain text, never markup).

    Keys: id, on projector (bool), time (float), function, author, story (the headline answer),
    gap (number or None), dots. `sort` is one of INCOMING_SORTS; ties keep the newest first.
    """
    gap_name = gap_field(exercise)
    rows = []
    for s in stories:
        gap = s.answers.get(gap_name) if gap_name else None
        rows.append({
            "id": s.id, "on projector": s.id == spotlight_story_id, "time": s.created_at, "function": s.function,
            "author": s.author_name + (" (entered by the facilitator)" if s.by_proxy else ""),
            "story": str(s.answers.get(exercise.headline, "")),
            "gap": gap if isinstance(gap, (int, float)) and not isinstance(gap, bool) else None,
            "dots": vote_counts.get(s.id, 0),
        })
    rows.sort(key=lambda r: (-r["time"], -r["id"]))
    if sort == "oldest":
        rows.reverse()
    elif sort == "gap":
        rows.sort(key=lambda r: (r["gap"] is None, -(r["gap"] or 0)))
    elif sort == "votes":
        rows.sort(key=lambda r: -r["dots"])
    elif sort != "newest":
        raise ValueError(sort)
    return rows


# --- a wall bigger than one screen ------------------------------------------------------------

ROTATE_SECONDS = 15  # how long the projector shows one page of a wall before the next


@dataclasses.dataclass(frozen=True)
class WallPage:
    """One page of a wall that rotates: what is on it, which page it is, and how many it shows."""

    items: list
    number: int  # 1-based
    pages: int
    shown: int  # stories on this page
    total: int  # stories on the whole wall

    @property
    def note(self) -> str:
        """'showing 8 of 24 · page 1 of 3' when the wall does not fit one screen, else ''."""
        return self.note_in()

    def note_in(self, gettext=None) -> str:
        """The note in the room's language (`gettext` of its translator)."""
        if self.pages <= 1:
            return ""
        message = N_("showing {shown} of {total} · page {number} of {pages}")
        return (gettext(message) if gettext else message).format(
            shown=self.shown, total=self.total, number=self.number, pages=self.pages)


def rotation_slot(now: float, seconds: float | None = None) -> int:
    """Which rotation step the projector is in at `now` (the page is this modulo the page count)."""
    return int(now // (seconds or ROTATE_SECONDS))


def wall_page(items: list, per_page: int, slot: int, *, weight=lambda item: 1) -> WallPage:
    """Page `slot` (modulo the page count) of `items`, `per_page` at a time; `weight` counts the stories in an item."""
    per_page = max(1, per_page)
    pages = max(1, -(-len(items) // per_page))
    index = slot % pages
    shown = items[index * per_page:(index + 1) * per_page]
    return WallPage(items=shown, number=index + 1, pages=pages, shown=sum(weight(i) for i in shown),
                    total=sum(weight(i) for i in items))


def wall_columns(groups: dict, per_column: int) -> list[tuple[object, list[Story], int, int]]:
    """Groups of stories (newest first within each) cut into columns of at most `per_column`.

    Returns (group, stories, part, parts) per column, so a group with more stories than one column
    holds continues in the next column or on the next page instead of pushing older stories off.
    """
    columns = []
    for group, told in groups.items():
        newest = list(reversed(told))
        parts = max(1, -(-len(newest) // per_column))
        for part in range(parts):
            columns.append((group, newest[part * per_column:(part + 1) * per_column], part + 1, parts))
    return columns
