"""The journey map: where the customer's story passes from one function to the next, and where it stops.

Built in pure steps from a workshop `Snapshot`, with no Streamlit import:

* `build_journey(snapshot)` places every visible story of every exercise that feeds the map
  (`map_roles`: an exercise with a `[handoff]` table, or any exercise with a `function` and a
  `stage` field) in its cell of the grid (functions as lanes, stages as columns), aggregates
  the handoffs between functions per (from, to, stage) with their mean and weighted gap
  scores, and finds the dead ends (handoffs nobody downstream picks up) and the stages
  nobody owns. `filter_snapshot` narrows a snapshot by function, stage and exercise first.
* `journey_figure(journey)` draws it as one Plotly figure, used live on the projector, on
  the map page and as the report's picture; `sankey_figure(journey)` draws the same handoffs
  as a function-to-function flow. `handoff_rows(journey)` gives the handoffs as table rows.

Both sides: an exercise with a `[receives]` table (What actually arrives) answers the handoffs of
another; each answer joins its handoff as an `Arrival` (what arrived, what was missing), drawn as a
diamond beside the arrow. With names off an answer from a receiving function that may not be named
matches no handoff (`Journey.unmatched_arrivals`): attached to one, it would point at its one or two
people. Each lane's `Reach` (the furthest stage its tellers say their part of the story ends, else
where they hand on) is a bar under the lane; a gap the customer judged (`HandoffAccount.customer_judged`)
puts ★ on its arrow's number and a ring round its story.

Ranking: handoffs are ordered by a weighted gap, the mean gap shrunk toward the room's mean
gap as if `PRIOR_STORIES` (3) more stories had given that mean (a Bayesian average). One
story scoring 5 thus ranks below 38 stories averaging 4.3, which is what a facilitator wants
to talk about first; `ranking_caption` says it in a sentence for a table.

All user text that goes into a figure is HTML-escaped (Plotly renders a subset of HTML in
labels and hover text); `handoff_rows` returns plain, unescaped text for tables and Word.

Gap colours use Plotly's sequential 'YlOrRd' scale (yellow → orange → red; ColorBrewer,
safe for the common forms of colour blindness because lightness falls monotonically),
and every arrow also carries its gap as a printed number, so no information is by colour alone.
"""

from __future__ import annotations

import html
import math
from collections import defaultdict
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Iterable, Mapping

import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from . import handoff_sides, room
from .i18n import N_, format_number, translator
from .exercises import Exercise, Field, library, library_in
from .input_rules import MAX_FUNCTIONS, MAX_STAGES
from .workshops import Snapshot, Story

EMPTY_NOTE = N_("Stories will appear here as they arrive")
REACH_LABEL = N_("how far each story reaches")
ANSWERED_LABEL = N_("the receiver answered")
JUDGED_LABEL = N_("judged by the customer")
REACH_BAR_Y = 0.41  # the reach bar's place in its lane, below the story markers (a lane spans ±0.5)
DEAD_END_LABEL = N_("nobody picks this up")
NO_OWNER_LABEL = N_("no owner")
GAP_COLOURBAR_TITLE = N_("Gap (1–5)")
ROOM_FONT_PX = 24  # the smallest type a room reads on a projector from 10 m (journey_figure's min_font_px)
GAP_COLOURSCALE = "YlOrRd"
GAP_MIN, GAP_MAX = 1.0, 5.0
HOVER_MAX_CHARS = 280
HOVER_LINE_CHARS = 50
DEFAULT_MAX_ARROWS = 30
# At most this many lanes and columns are drawn (the limits of a new workshop), whatever is stored:
# a workshop that got into the database some other way with 20,000 functions costs no more to draw.
MAX_LANES_DRAWN = MAX_FUNCTIONS
MAX_STAGES_DRAWN = MAX_STAGES
ARROW_MIN_PX, ARROW_MAX_PX = 2.0, 18.0
ARROW_FULL_AT = 6  # a handoff needs at least this many stories for a full-width arrow
# Ranking: a handoff's mean gap is shrunk toward the room's mean as if this many more stories had given it.
PRIOR_STORIES = 3.0
RANKING_RULE = (f"Handoffs are ranked by weighted gap = (n × mean gap + {PRIOR_STORIES:g} × room mean gap) / "
                f"(n + {PRIOR_STORIES:g}), n being the number of scored stories; ties go to more stories.")
VALIDATE = False  # check the figure against Plotly's schema while building it (the tests turn this on)


# --- the model ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Placed:
    """One story in its cell, with the text the map shows for it and whom it hands on to."""

    story: Story
    headline: str
    to_function: str | None
    customer_judged: bool = False  # the customer judged this story's gap (a quote, a ticket, a score)


@dataclass(frozen=True)
class Cell:
    """The stories one function tells about one stage (one box of the grid)."""

    function: str
    stage: str
    placed: tuple[Placed, ...] = ()

    @property
    def stories(self) -> tuple[Story, ...]:
        return tuple(p.story for p in self.placed)

    @property
    def count(self) -> int:
        return len(self.placed)


@dataclass(frozen=True)
class HandoffAccount:
    """One story's account of a handoff: what was promised, lived and lost, and the gap (1–5) if scored.

    `customer_judged`: the customer judged that gap (a quote, a ticket, a score: `evidence`), not us."""

    story: Story
    promise: str
    experience: str
    lost: str
    gap: float | None
    customer_judged: bool = False
    evidence: str = ""


@dataclass(frozen=True)
class Arrival:
    """The receiving side of a handoff: one receiver's answer of what arrived and what was missing."""

    story: Story
    arrived: str
    missing: str


@dataclass(frozen=True)
class Reach:
    """How far one function's part of the customer's story reaches: the furthest stage its tellers say it ends at.

    `named` counts the stories that said where their part ends; the others end where they hand on."""

    function: str
    stage: str
    stories: int
    named: int

    @property
    def sentence(self) -> str:
        owner = f"{self.function}'" if self.function.endswith("s") else f"{self.function}'s"
        return f"{owner} story stops at {self.stage}"


@dataclass(frozen=True)
class Handoff:
    """Every story describing the same handoff: `from_function` → `to_function` at `stage`.

    `target_stage` is where the arrow lands: the earliest stage at or after `stage` where the
    receiving function tells a story; for a dead end (it tells none), the next stage.
    """

    from_function: str
    to_function: str
    stage: str
    target_stage: str
    accounts: tuple[HandoffAccount, ...]
    mean_gap: float | None
    dead_end: bool
    weighted_gap: float | None = None  # the mean gap shrunk toward the room's mean: what the ranking uses
    scored: int = 0  # how many of the accounts carry a gap score
    arrivals: tuple[Arrival, ...] = ()  # the receiving function's answers (What actually arrives)

    @property
    def count(self) -> int:
        return len(self.accounts)

    @property
    def stories(self) -> tuple[Story, ...]:
        return tuple(a.story for a in self.accounts)

    @property
    def lost_texts(self) -> tuple[str, ...]:
        """The distinct non-blank 'what gets lost' answers, in the order they arrived."""
        return _distinct(a.lost for a in self.accounts)

    @property
    def arrived_texts(self) -> tuple[str, ...]:
        """The receivers' distinct 'what actually arrived' answers."""
        return _distinct(a.arrived for a in self.arrivals)

    @property
    def missing_texts(self) -> tuple[str, ...]:
        """The receivers' distinct 'what was missing' answers."""
        return _distinct(a.missing for a in self.arrivals)

    @property
    def customer_judged(self) -> int:
        """How many of the accounts' gaps the customer judged (with evidence); the rest are our guess."""
        return sum(1 for a in self.accounts if a.customer_judged)


