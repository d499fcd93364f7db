"""Room views: how an exercise's stories are shaped for the room and written in the report.

One module per view in this package; each defines a `View` subclass and registers it:

    from . import View, register

    @register
    class Cards(View):
        name = "cards"
        def shape(self, stories, exercise, *, snapshot, labelled, show_names): ...   # what the projector gets
        def stories_section(self, w, ctx, exercise, stories): ...                   # its report section

An exercise file picks a view by name (`[room] view`, `[report] view`); the projector layout of
the same name lives in `pages/views/`. Modules are found with pkgutil on first use, so a new
view is one new module. An unknown name (an old archive, a view since removed) gets the wall.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..exercises import Exercise
    from ..workshops import Snapshot, Story

FALLBACK = "wall"
_views: dict[str, "View"] = {}
_aliases: dict[str, str] = {}


class View:
    """A room view. Subclasses set `name` and override what differs from the plain wall."""

    name: str = ""
    aliases: tuple[str, ...] = ()   # older names that still resolve here (exercise files, archives)
    draws_map = False               # the report draws a journey map from this exercise's stories
    collects_commitments = False    # its stories are commitments (summary page, follow-up)
    glossary_by_default = False     # the report shows a glossary even when the file names no pair
    ranks_by_votes = False          # its section already orders by votes (no separate "Most votes")
    draws_build_ons = False         # its phone part draws the build-on list itself (not the generic one)

    def stays_in_room(self, exercise: "Exercise", story: "Story") -> bool:
        """Whether a story may be seen only by the room (projector, phones), never in the report, the
        story bank or an export; e.g. one its teller did not clear for retelling."""
        return False

    def shape(self, stories: list["Story"], exercise: "Exercise", *, snapshot: "Snapshot",
              labelled: set[str], show_names: bool) -> object:
        """What the projector shows of the room's stories (already the ones the room may see);
        `labelled` are the functions the anonymity rule lets it name. The wall: newest first."""
        return list(reversed(stories))

    def report_section(self, w, ctx, exercise: "Exercise", stories: list["Story"]) -> None:
        """The exercise's chapter body in the Word report (python-docx writer `w`, `report._Context`)."""
        from .. import report
        from .glossary import glossary_section
        from .then_and_now import then_and_now_section

        if not self.ranks_by_votes:
            report.top_votes(w, ctx, exercise, stories)
        glossary_section(w, ctx, exercise, stories)
        then_and_now_section(w, ctx, exercise, stories)
        self.stories_section(w, ctx, exercise, stories)

    def stories_section(self, w, ctx, exercise: "Exercise", stories: list["Story"]) -> None:
        """Every story verbatim: by default grouped by the teller's function."""
        from .by_function import stories_by_function

        stories_by_function(w, ctx, exercise, stories)


def kept_in_room(snapshot: "Snapshot") -> set[int]:
    """The ids of the stories (and their additions) that stay in the room (see `View.stays_in_room`)."""
    from ..exercises import library

    lib = library()
    kept = {s.id for s in snapshot.stories if getattr(s, "builds_on", None) is None and s.exercise_key in lib
            and get(lib[s.exercise_key].report_view).stays_in_room(lib[s.exercise_key], s)}
    return kept | {s.id for s in snapshot.stories if getattr(s, "builds_on", None) in kept}


def register(cls: type[View]) -> type[View]:
    """Class decorator: make a view available under its `name` (and `aliases`)."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    _views[cls.name] = cls()
    for alias in cls.aliases:
        _aliases[alias] = cls.name
    return cls


class ModuleScan:
    """Imports every module of a package's folders once; looks again only when its `__path__` changes
    (every run of every phone asks, the folders rarely change). pages/views uses one too."""

    def __init__(self, package: str):
        self.package, self.found, self._scanned = package, set(), ()

    def __call__(self, path) -> None:
        if tuple(path) == self._scanned:
            return
        for module in pkgutil.iter_modules(path):
            if module.name not in self.found:
                self.found.add(module.name)
                importlib.import_module(f"{self.package}.{module.name}")
        self._scanned = tuple(path)


_scan = ModuleScan(__name__)


def discover() -> None:
    """Import every module of this package (and any folder added to its `__path__`) once."""
    _scan(__path__)


def names() -> list[str]:
    """Every registered view name (aliases included), sorted."""
    discover()
    return sorted({*_views, *_aliases})


def known(name: str) -> bool:
    """Whether a module registers a view under `name` (exercise files may only name these)."""
    discover()
    return name in _views or name in _aliases


def get(name: str) -> View:
    """The view registered under `name`; the wall for a name no module registers."""
    discover()
    name = _aliases.get(name, name)
    return _views.get(name) or _views[FALLBACK]
