"""What the room may see of an exercise: which stories, in what order, under which byline.

Pure functions over a snapshot, used by the projector, the participant wall and the report.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict

from .exercises import Exercise
from .workshops import AgendaItem, Snapshot, Story

# Below this many contributors a function's label would point at a person, so it is left off.
MIN_CONTRIBUTORS_FOR_FUNCTION_LABEL = 3


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


def _contributor(story: Story) -> object:
    return story.participant_id if story.participant_id is not None else ("told aloud", story.id)


def labelled_functions(stories: list[Story], *, show_names: bool) -> set[str]:
    """Functions whose label may appear next to their stories.

    With names shown, every function. Anonymous, only functions with at least three different
    contributors in these stories, so a label never singles out one or two people.
    """
    if show_names:
        return {s.function for s in stories}
    contributors: dict[str, set] = defaultdict(set)
    for s in stories:
        contributors[s.function].add(_contributor(s))
    return {f for f, people in contributors.items() if len(people) >= MIN_CONTRIBUTORS_FOR_FUNCTION_LABEL}


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


def by_function(stories: list[Story], functions: list[str]) -> dict[str, list[Story]]:
    """Stories grouped by their teller's function, in the workshop's order (empty functions left out)."""
    groups: dict[str, list[Story]] = {f: [] for f in functions}
    for s in stories:
        groups.setdefault(s.function, []).append(s)
    return {f: told for f, told in groups.items() if told}


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
        if self.pages <= 1:
            return ""
        return f"showing {self.shown} of {self.total} · page {self.number} of {self.pages}"


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