def _distinct(texts: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for text in texts:
        text = text.strip()
        if text and text.casefold() not in seen:
            seen[text.casefold()] = text
    return tuple(seen.values())


class _Cells(Mapping):
    """Every lane × column pair → its Cell; the empty ones are made when asked for, never stored,
    so a grid of many lanes and columns costs only its filled cells."""

    def __init__(self, lanes: list[str], columns: list[str], filled: dict[tuple[str, str], Cell]):
        self._lanes, self._columns, self.filled = tuple(lanes), tuple(columns), filled
        self._lane_set, self._column_set = set(lanes), set(columns)

    def __getitem__(self, key):
        found = self.filled.get(key)
        if found is not None:
            return found
        function, stage = key
        if function in self._lane_set and stage in self._column_set:
            return Cell(function, stage)
        raise KeyError(key)

    def __contains__(self, key) -> bool:
        try:
            function, stage = key
        except (TypeError, ValueError):
            return False
        return function in self._lane_set and stage in self._column_set

    def __iter__(self):
        return ((f, s) for f in self._lanes for s in self._columns)

    def __len__(self) -> int:
        return len(self._lanes) * len(self._columns)


def _filled_cells(cells: Mapping[tuple[str, str], Cell]) -> Iterable[Cell]:
    if isinstance(cells, _Cells):
        return cells.filled.values()
    return (c for c in cells.values() if c.count)


@dataclass(frozen=True)
class Journey:
    """The whole map: lanes (functions, top to bottom), columns (stages), cells, handoffs, gaps in ownership.

    `cells` holds every lane × column pair (empty ones too). `handoffs` are sorted by weighted
    gap (highest first, unscored last), then story count, then names (see `RANKING_RULE`).
    `uncovered_stages` are stages between the first and last stage with stories where nobody
    tells one. `unplaced` counts visible stories that name no stage or no function and so have
    no cell. `room_gap` is the mean of every scored handoff story (None if none is scored).
    """

    functions: tuple[str, ...]
    stages: tuple[str, ...]
    cells: Mapping[tuple[str, str], Cell]
    handoffs: tuple[Handoff, ...]
    uncovered_stages: tuple[str, ...]
    exercise_titles: Mapping[str, str]
    unplaced: int = 0
    room_gap: float | None = None
    reach: Mapping[str, Reach] = field(default_factory=dict)  # lane → how far its story reaches
    # Receivers' answers that match no handoff on this map (a sender's story hidden or changed since, or,
    # with names off, a receiving function with fewer than three people answering): never drawn.
    unmatched_arrivals: tuple[Arrival, ...] = ()
    language: str = "en"  # the room's: every label the map writes is in it

    def cell(self, function: str, stage: str) -> Cell:
        return self.cells.get((function, stage)) or Cell(function, stage)

    @property
    def story_count(self) -> int:
        return sum(c.count for c in _filled_cells(self.cells))

    @property
    def is_empty(self) -> bool:
        return self.story_count == 0

    @property
    def dead_ends(self) -> tuple[Handoff, ...]:
        return tuple(h for h in self.handoffs if h.dead_end)


# --- building ----------------------------------------------------------------------------

def _name(value: object) -> str:
    """A function or stage name from an answer: stripped text, '' for nothing."""
    if value is None or isinstance(value, (dict, list)):
        return ""
    return str(value).strip()


def _text(value: object) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _gap(value: object, fld: Field | None) -> float | None:
    """A gap answer on the 1–5 scale, rescaled from the field's own scale; None if absent or unusable."""
    if value is None or isinstance(value, bool):
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    lo, hi = (fld.scale_min, fld.scale_max) if fld is not None and fld.kind == "scale" else (GAP_MIN, GAP_MAX)
    if not math.isfinite(v) or not lo <= v <= hi or hi <= lo:
        return None
    return GAP_MIN + (GAP_MAX - GAP_MIN) * (v - lo) / (hi - lo)


def _field(exercise: Exercise, name: str | None) -> Field | None:
    if not name:
        return None
    try:
        return exercise.field(name)
    except KeyError:
        return None


@dataclass(frozen=True)
class MapRoles:
    """Which of an exercise's fields place its stories on the map.

    `function` names the field that gives the story's lane; None means the teller's own
    function. `stage` names the field that gives its column. `handoff` maps the roles of an
    exercise's `[handoff]` table (to_function, promise, experience, lost, gap) to field names;
    it is empty for an exercise whose stories are markers only.
    """

    function: str | None
    stage: str
    handoff: Mapping[str, str]


def map_roles(exercise: Exercise) -> MapRoles | None:
    """How an exercise feeds the map, or None if it does not.

    An exercise with a `[handoff]` table (Over the wall) places each story in the teller's lane
    at the stage it names and makes a handoff to the function it names. Any other exercise with
    a field of kind `function` and one of kind `stage` (Always be storytelling: where a customer
    remark was heard) places each story in the cell those two answers name (the first field of
    each kind; a blank function falls back to the teller's) and makes no handoff.
    """
    if exercise.handoff:
        return MapRoles(function=None, stage=exercise.handoff["stage"], handoff=dict(exercise.handoff))
    function = next((f.name for f in exercise.fields if f.kind == "function"), None)
    stage = next((f.name for f in exercise.fields if f.kind == "stage"), None)
    if function is None or stage is None:
        return None
    return MapRoles(function=function, stage=stage, handoff={})


def _map_exercises(exercises: Mapping[str, Exercise] | None) -> dict[str, tuple[Exercise, MapRoles]]:
    lib = library() if exercises is None else exercises
    out = {}
    for key, ex in lib.items():
        roles = map_roles(ex)
        if roles is not None:
            out[key] = (ex, roles)
    return out


def _receiving_exercises(exercises: Mapping[str, Exercise] | None) -> dict[str, Exercise]:
    """Key → exercise of those that answer another exercise's handoffs (`[receives]`)."""
    lib = library() if exercises is None else exercises
    return {k: e for k, e in lib.items() if e.receives_from and e.receives.get("handoff")}


def _arrival_key(story: Story, exercise: Exercise, functions, stages) -> tuple[str, str, str] | None:
    """(sending function, receiving function, stage) a receiver's answer is about, as stored (raw)."""
    answers = story.answers if isinstance(story.answers, dict) else {}
    found = handoff_sides.parse_handoff_value(answers.get(exercise.receives["handoff"]), functions, stages)
    if found is None or not _name(story.function):
        return None
    return found[0], _name(story.function), found[1]


def map_exercises(snapshot: Snapshot, exercises: Mapping[str, Exercise] | None = None) -> dict[str, str]:
    """Key → title of the exercises that feed this workshop's map: those on its agenda, then any with stories."""
    feeding = _map_exercises(exercises)
    keys = [i.exercise_key for i in snapshot.agenda] + [s.exercise_key for s in snapshot.stories]
    return {k: feeding[k][0].title for k in dict.fromkeys(keys) if k in feeding}


def _where(story: Story, roles: MapRoles) -> tuple[str, str, str | None]:
    """A story's (lane function, stage, receiving function or None) under its exercise's roles."""
    answers = story.answers if isinstance(story.answers, dict) else {}
    function = _name(answers.get(roles.function)) if roles.function else ""
    function = function or _name(story.function)
    stage = _name(answers.get(roles.stage))
    to_function = _name(answers.get(roles.handoff.get("to_function", ""))) or None if roles.handoff else None
    return function, stage, to_function


def _on_map(story: Story) -> bool:
    """Visible, and a story of its own (an addition built on another story is not a second story)."""
    return not story.hidden and getattr(story, "builds_on", None) is None


def filter_snapshot(snapshot: Snapshot, functions: Iterable[str] | None = None, stages: Iterable[str] | None = None,
                    exercises: Iterable[str] | None = None, *,
                    library_: Mapping[str, Exercise] | None = None) -> Snapshot:
    """The snapshot narrowed to the stories a facilitator asked to see (pure; None or empty: no filter).

    * `functions`: stories that involve one of them, in the lane they are told in or as the
      function a handoff goes to; the workshop's lanes shrink to the functions chosen and those
      the kept stories involve, in the workshop's order.
    * `stages`: stories told at one of them (the stage columns stay, so the map keeps its shape).
    * `exercises`: stories of these exercise keys.

    Stories that cannot be placed on the map (no function or stage) are dropped by a function or
    stage filter. Draw the result with `build_journey(filtered, whole=snapshot)`, so that dead
    ends and stages nobody owns are still judged on the whole room.
    """
    want_f = {_name(f) for f in functions or () if _name(f)}
    want_s = {_name(s) for s in stages or () if _name(s)}
    want_x = {x for x in exercises or () if x}
    if not (want_f or want_s or want_x):
        return snapshot
    roles = {k: r for k, (_e, r) in _map_exercises(library_).items()}
    receiving = _receiving_exercises(library_)
    kept: list[Story] = []
    involved: set[str] = set()
    for story in snapshot.stories:
        if want_x and story.exercise_key not in want_x:
            continue
        if want_f or want_s:
            r = roles.get(story.exercise_key)
            if story.exercise_key in receiving:  # a receiver's answer: kept with the handoff it answers
                about = _arrival_key(story, receiving[story.exercise_key], snapshot.workshop.functions,
                                     snapshot.workshop.stages)
                if about is None:
                    continue
                function, to_function, stage = about
            elif r is None:
                continue
            else:
                function, stage, to_function = _where(story, r)
            if not function or not stage:
                continue
            if want_s and stage not in want_s:
                continue
            if want_f and function not in want_f and to_function not in want_f:
                continue
            involved.update(x for x in (function, to_function) if x)
        kept.append(story)
    workshop = snapshot.workshop
    if want_f:
        lanes = [f for f in workshop.functions if _name(f) in want_f or _name(f) in involved]
        workshop = replace(workshop, functions=lanes)
    return replace(snapshot, workshop=workshop, stories=kept)


def weighted_gap(mean_gap: float | None, scored: int, room_gap: float | None, prior: float = PRIOR_STORIES) -> float | None:
    """A handoff's mean gap pulled toward the room's mean gap, as if `prior` more stories had given that mean.

    (scored × mean + prior × room mean) / (scored + prior): one story's 5 next to a room mean of
    3 ranks as 3.5, while 38 stories at 4.3 stay at 4.2. None when the handoff has no score.
    """
    if mean_gap is None or scored <= 0:
        return None
    if room_gap is None:
        return mean_gap
    return (scored * mean_gap + prior * room_gap) / (scored + prior)


def build_journey(snapshot: Snapshot, exercises: Mapping[str, Exercise] | None = None, *,
                  whole: Snapshot | None = None) -> Journey:
    """The journey map's data from a snapshot (pure; `exercises` defaults to the app's library).

    Handoffs come ranked by `weighted_gap` (highest first, unscored last), then by story count,
    then by names: see `RANKING_RULE`. `whole`, when `snapshot` is a filtered view of it
    (`filter_snapshot`), is what dead ends and stages nobody owns are judged on, and its stages
    become columns too, so a filtered map keeps the whole map's columns.
    """
    raw_whole = whole if whole is not None else snapshot
    folds = room.function_folds(raw_whole)  # names off: (exercise, teller's function) → what may be shown
    raw_functions, raw_stages = list(raw_whole.workshop.functions), list(raw_whole.workshop.stages)
    if not snapshot.workshop.show_names:
        # Names off: no lane, hover or label may point at one or two people (room.anonymous_snapshot).
        same = whole is None or whole is snapshot
        whole = room.anonymous_snapshot(whole) if whole is not None else None
        snapshot = whole if same and whole is not None else room.anonymous_snapshot(snapshot, whole=whole)
    if exercises is None:  # the legend names each exercise as the room knows it
        exercises = library_in(snapshot.workshop.language)
    feeding = _map_exercises(exercises)
    receiving = _receiving_exercises(exercises)
    arrivals: dict[tuple[str, str, str], list[Arrival]] = defaultdict(list)
    reach_at: dict[str, list[int]] = defaultdict(list)  # lane → [furthest column, stories, named]
    workshop = snapshot.workshop
    lanes = list(dict.fromkeys(_name(f) for f in workshop.functions if _name(f)))
    columns = list(dict.fromkeys(_name(s) for s in workshop.stages if _name(s)))
    lane_set, column_set = set(lanes), set(columns)
    placed: dict[tuple[str, str], list[Placed]] = defaultdict(list)
    raw: dict[tuple[str, str, str], list[HandoffAccount]] = defaultdict(list)
    unplaced = 0
    for story in snapshot.stories:
        if not _on_map(story):
            continue
        if story.exercise_key in receiving:
            rx = receiving[story.exercise_key]
            about = _arrival_key(story, rx, raw_functions + [room.OTHER_FUNCTIONS], raw_stages)
            if about is not None:
                sender, to, stage = about
                if not snapshot.workshop.show_names:  # the sending side as the sender's own exercise shows it
                    sender = folds.get((rx.receives_from, sender), room.OTHER_FUNCTIONS)
                answers = story.answers if isinstance(story.answers, dict) else {}
                arrivals[(sender, to, stage)].append(Arrival(
                    story, _text(answers.get(rx.receives.get("arrived", ""))),
                    _text(answers.get(rx.receives.get("missing", "")))))
            continue
        found = feeding.get(story.exercise_key)
        if found is None:
            continue
        exercise, roles = found
        function, stage, to_function = _where(story, roles)
        if not function or not stage:
            unplaced += 1
            continue
        for name in (function, to_function):
            if name and name not in lane_set:
                lanes.append(name)
                lane_set.add(name)
        if stage not in column_set:
            columns.append(stage)
            column_set.add(stage)
        answers = story.answers if isinstance(story.answers, dict) else {}
        judged = bool(roles.handoff) and handoff_sides.customer_judged(exercise, answers)
        placed[(function, stage)].append(Placed(story, _text(answers.get(exercise.headline)).strip(), to_function,
                                                judged))
        if roles.handoff:
            ends = handoff_sides.reach_stage(exercise, answers, [stage, *columns])
            if ends is not None:
                if ends not in column_set:
                    columns.append(ends)
                    column_set.add(ends)
                reach_at[function].append((ends, bool(_name(answers.get(roles.handoff.get("reach", ""))))))
        if to_function:
            h = roles.handoff
            raw[(function, to_function, stage)].append(HandoffAccount(
                story=story,
                promise=_text(answers.get(h.get("promise", ""))),
                experience=_text(answers.get(h.get("experience", ""))),
                lost=_text(answers.get(h.get("lost", ""))),
                gap=_gap(answers.get(h.get("gap", "")), _field(exercise, h.get("gap"))),
                customer_judged=judged,
                evidence=_text(answers.get(h.get("evidence", ""))) if h.get("evidence") else "",
            ))

    # Who tells a story where: from the whole room when this is a filtered view of it.
    told_cells: dict[tuple[str, str], None] = dict.fromkeys(placed)
    if whole is not None and whole is not snapshot:
        told_cells = {}
        for story in whole.stories:
            found = feeding.get(story.exercise_key) if _on_map(story) else None
            if found is None:
                continue
            function, stage, _to = _where(story, found[1])
            if function and stage:
                told_cells[(function, stage)] = None
        for stage in dict.fromkeys(_name(s) for s in whole.workshop.stages if _name(s)):
            if stage not in column_set:
                columns.append(stage)
                column_set.add(stage)
        for (_f, stage) in told_cells:
            if stage not in column_set:
                columns.append(stage)
                column_set.add(stage)
    column_index = {s: i for i, s in enumerate(columns)}
    told_at: dict[str, list[int]] = defaultdict(list)  # function -> stage indices with stories, ascending
    for (function, stage) in told_cells:
        told_at[function].append(column_index[stage])
    for indices in told_at.values():
        indices.sort()

    all_gaps = [a.gap for accounts in raw.values() for a in accounts if a.gap is not None]
    room_gap = sum(all_gaps) / len(all_gaps) if all_gaps else None
    handoffs = []
    for (src, dst, stage), accounts in raw.items():
        i = column_index[stage]
        told = told_at.get(dst, [])
        dead_end = not any(j >= i for j in told)
        later = [j for j in told if (j > i if dst == src else j >= i)]
        target = later[0] if later else min(i + 1, len(columns) - 1)
        gaps = [a.gap for a in accounts if a.gap is not None]
        mean = sum(gaps) / len(gaps) if gaps else None
        handoffs.append(Handoff(
            from_function=src, to_function=dst, stage=stage, target_stage=columns[target],
            accounts=tuple(accounts), mean_gap=mean, dead_end=dead_end,
            weighted_gap=weighted_gap(mean, len(gaps), room_gap), scored=len(gaps),
            arrivals=tuple(arrivals.pop((src, dst, stage), ())),
        ))
    handoffs.sort(key=lambda h: (h.weighted_gap is None, -(h.weighted_gap or 0.0), -h.count,
                                 -(h.mean_gap or 0.0), h.from_function.casefold(), h.to_function.casefold(),
                                 column_index[h.stage]))

    used = sorted({column_index[stage] for (_f, stage) in told_cells})
    uncovered = tuple(columns[i] for i in range(used[0], used[-1] + 1) if i not in used) if used else ()
    cells = _Cells(lanes, columns, {(f, s): Cell(f, s, tuple(found)) for (f, s), found in placed.items()})
    reach = {}
    for function, ends in reach_at.items():
        furthest = max((e for e, _named in ends), key=column_index.__getitem__)
        reach[function] = Reach(function, furthest, len(ends), sum(1 for _e, named in ends if named))
    return Journey(
        functions=tuple(lanes), stages=tuple(columns), cells=cells, handoffs=tuple(handoffs),
        uncovered_stages=uncovered, exercise_titles={k: e.title for k, (e, _r) in feeding.items()}, unplaced=unplaced,
        room_gap=room_gap, reach={f: reach[f] for f in lanes if f in reach},
        unmatched_arrivals=tuple(a for found in arrivals.values() for a in found),
        language=snapshot.workshop.language,
    )


def reach_sentence(r: Reach, gettext=None) -> str:
    """'Sales' story stops at Renewal', in the room's language (`gettext` of its translator)."""
    message = N_("{function}'s story stops at {stage}")
    translated = gettext(message) if gettext else message
    return r.sentence if translated == message else translated.format(function=r.function, stage=r.stage)


def _texts(journey: Journey):
    """gettext and ngettext in the journey's language."""
    t = translator(journey.language)
    return t.gettext, t.ngettext


def ranking_caption(journey: Journey) -> str:
    """One sentence for under a handoff table: how its rows are ordered, with this room's numbers."""
    _, ngettext = _texts(journey)
    if journey.room_gap is None:
        return _("Sorted by number of stories: no handoff has a gap score yet.")
    return _("Sorted by weighted gap: each handoff's mean gap pulled toward the room's mean gap ({room_gap}) as if "
             "{prior} more stories had given that mean, so a handoff many stories describe outranks a single extreme "
             "story. Ties: more stories first.").format(room_gap=f"{journey.room_gap:.1f}", prior=f"{PRIOR_STORIES:g}")


def in_words(journey: Journey, limit: int = 10) -> list[str]:
    """The map as text for a screen reader (the figure's equivalent): what it holds, then the handoffs
    in ranking order, one sentence each. Plain text, not escaped."""
    _, ngettext = _texts(journey)
    stories = ngettext("{n} story", "{n} stories", journey.story_count).format(n=journey.story_count)
    handoffs = ngettext("{n} handoff", "{n} handoffs", len(journey.handoffs)).format(n=len(journey.handoffs))
    lines = [_("Journey map: {stories}, {handoffs}, {dead} that nobody picks up.").format(
        stories=stories, handoffs=handoffs, dead=len(journey.dead_ends))]
    if journey.handoffs:
        shown = journey.handoffs[:limit]
        lines.append((_("Handoffs by weighted gap, widest first ({shown} of {total}):") if journey.room_gap is not None
                      else _("Handoffs by number of stories ({shown} of {total}):")).format(
                          shown=len(shown), total=len(journey.handoffs)))
        for rank, h in enumerate(shown, start=1):
            gap = (_("mean gap {gap} of 5").format(gap=f"{h.mean_gap:.1f}") if h.mean_gap is not None
                   else _("gap not scored"))
            told = ngettext("{n} story", "{n} stories", h.count).format(n=h.count)
            line = (_("{rank}. {sender} to {receiver} at {stage}: {stories}, {gap}, nobody downstream picks it up.")
                    if h.dead_end else _("{rank}. {sender} to {receiver} at {stage}: {stories}, {gap}."))
            lines.append(line.format(rank=rank, sender=h.from_function, receiver=h.to_function, stage=h.stage,
                                     stories=told, gap=gap))
    return lines


def handoff_rows(journey: Journey) -> list[dict]:
    """The handoffs as table rows (plain text, not escaped), in the journey's order (see `RANKING_RULE`)."""
    _, ngettext = _texts(journey)
    return [
        {
            "from": h.from_function,
            "to": h.to_function,
            "stage": h.stage,
            "stories": h.count,
            "mean gap": round(h.mean_gap, 1) if h.mean_gap is not None else None,
            "weighted gap": round(h.weighted_gap, 2) if h.weighted_gap is not None else None,
            "dead end": h.dead_end,
            "what gets lost": " / ".join(h.lost_texts[:2]),
            "receivers": len(h.arrivals),
            "what arrived": " / ".join(h.arrived_texts[:2]),
            "what was missing": " / ".join(h.missing_texts[:2]),
            "judged by the customer": h.customer_judged,
            "judged by": judged_by_text(h, _),
        }
        for h in journey.handoffs
    ]


def judged_by_text(h: Handoff, gettext=None) -> str:
    """Who judged a handoff's gap, for a table: 'the customer', 'the customer in 1 of 3', 'our guess'."""
    _ = gettext or (lambda message: message)
    if not h.customer_judged:
        return _("our guess")
    if h.customer_judged == h.count:
        return _("the customer")
    return _("the customer in {judged} of {count}").format(judged=h.customer_judged, count=h.count)


def reach_rows(journey: Journey) -> list[dict]:
    """How far each function's story reaches, in lane order (plain text, for tables)."""
    _, ngettext = _texts(journey)
    return [{"function": r.function, "stage": r.stage, "sentence": reach_sentence(r, _), "stories": r.stories, "named": r.named}
            for r in journey.reach.values()]


def two_sides(journey: Journey, limit: int = 3) -> list[Handoff]:
    """The handoffs a receiver has answered, biggest weighted gap first (the journey's order)."""
    return [h for h in journey.handoffs if h.arrivals][:limit]


# --- drawing -----------------------------------------------------------------------------

_THEMES = {
    "light": {
        "paper": "#ffffff", "text": "#111827", "muted": "#4b5563", "bands": ("#e8eef6", "#f7f9fc"),
        "rule": "#c3cedd", "edge": "#374151", "story": ("#0072B2", "#009E73", "#56B4E9", "#6b7280"),
        "story_line": "#ffffff", "dead": "#b3001b", "no_gap": "#8a94a6", "gap_span": (0.3, 1.0),
        "hover_bg": "#ffffff", "node": "#6b7280", "reach": "#1f4e99", "receiver": "#7a3db8", "evidence": "#111827",
    },
    "dark": {
        "paper": "#0b1220", "text": "#f3f4f6", "muted": "#cbd5e1", "bands": ("#1b2638", "#121b2b"),
        "rule": "#334155", "edge": "#0b1220", "story": ("#56B4E9", "#2fbf8f", "#c4b5fd", "#e5e7eb"),
        "story_line": "#0b1220", "dead": "#ff6b6b", "no_gap": "#94a3b8", "gap_span": (0.0, 0.8),
        "hover_bg": "#1f2937", "node": "#94a3b8", "reach": "#7fb6ff", "receiver": "#d6a8ff", "evidence": "#ffffff",
    },
}
_STORY_SYMBOLS = ("circle", "diamond", "square", "triangle-up")
_ASSUMED_WIDTH_PX = 1600  # the figure does not know its width; used to shape marker grids and space labels
_LABEL_WIDTH_PX = 1200  # the narrowest width stage names should still fit at
_MARGIN = {"l": 20, "r": 30, "t": 90, "b": 70}
_SANKEY_MARGIN = {"l": 20, "r": 30, "t": 60, "b": 20}
_SANKEY_NODE_PAD = 14
_FONT_FAMILY = "Inter, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"


@lru_cache(maxsize=16384)
def _wrap(text: str, width: int, *, limit: int | None = None, cut_words: bool = True) -> str:
    """User text made safe for Plotly: shortened, escaped, then wrapped with <br> between escaped lines.

    Words longer than a line are cut unless `cut_words` is False (for names on the axes).
    Cached: a live map redraws the same stories on every change.
    """
    if limit is not None and len(text) > limit:
        text = text[:limit].rstrip() + "…"
    if len(text) <= width and "\n" not in text and "\r" not in text:
        return _esc(text)
    lines: list[str] = []
    for para in text.splitlines() or [""]:
        line = ""
        for word in para.split():
            while cut_words and len(word) > width:  # a very long word (a URL): cut it
                if line:
                    lines.append(line)
                    line = ""
                lines.append(word[:width])
                word = word[width:]
            if line and len(line) + 1 + len(word) > width:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        if line or not lines:
            lines.append(line)
    return _esc("\n".join(lines)).replace("\n", "<br>")


def _esc(text: str) -> str:
    # '$' would make Plotly try to typeset the label as LaTeX.
    return html.escape(text, quote=True).replace("$", "&#36;")


@lru_cache(maxsize=4)
def _gap_stops(span: tuple[float, float]) -> tuple[tuple[float, float, float], ...]:
    """Nine evenly spaced RGB stops of the stretch of YlOrRd used for gap 1–5."""
    lo, hi = span
    return tuple(_rgb(c) for c in sample_colorscale(GAP_COLOURSCALE, [lo + (hi - lo) * k / 8 for k in range(9)]))


def _gap_colours(span: tuple[float, float]) -> list[list]:
    """The colour scale actually used for gap 1–5 (for the colourbar)."""
    return [[k / 8, "rgb({:.0f},{:.0f},{:.0f})".format(*c)] for k, c in enumerate(_gap_stops(span))]


def _colour_at(span: tuple[float, float], gap: float) -> str:
    """The colour of a gap score on that scale."""
    stops = _gap_stops(span)
    t = min(1.0, max(0.0, (gap - GAP_MIN) / (GAP_MAX - GAP_MIN))) * (len(stops) - 1)
    k = min(int(t), len(stops) - 2)
    f = t - k
    r, g, b = (a + (z - a) * f for a, z in zip(stops[k], stops[k + 1]))
    return f"rgb({r:.0f},{g:.0f},{b:.0f})"


def _rgb(colour: str) -> tuple[float, float, float]:
    if colour.startswith("#"):
        return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]
    parts = colour[colour.index("(") + 1:colour.index(")")].split(",")
    return tuple(float(p) for p in parts[:3])  # type: ignore[return-value]


def _ink_on(colour: str) -> str:
    """Black or white, whichever reads better on `colour`."""
    r, g, b = (c / 255 for c in _rgb(colour))
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    luminance = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    return "#000000" if luminance > 0.18 else "#ffffff"


def arrow_width(count: int, max_count: int) -> float:
    """An arrow's line width in pixels: its share of the biggest handoff's story count, from 2 to 18 px.

    The biggest handoff is 18 px wide and the others in proportion, so a room of 1,500 stories
    shows its big seams as big. Until one handoff has `ARROW_FULL_AT` stories the share is taken
    of that number instead, so the first few stories of a session do not draw full-width arrows.
    """
    share = max(0, count) / max(ARROW_FULL_AT, max_count, 1)
    return ARROW_MIN_PX + (ARROW_MAX_PX - ARROW_MIN_PX) * min(1.0, share)


def _gap_colourbar(t: dict, font, plot_h: float, title_text: str = GAP_COLOURBAR_TITLE) -> tuple[dict, dict]:
    """The gap colourbar (vertical, right of the plot) and its title as a separate annotation.

    Plotly's own colourbar title sits so close to the bar that the top tick label ("5") runs
    into it in static images; an annotation lifted clear of that label by half its height
    does not. The title goes on two short lines and starts a little left of the bar, so that at a room's
    type size it stays inside the margin Plotly keeps for the bar and its ticks.
    """
    length = min(0.8, 380 / max(plot_h, 1))
    top = 0.5 + length / 2
    tick_px = font(16)
    bar = {"tickvals": [1, 2, 3, 4, 5], "tickfont": {"size": tick_px, "color": t["text"]},
           "thickness": 22, "len": length, "lenmode": "fraction", "y": top, "yanchor": "top", "ypad": 0,
           "x": 1.01, "xanchor": "left", "xpad": 6, "outlinewidth": 1, "outlinecolor": t["rule"]}
    title = {"xref": "paper", "yref": "paper", "x": 1.01, "xanchor": "left", "xshift": -10, "y": top,
             "yanchor": "bottom", "yshift": round(tick_px * 0.6) + 8, "showarrow": False, "align": "left",
             "text": _esc(title_text).replace(" ", "<br>", 1), "font": {"size": font(17), "color": t["text"]},
             "name": "gap colourbar title"}
    return bar, title


def _head_size(width: float, head_px: float) -> float:
    """Plotly's `arrowsize` (relative to the line width) for an arrowhead about `head_px` wide."""
    return max(0.3, min(2.5, head_px / (4.4 * width)))


def _grid(n: int, aspect: float) -> tuple[int, int]:
    """Columns and rows of a grid holding n markers in a box `aspect` times wider than tall."""
    cols = max(1, min(n, math.ceil(math.sqrt(n * aspect))))
    return cols, math.ceil(n / cols)


def _fan(groups: Mapping[object, list[Handoff]], order, *, widest: float = 0.3, step: float = 0.2) -> dict[int, float]:
    """Horizontal offsets (in columns) that spread each group's arrows side by side, centred on the cell.

    Neighbours are `step` apart until the group spans `widest` either side of the centre.
    """
    out: dict[int, float] = {}
    for members in groups.values():
        m = len(members)
        half = min(widest, step / 2 * (m - 1))
        for k, h in enumerate(sorted(members, key=order)):
            out[id(h)] = 0.0 if m == 1 else -half + 2 * half * k / (m - 1)
    return out


def _select_arrows(handoffs: tuple[Handoff, ...], max_arrows: int | None) -> list[Handoff]:
    if max_arrows is None or len(handoffs) <= max_arrows:
        return list(handoffs)
    ranked = sorted(handoffs, key=lambda h: (-h.count, -(h.mean_gap or 0.0)))
    keep = {id(h) for h in ranked[:max(0, max_arrows)]}
    return [h for h in handoffs if id(h) in keep]


def drawn_grid(journey: Journey, *, max_lanes: int = MAX_LANES_DRAWN,
               max_stages: int = MAX_STAGES_DRAWN) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The lanes and columns to draw: all of them, or, when there are more than fit, those with the
    most stories (handoffs count for both ends), in the map's own order."""
    lane_n: dict[str, int] = defaultdict(int)
    column_n: dict[str, int] = defaultdict(int)
    for c in _filled_cells(journey.cells):
        lane_n[c.function] += c.count
        column_n[c.stage] += c.count
    for h in journey.handoffs:
        lane_n[h.to_function] += h.count
        column_n[h.target_stage] += h.count

    def pick(names: tuple[str, ...], counts: Mapping[str, int], limit: int) -> tuple[str, ...]:
        if len(names) <= limit:
            return names
        keep = set(sorted(names, key=lambda n: -counts.get(n, 0))[:max(0, limit)])  # stable: ties keep the order
        return tuple(n for n in names if n in keep)

    return pick(journey.functions, lane_n, max_lanes), pick(journey.stages, column_n, max_stages)


def grid_note(journey: Journey, lanes: tuple[str, ...], columns: tuple[str, ...]) -> str:
    """'Showing N of M functions …' when the drawing leaves lanes or columns out; '' when it shows all."""
    _, ngettext = _texts(journey)
    lanes_left, columns_left = len(lanes) < len(journey.functions), len(columns) < len(journey.stages)
    counts = {k: format_number(v, journey.language) for k, v in dict(
        lanes=len(lanes), functions=len(journey.functions), columns=len(columns), stages=len(journey.stages)).items()}
    if lanes_left and columns_left:
        return _("Showing {lanes} of {functions} functions and {columns} of {stages} stages: those with the most "
                 "stories").format(**counts)
    if lanes_left:
        return _("Showing {lanes} of {functions} functions: those with the most stories").format(**counts)
    if columns_left:
        return _("Showing {columns} of {stages} stages: those with the most stories").format(**counts)
    return ""


def journey_figure(journey: Journey, *, theme: str = "light", height: int | None = None,
                   max_arrows: int | None = DEFAULT_MAX_ARROWS, min_font_px: int = 11) -> go.Figure:
    """The journey map as a Plotly figure: functions as swimlanes, stages as columns, handoffs as arrows.

    Arrow width grows with the number of stories, colour and printed number give the mean gap;
    ✕ marks a handoff nobody downstream picks up, a dashed column a stage nobody owns.
    `max_arrows` draws only the handoffs with the most stories (None: all); the others stay in
    the hover of their cells' stories and in `handoff_rows`. Dead-end marks are always drawn.
    `min_font_px` is the smallest type drawn (the projector passes ROOM_FONT_PX).
    """
    if theme not in _THEMES:
        raise ValueError(f"theme must be one of {', '.join(_THEMES)}, not {theme!r}")
    t = _THEMES[theme]
    tr = _texts(journey)
    _, ngettext = tr
    lanes, columns = drawn_grid(journey)
    trimmed = grid_note(journey, lanes, columns)
    n_lanes, n_cols = max(1, len(lanes)), max(1, len(columns))
    height = int(height or max(480, 90 * len(lanes) + 160))
    scale = height / max(480, 90 * len(lanes) + 160)  # fonts grow and shrink a little with the height
    font = lambda px: max(min_font_px, round(px * min(1.25, max(0.9, scale))))  # noqa: E731
    lane_of = {f: i for i, f in enumerate(lanes)}
    col_of = {s: i for i, s in enumerate(columns)}
    # Room under the plot for the legend and, on a line of its own under it, the note.
    # ... and on the right for the colourbar title ("(1–5)"), which is wider than the bar at a room's type size.
    # The legend may need more than one row (the map's marks at a room's type size): room for each.
    legend_row = round(font(16) * 1.3)
    legend_rows = _legend_rows(journey, font(16))
    margin = {**_MARGIN, "t": max(_MARGIN["t"], round(font(20) * 2.6) + 20), "r": max(_MARGIN["r"], round(font(17) * 1.8)),
              "b": max(_MARGIN["b"], legend_row * legend_rows + 16 + round(font(15) * 1.4) + 8)}
    plot_h = max(120, height - margin["t"] - margin["b"])
    lane_px = plot_h / n_lanes
    col_px = (_ASSUMED_WIDTH_PX - 240) / n_cols
    gap_scale = _gap_colours(t["gap_span"])

    shapes: list[dict] = []
    annotations: list[dict] = []
    traces: list[dict] = []

    # Lane bands and column rules.
    for i in range(n_lanes):
        shapes.append({"type": "rect", "layer": "below", "xref": "x", "yref": "y", "x0": -0.5, "x1": n_cols - 0.5,
                       "y0": i - 0.5, "y1": i + 0.5, "line": {"width": 0}, "fillcolor": t["bands"][i % 2]})
    for j in range(1, n_cols):
        shapes.append({"type": "line", "layer": "below", "xref": "x", "yref": "y", "x0": j - 0.5, "x1": j - 0.5,
                       "y0": -0.5, "y1": n_lanes - 0.5, "line": {"color": t["rule"], "width": 1}})

    # Stages nobody owns: a dashed outline and a label.
    for stage in (s for s in journey.uncovered_stages if s in col_of):
        j = col_of[stage]
        shapes.append({"type": "rect", "layer": "above", "xref": "x", "yref": "y", "x0": j - 0.46, "x1": j + 0.46,
                       "y0": -0.46, "y1": n_lanes - 0.54, "fillcolor": "rgba(0,0,0,0)",
                       "line": {"color": t["dead"], "width": 3, "dash": "dash"}})
        annotations.append({"xref": "x", "yref": "y", "x": j, "y": (n_lanes - 1) / 2, "showarrow": False,
                            "text": _esc(_(NO_OWNER_LABEL)), "font": {"size": font(20), "color": t["dead"]},
                            "bgcolor": t["paper"], "bordercolor": t["dead"], "borderwidth": 2, "borderpad": 4})

    # Stories: one scatter trace per exercise, markers spread in a grid inside their cell.
    aspect = (col_px * 0.84) / (lane_px * 0.7)
    per_exercise: dict[str, dict[str, list]] = {}
    judged: dict[str, list] = {"x": [], "y": [], "size": [], "hover": []}
    for cell in _filled_cells(journey.cells):
        function, stage, n = cell.function, cell.stage, cell.count
        if not n or function not in lane_of or stage not in col_of:
            continue
        cols, rows = _grid(n, aspect)
        step_x, step_y = 0.84 / cols, 0.7 / rows
        size = max(6.0, min(26.0, 0.72 * min(step_x * col_px, step_y * lane_px)))
        cx, cy = col_of[stage], lane_of[function]
        for k, p in enumerate(cell.placed):
            r, c = divmod(k, cols)
            in_row = cols if r < rows - 1 else n - cols * (rows - 1)
            x = cx + (c - (in_row - 1) / 2) * step_x
            y = cy + (r - (rows - 1) / 2) * step_y
            hover = f"<b>{_esc(function)}</b> · {_esc(stage)}<br>{_wrap(p.headline or _('(no text)'), HOVER_LINE_CHARS, limit=HOVER_MAX_CHARS)}"
            if p.to_function:
                hover += "<br>" + _("→ hands on to {function}").format(function=_esc(p.to_function))
            if p.customer_judged:
                hover += "<br>" + _("★ the customer judged this gap")
                judged["x"].append(x)
                judged["y"].append(y)
                judged["size"].append(size + 10)
                judged["hover"].append(hover)
            bucket = per_exercise.setdefault(p.story.exercise_key, {"x": [], "y": [], "size": [], "hover": []})
            bucket["x"].append(x)
            bucket["y"].append(y)
            bucket["size"].append(size)
            bucket["hover"].append(hover)
    # In the library's order (Over the wall first); colours stay clear of the gap scale's yellows
    # and reds, and each exercise has its own marker shape as well.
    library_order = {key: i for i, key in enumerate(journey.exercise_titles)}
    for k, (key, b) in enumerate(sorted(per_exercise.items(), key=lambda kv: (library_order.get(kv[0], 999), kv[0]))):
        traces.append({
            "type": "scatter", "mode": "markers", "name": _esc(journey.exercise_titles.get(key, key)),
            "x": b["x"], "y": b["y"], "hovertext": b["hover"], "hoverinfo": "text",
            "marker": {"size": b["size"], "color": t["story"][k % len(t["story"])], "opacity": 0.9,
                       "symbol": _STORY_SYMBOLS[k % len(_STORY_SYMBOLS)],
                       "line": {"color": t["story_line"], "width": 1.5}},
            "showlegend": len(per_exercise) > 1,
        })
    if judged["x"]:  # a ring around each story whose gap the customer judged (not our guess)
        traces.append({
            "type": "scatter", "mode": "markers", "name": _(JUDGED_LABEL), "showlegend": True,
            "x": judged["x"], "y": judged["y"], "hovertext": judged["hover"], "hoverinfo": "text",
            "marker": {"size": judged["size"], "symbol": "circle-open", "color": t["evidence"],
                       "line": {"width": 3, "color": t["evidence"]}},
        })
    _reach_bars(journey, lane_of, col_of, t, font, traces, tr)

    # Dead ends first: their boxed labels are obstacles for the gap labels placed below.
    def on_grid(h: Handoff) -> bool:
        return (h.from_function in lane_of and h.to_function in lane_of and h.stage in col_of
                and h.target_stage in col_of)

    dead_cells: dict[tuple[str, str], list[Handoff]] = defaultdict(list)
    for h in journey.dead_ends:
        if on_grid(h):
            dead_cells[(h.to_function, h.target_stage)].append(h)
    dead_ids = {id(h) for h in journey.dead_ends}
    # Obstacles for labels, as (x, y, half width px, half height px).
    occupied: list[tuple[float, float, float, float]] = [
        (col_of[s], lane_of[f], 0.3 * font(17) * 14 + 6, font(17) * 1.3 + 6)
        for (f, s) in dead_cells
    ]

    # Handoff arrows: those leaving one cell fan out side by side, and so do those arriving at one.
    drawable = tuple(h for h in journey.handoffs if on_grid(h)) if trimmed else journey.handoffs
    drawn = _select_arrows(drawable, max_arrows)
    max_count = max((h.count for h in journey.handoffs), default=0)
    # Arrows within one column run straight down or up, each at its own x across the column,
    # so that several of them never lie on top of each other.
    leaving: dict[tuple[str, str], list[Handoff]] = defaultdict(list)
    arriving: dict[tuple[str, str], list[Handoff]] = defaultdict(list)
    upright: dict[str, list[Handoff]] = defaultdict(list)
    for h in drawn:
        if h.stage == h.target_stage and h.from_function != h.to_function:
            upright[h.stage].append(h)
        else:
            leaving[(h.from_function, h.stage)].append(h)
            arriving[(h.to_function, h.target_stage)].append(h)
    tail_dx = _fan(leaving, lambda h: (lane_of[h.to_function], col_of[h.target_stage]))
    head_dx = _fan(arriving, lambda h: (lane_of[h.from_function], col_of[h.stage]))
    for members in upright.values():
        spread = _fan({0: members}, lambda h: (min(lane_of[h.from_function], lane_of[h.to_function]),
                                                lane_of[h.from_function]), widest=0.36, step=0.12)
        tail_dx.update(spread)
        head_dx.update(spread)
    labels: list[dict] = []
    mid = {"x": [], "y": [], "hover": [], "gap": []}
    answered = {"x": [], "y": [], "hover": []}
    label_w, label_h = font(18) * 1.1 + 8, font(18) * 0.7 + 6
    # Thinnest and lowest-gap arrows first, so the widest, reddest ones end up on top;
    # all gap labels after all arrows, so no arrow hides a number.
    for h in sorted(drawn, key=lambda h: (h.mean_gap or 0.0, h.count)):
        label_w = font(18) * (1.1 + 0.8 * bool(h.customer_judged)) + 8  # "★ 4.0" is wider than "4.0"
        x0, y0 = col_of[h.stage] + tail_dx.get(id(h), 0.0), lane_of[h.from_function]
        x1, y1 = col_of[h.target_stage] + head_dx.get(id(h), 0.0), lane_of[h.to_function]
        width = arrow_width(h.count, max_count)
        colour = _colour_at(t["gap_span"], h.mean_gap) if h.mean_gap is not None else t["no_gap"]
        if (x0, y0) != (x1, y1):
            common = {"xref": "x", "yref": "y", "axref": "x", "ayref": "y", "x": x1, "y": y1, "ax": x0, "ay": y0,
                      "text": "", "showarrow": True, "arrowhead": 2, "startstandoff": 4,
                      "standoff": 2 * font(17) + 8 if id(h) in dead_ids else 6}
            # A casing in the edge colour under the coloured arrow keeps pale arrows visible.
            annotations.append({**common, "arrowwidth": width + 3, "arrowcolor": t["edge"],
                                "arrowsize": _head_size(width + 3, 1.6 * width + 24)})
            annotations.append({**common, "arrowwidth": width, "arrowcolor": colour,
                                "arrowsize": _head_size(width, 1.6 * width + 18)})
        # The gap label near the midpoint, nudged along the arrow away from other labels. On an
        # arrow hardly longer than the label the label would hide it: there it goes beside it.
        spots = [(x0 + (x1 - x0) * f, y0 + (y1 - y0) * f) for f in (0.5, 0.4, 0.6, 0.3, 0.7, 0.22, 0.78)]
        dx_px, dy_px = (x1 - x0) * col_px, (y1 - y0) * lane_px
        length_px = math.hypot(dx_px, dy_px)
        if 0 < length_px < 4 * label_h + 24:
            ux, uy = -dy_px / length_px, dx_px / length_px  # across the arrow, in pixels
            aside = abs(ux) * label_w + abs(uy) * label_h + width / 2 + 3
            mx, my = spots[0]
            spots = [(mx + side * ux * aside / col_px, my + side * uy * aside / lane_px) for side in (1, -1)] + spots
        best, best_room = spots[0], -1.0
        for cx, cy in spots:
            room = min((max(abs(cx - ox) * col_px / (ow + label_w), abs(cy - oy) * lane_px / (oh + label_h))
                        for ox, oy, ow, oh in occupied), default=math.inf)
            if room >= 1:
                best = (cx, cy)
                break
            if room > best_room:
                best, best_room = (cx, cy), room
        lx, ly = best
        occupied.append((lx, ly, label_w, label_h))
        labels.append({"xref": "x", "yref": "y", "x": lx, "y": ly, "showarrow": False,
                       "text": gap_label(h),
                       "font": {"size": font(18), "color": _ink_on(colour)}, "bgcolor": colour,
                       "bordercolor": t["edge"] if theme == "light" else t["text"], "borderwidth": 1.5,
                       "borderpad": 3})
        mid["x"].append(lx)
        mid["y"].append(ly)
        mid["gap"].append(h.mean_gap if h.mean_gap is not None else float("nan"))
        mid["hover"].append(_handoff_hover(h, tr))
        if h.arrivals:  # the receiving side: a diamond on the arrow, clear of its head
            if length_px > 0:
                standoff = 2 * font(17) + 8 if id(h) in dead_ids else 6
                back_px = 1.6 * width + 24 + standoff + font(26) * 0.7
                f = max(0.5, 1 - back_px / length_px)
                # Beside the line, not on it: arrows are annotations, drawn above every marker.
                aside_px = width / 2 + font(26) * 0.55 + 2
                nx, ny = -dy_px / length_px, dx_px / length_px
                answered["x"].append(x0 + (x1 - x0) * f + nx * aside_px / col_px)
                answered["y"].append(y0 + (y1 - y0) * f + ny * aside_px / lane_px)
            else:  # an arrow that stays in its cell: beside it
                answered["x"].append(x0 + 0.22)
                answered["y"].append(y0)
            answered["hover"].append(_arrival_hover(h, tr))
    annotations.extend(labels)
    colourbar, colourbar_title = _gap_colourbar(t, font, plot_h, _(GAP_COLOURBAR_TITLE))
    annotations.append(colourbar_title)
    # Plotly draws no colourbar for a trace without points, and then keeps no margin for it: the
    # title annotation beside it was cut to "G (1" on an empty map. One unseen point keeps the bar.
    no_handoffs = not mid["x"]
    if no_handoffs:
        mid = {"x": [-0.5], "y": [-0.5], "hover": [""], "gap": [GAP_MIN]}
    traces.append({
        "type": "scatter", "mode": "markers", "name": _("Handoffs"), "showlegend": False,
        "x": mid["x"], "y": mid["y"], "hovertext": mid["hover"], "hoverinfo": "skip" if no_handoffs else "text",
        "marker": {"size": 30, "opacity": 0, "color": mid["gap"], "cmin": GAP_MIN, "cmax": GAP_MAX,
                   "colorscale": gap_scale, "showscale": True,
                   "colorbar": colourbar},
    })

    if answered["x"]:
        traces.append({
            "type": "scatter", "mode": "markers", "name": _(ANSWERED_LABEL), "showlegend": True,
            "x": answered["x"], "y": answered["y"], "hovertext": answered["hover"], "hoverinfo": "text",
            "marker": {"symbol": "diamond", "size": font(26), "color": t["receiver"],
                       "line": {"color": t["paper"], "width": 2}},
        })

    # Dead ends: a boxed "✕ nobody picks this up" in each cell where unanswered handoffs land, drawn
    # above the arrows; under it a ✕ marker that carries the hover and the legend entry.
    dead = {"x": [], "y": [], "hover": []}
    for (function, stage), hs in dead_cells.items():
        x, y = col_of[stage], lane_of[function]
        dead["x"].append(x)
        dead["y"].append(y)
        dead["hover"].append("<br>".join(_handoff_hover(h, tr) for h in hs[:4])
                             + ("<br>" + _("… and {n} more").format(n=len(hs) - 4) if len(hs) > 4 else "")
                             + "<br><b>" + _("Nobody in {function} tells a story from here on.").format(
                                 function=_esc(function)) + "</b>")
        annotations.append({"xref": "x", "yref": "y", "x": x, "y": y, "showarrow": False,
                            "text": "✕ " + _esc(_(DEAD_END_LABEL)).replace(" ", "<br>", 1),  # two short lines fit a column "font": {"size": font(17), "color": t["dead"]},
                            "bgcolor": t["paper"], "bordercolor": t["dead"], "borderwidth": 2, "borderpad": 4})
    traces.append({
        "type": "scatter", "mode": "markers", "name": _(DEAD_END_LABEL), "showlegend": True,
        "x": dead["x"], "y": dead["y"], "hovertext": dead["hover"], "hoverinfo": "text",
        "marker": {"symbol": "x", "size": font(28), "color": t["dead"], "line": {"color": t["paper"], "width": 2}},
    })

    if journey.is_empty:
        annotations.append({"xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5, "showarrow": False,
                            "text": _esc(_(EMPTY_NOTE)), "font": {"size": font(28), "color": t["muted"]},
                            "bgcolor": t["paper"], "borderpad": 10})
    if journey.is_empty and trimmed:
        annotations.append({"xref": "paper", "yref": "paper", "x": 0, "y": 0, "yanchor": "top", "yshift": -16,
                            "xanchor": "left", "showarrow": False, "text": trimmed,
                            "font": {"size": font(15), "color": t["muted"]}})
    elif not journey.is_empty:
        note = _("Arrow width: number of stories · number on the arrow: mean gap (1–5)")
        if any(h.customer_judged for h in journey.handoffs):
            note = _("Arrow width: stories · number: mean gap (1–5) · ★ judged by the customer, no ★: our guess")
        if len(drawn) < len(journey.handoffs):
            note += " · " + (_("arrows for {drawn} of {total} handoffs (all are in the table)") if trimmed else
                             _("arrows for the {drawn} biggest of {total} handoffs (all are in the table)")).format(
                                 drawn=len(drawn), total=len(journey.handoffs))
        if trimmed:
            note += f" · {trimmed}"
        # On its own line under the legend, which sits right under the plot.
        annotations.append({"xref": "paper", "yref": "paper", "x": 0, "y": 0, "yanchor": "top",
                            "yshift": -(legend_row * legend_rows + 16), "xanchor": "left", "showarrow": False, "text": note,
                            "font": {"size": font(15), "color": t["muted"]}})

    axis_common = {"showgrid": False, "zeroline": False, "fixedrange": True, "linecolor": t["rule"], "showline": False}
    # Stage names wrap to fit a column of a laptop-wide map (the figure cannot know its width).
    stage_chars = max(8, int((_LABEL_WIDTH_PX - 240) / n_cols / (0.6 * font(20))))
    layout = {
        "height": height,
        "margin": {**margin, "autoexpand": True},
        "paper_bgcolor": t["paper"], "plot_bgcolor": t["paper"],
        "font": {"family": _FONT_FAMILY, "size": font(18),
                 "color": t["text"]},
        "xaxis": {**axis_common, "side": "top", "range": [-0.5, n_cols - 0.5], "tickmode": "array",
                  "tickvals": list(range(len(columns))), "ticktext": [_wrap(s, stage_chars, cut_words=False) for s in columns],
                  "tickfont": {"size": font(20), "color": t["text"]}, "ticks": ""},
        "yaxis": {**axis_common, "range": [n_lanes - 0.5, -0.5], "tickmode": "array",
                  "tickvals": list(range(len(lanes))), "ticktext": [_wrap(f, 18, cut_words=False) for f in lanes],
                  "tickfont": {"size": font(20), "color": t["text"]}, "ticks": "", "automargin": True,
                  "ticklabelstandoff": 8},
        "shapes": shapes,
        "annotations": annotations,
        "showlegend": True,
        "legend": {"orientation": "h", "x": 1, "xanchor": "right", "y": -0.01, "yanchor": "top",
                   "font": {"size": font(16), "color": t["text"]}, "bgcolor": "rgba(0,0,0,0)"},
        "hoverlabel": {"font": {"size": font(16), "color": t["text"]}, "align": "left",
                       "bgcolor": t["hover_bg"], "bordercolor": t["rule"]},
        "hovermode": "closest",
        "dragmode": False,
        "template": {"data": {"scatter": [{"type": "scatter"}]}},  # Plotly's "none": nothing but what is set here
    }
    return _make_figure({"data": traces, "layout": layout})


def _legend_names(journey: Journey) -> list[str]:
    """The legend entries `journey_figure` will draw, in a rough order (for sizing the space under the plot)."""
    _, ngettext = _texts(journey)
    keys = {p.story.exercise_key for c in _filled_cells(journey.cells) for p in c.placed}
    names = [journey.exercise_titles.get(k, k) for k in keys] if len(keys) > 1 else []
    if any(p.customer_judged for c in _filled_cells(journey.cells) for p in c.placed):
        names.append(_(JUDGED_LABEL))
    if journey.reach:
        names.append(_(REACH_LABEL))
    if any(h.arrivals for h in journey.handoffs):
        names.append(_(ANSWERED_LABEL))
    return names + [_(DEAD_END_LABEL)]


def _legend_rows(journey: Journey, font_px: int) -> int:
    """How many rows the horizontal legend takes on a map about `_ASSUMED_WIDTH_PX` wide."""
    widths = [0.56 * font_px * len(n) + 48 for n in _legend_names(journey)]
    room_px, rows, used = _ASSUMED_WIDTH_PX - 420, 1, 0.0
    for w in widths:
        if used and used + w > room_px:
            rows, used = rows + 1, 0.0
        used += w
    return rows


def _make_figure(spec: dict) -> go.Figure:
    """The figure from its full specification.

    Plotly checks every property as a figure is built, about half a millisecond per annotation:
    most of the live map's time budget. The specification is made only by this module and the
    tests build it with checking on (`VALIDATE = True`), so the live path skips the check when
    this Plotly version allows it.
    """
    if not VALIDATE:
        try:
            return go.Figure(spec, _validate=False)
        except TypeError:  # a Plotly without the switch
            pass
    return go.Figure(spec)


def gap_label(h: Handoff) -> str:
    """The number printed on an arrow: its mean gap, with ★ when the customer judged at least one of its gaps."""
    gap = f"{h.mean_gap:.1f}" if h.mean_gap is not None else "–"
    return f"★ {gap}" if h.customer_judged else gap


_ENGLISH = (translator(None).gettext, translator(None).ngettext)


def _handoff_hover(h: Handoff, tr=_ENGLISH) -> str:
    """Both sides of a handoff: what the sender says gets lost, what the receiver says arrived and was missing."""
    _, ngettext = tr
    gap = f"{h.mean_gap:.1f}" if h.mean_gap is not None else _("not scored")
    lines = [
        f"<b>{_esc(h.from_function)} → {_esc(h.to_function)}</b>",
        _("at {stage} · {stories} · mean gap {gap}").format(
            stage=_esc(h.stage), stories=ngettext("{n} story", "{n} stories", h.count).format(n=h.count), gap=gap),
        _("Judged by {who}").format(who=_esc(judged_by_text(h, _))),
    ]
    evidence = next((a.evidence for a in h.accounts if a.customer_judged and a.evidence.strip()), "")
    if evidence:
        lines.append(_("★ The customer: {evidence}").format(
            evidence=_wrap(evidence, HOVER_LINE_CHARS, limit=HOVER_MAX_CHARS // 2)))
    if h.lost_texts:
        lines.append("<b>" + _("{function} says lost:").format(function=_esc(h.from_function)) + "</b> "
                     + _wrap(h.lost_texts[0], HOVER_LINE_CHARS, limit=HOVER_MAX_CHARS))
    lines += _arrival_lines(h, tr)
    return "<br>".join(lines)


def _arrival_lines(h: Handoff, tr=_ENGLISH) -> list[str]:
    _, ngettext = tr
    if not h.arrivals:
        return [_("{function} has not said what arrived").format(function=_esc(h.to_function))]
    lines = []
    if h.arrived_texts:
        lines.append("<b>" + _("{function} says arrived:").format(function=_esc(h.to_function)) + "</b> "
                     + _wrap(h.arrived_texts[0], HOVER_LINE_CHARS, limit=HOVER_MAX_CHARS))
    if h.missing_texts:
        lines.append("<b>" + _("{function} says missing:").format(function=_esc(h.to_function)) + "</b> "
                     + _wrap(h.missing_texts[0], HOVER_LINE_CHARS, limit=HOVER_MAX_CHARS))
    return lines


def _arrival_hover(h: Handoff, tr=_ENGLISH) -> str:
    _, ngettext = tr
    n = len(h.arrivals)
    return "<br>".join([f"<b>{_esc(h.from_function)} → {_esc(h.to_function)}</b> "
                        + _("at {stage}").format(stage=_esc(h.stage)),
                        ngettext("{n} answer from the receiving side", "{n} answers from the receiving side", n).format(n=n),
                        *_arrival_lines(h, tr)])


def _reach_bars(journey: Journey, lane_of: Mapping[str, int], col_of: Mapping[str, int], t: dict, font,
                traces: list[dict], tr=_ENGLISH) -> None:
    """Under each lane, a bar from its first story to the stage where its part of the story ends."""
    first: dict[str, int] = {}
    for c in _filled_cells(journey.cells):
        if c.function in lane_of and c.stage in col_of:
            first[c.function] = min(first.get(c.function, 999), col_of[c.stage])
    xs, ys, ends = [], [], {"x": [], "y": [], "hover": []}
    for function, r in journey.reach.items():
        if function not in lane_of or r.stage not in col_of:
            continue
        i, end = lane_of[function], col_of[r.stage]
        start = min(first.get(function, end), end)
        y = i + REACH_BAR_Y
        xs += [start - 0.46, end + 0.44, None]
        ys += [y, y, None]
        ends["x"].append(end + 0.44)
        ends["y"].append(y)
        _, ngettext = tr
        said = (ngettext("{named} of {n} story said where it ends", "{named} of {n} stories said where it ends",
                   r.stories).format(named=r.named, n=r.stories) if r.named else _("where it is handed on"))
        ends["hover"].append(f"<b>{_esc(reach_sentence(r, _))}</b><br>{_esc(said)}")
    if not xs:
        return
    _ = tr[0]
    traces.append({"type": "scatter", "mode": "lines", "name": _(REACH_LABEL), "showlegend": True, "x": xs, "y": ys,
                   "hoverinfo": "skip", "line": {"color": t["reach"], "width": 6}})
    traces.append({"type": "scatter", "mode": "markers", "name": _("Story ends"), "showlegend": False,
                   "x": ends["x"], "y": ends["y"], "hovertext": ends["hover"], "hoverinfo": "text",
                   "marker": {"symbol": "line-ns", "size": font(22), "color": t["reach"],
                              "line": {"color": t["reach"], "width": 6}}})


# --- the flow between functions ----------------------------------------------------------

SANKEY_FROM_TITLE = "hands the customer on"
SANKEY_TO_TITLE = "receives the customer"
SANKEY_EMPTY_NOTE = "No story names a function it hands the customer to yet"


@dataclass(frozen=True)
class Flow:
    """Every handoff from one function to another, over all stages."""

    from_function: str
    to_function: str
    handoffs: tuple[Handoff, ...]

    @property
    def count(self) -> int:
        return sum(h.count for h in self.handoffs)

    @property
    def scored(self) -> int:
        return sum(h.scored for h in self.handoffs)

    @property
    def mean_gap(self) -> float | None:
        scored = [(h.mean_gap, h.scored) for h in self.handoffs if h.mean_gap is not None and h.scored]
        total = sum(n for _g, n in scored)
        return sum(g * n for g, n in scored) / total if total else None


def flows(journey: Journey) -> list[Flow]:
    """The handoffs summed per (from function, to function) over stages, in lane order."""
    groups: dict[tuple[str, str], list[Handoff]] = defaultdict(list)
    for h in journey.handoffs:
        groups[(h.from_function, h.to_function)].append(h)
    lane = {f: i for i, f in enumerate(journey.functions)}
    return [Flow(src, dst, tuple(hs)) for (src, dst), hs in
            sorted(groups.items(), key=lambda kv: (lane.get(kv[0][0], 999), lane.get(kv[0][1], 999)))]


def _with_alpha(colour: str, alpha: float) -> str:
    r, g, b = _rgb(colour)
    return f"rgba({r:.0f},{g:.0f},{b:.0f},{alpha})"


def sankey_figure(journey: Journey, *, theme: str = "light", height: int | None = None) -> go.Figure:
    """The handoffs as a function-to-function flow: a Plotly Sankey, handing functions left, receiving right.

    One link per pair of functions (all stages together): as wide as its number of stories and
    coloured by its mean gap on the map's colour-blind-safe scale, with the same colourbar.
    Hovering a link gives the stories, the mean gap and the stages; a node, its total.
    Functions keep the workshop's order from top to bottom on both sides.
    """
    if theme not in _THEMES:
        raise ValueError(f"theme must be one of {', '.join(_THEMES)}, not {theme!r}")
    t = _THEMES[theme]
    lanes, _columns = drawn_grid(journey)  # the same functions as the map, however many are stored
    shown = set(lanes)
    links = [fl for fl in flows(journey) if fl.from_function in shown and fl.to_function in shown]
    sending, receiving = {fl.from_function for fl in links}, {fl.to_function for fl in links}
    senders = [f for f in lanes if f in sending]
    receivers = [f for f in lanes if f in receiving]
    n_rows = max(len(senders), len(receivers), 1)
    height = int(height or max(420, 56 * n_rows + 170))
    scale = height / max(420, 56 * n_rows + 170)
    font = lambda px: max(11, round(px * min(1.25, max(0.9, scale))))  # noqa: E731
    plot_h = max(120, height - _SANKEY_MARGIN["t"] - _SANKEY_MARGIN["b"])
    node_index = {("from", f): i for i, f in enumerate(senders)}
    node_index.update({("to", f): len(senders) + i for i, f in enumerate(receivers)})

    out_count = defaultdict(int)
    in_count = defaultdict(int)
    for fl in links:
        out_count[fl.from_function] += fl.count
        in_count[fl.to_function] += fl.count

    # Fixed positions keep the workshop's order. Plotly sizes nodes itself (pixels per story so
    # that the fuller column fits with `pad` between nodes) and takes y as a node's centre; the
    # same sums here stack each column's nodes top to bottom, the leftover space shared between them.
    pad = _SANKEY_NODE_PAD
    total = sum(fl.count for fl in links) or 1
    px_per_story = max(0.0, plot_h - pad * (n_rows - 1)) / total

    def column_y(names: list[str], counts: Mapping[str, int]) -> list[float]:
        sizes = [counts[f] * px_per_story for f in names]
        gap = (plot_h - sum(sizes)) / (len(names) - 1) if len(names) > 1 else 0.0
        ys, at = [], 0.0
        for size in sizes:
            ys.append(min(0.999, max(0.001, (at + size / 2) / plot_h)))
            at += size + gap
        return ys

    def node_hover(name: str, n: int, verb: str) -> str:
        return f"<b>{_esc(name)}</b><br>{verb} {n} {'story' if n == 1 else 'stories'}"

    node = {
        "label": [_wrap(f, 22, cut_words=False) for f in senders] + [_wrap(f, 22, cut_words=False) for f in receivers],
        "x": [0.001] * len(senders) + [0.999] * len(receivers),
        "y": column_y(senders, out_count) + column_y(receivers, in_count),
        "customdata": [node_hover(f, out_count[f], "hands on in") for f in senders]
        + [node_hover(f, in_count[f], "receives in") for f in receivers],
        "hovertemplate": "%{customdata}<extra></extra>",
        "color": [t["node"]] * (len(senders) + len(receivers)),
        "line": {"color": t["rule"], "width": 1},
        "pad": pad, "thickness": 22,
    }
    stage_order = {stage: i for i, stage in enumerate(journey.stages)}
    link = {"source": [], "target": [], "value": [], "color": [], "customdata": [],
            "hovertemplate": "%{customdata}<extra></extra>"}
    for fl in links:
        gap = fl.mean_gap
        colour = _colour_at(t["gap_span"], gap) if gap is not None else t["no_gap"]
        stages = ", ".join(_esc(h.stage) for h in sorted(fl.handoffs, key=lambda h: stage_order.get(h.stage, 999)))
        link["source"].append(node_index[("from", fl.from_function)])
        link["target"].append(node_index[("to", fl.to_function)])
        link["value"].append(fl.count)
        link["color"].append(_with_alpha(colour, 0.78))
        link["customdata"].append(
            f"<b>{_esc(fl.from_function)} → {_esc(fl.to_function)}</b><br>"
            f"{fl.count} {'story' if fl.count == 1 else 'stories'} · mean gap "
            f"{f'{gap:.1f}' if gap is not None else 'not scored'}"
            + (f" ({fl.scored} scored)" if gap is not None and fl.scored != fl.count else "")
            + f"<br>at {stages}")
    traces: list[dict] = [{
        "type": "sankey", "arrangement": "fixed", "node": node, "link": link,
        "domain": {"x": [0, 1], "y": [0, 1]}, "valueformat": "d",
        "textfont": {"size": font(18), "color": t["text"]},
    }]
    colourbar, colourbar_title = _gap_colourbar(t, font, plot_h)
    # The colourbar needs a trace of its own: one invisible point on hidden axes.
    traces.append({"type": "scatter", "mode": "markers", "x": [0], "y": [0], "hoverinfo": "skip", "showlegend": False,
                   "name": "Gap scale",
                   "marker": {"size": 1, "opacity": 0, "color": [GAP_MIN], "cmin": GAP_MIN, "cmax": GAP_MAX,
                              "colorscale": _gap_colours(t["gap_span"]), "showscale": True, "colorbar": colourbar}})
    annotations = [colourbar_title]
    for x, anchor, text in ((0, "left", SANKEY_FROM_TITLE), (1, "right", SANKEY_TO_TITLE)):
        annotations.append({"xref": "paper", "yref": "paper", "x": x, "xanchor": anchor, "y": 1, "yanchor": "bottom",
                            "yshift": 12, "showarrow": False, "text": text,
                            "font": {"size": font(17), "color": t["muted"]}})
    if not links:
        annotations.append({"xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5, "showarrow": False,
                            "text": SANKEY_EMPTY_NOTE, "font": {"size": font(24), "color": t["muted"]}})
    hidden = {"visible": False, "fixedrange": True, "range": [1, 2]}
    layout = {
        "height": height,
        "margin": {**_SANKEY_MARGIN, "autoexpand": True},
        "paper_bgcolor": t["paper"], "plot_bgcolor": t["paper"],
        "font": {"family": _FONT_FAMILY, "size": font(18), "color": t["text"]},
        "xaxis": hidden, "yaxis": hidden,
        "annotations": annotations,
        "showlegend": False,
        "hoverlabel": {"font": {"size": font(16), "color": t["text"]}, "align": "left",
                       "bgcolor": t["hover_bg"], "bordercolor": t["rule"]},
        "dragmode": False,
        "template": {"data": {"scatter": [{"type": "scatter"}]}},
    }
    return _make_figure({"data": traces, "layout": layout})

