"""The two sides of a handoff, how far a function's story reaches, and who judged a gap.

Over the wall's senders say whom they hand the customer to and what gets lost; the receiving
exercise (`[receives]`, What actually arrives) lets each receiving function answer the handoffs
pointed at it. A receiver's answer names its handoff by a field of kind "handoff", stored as
the text "<sending function> @ <stage>" (the receiving function is the teller's own), so the CSV
and the archive read it without the app. Pure functions, no Streamlit, no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from . import i18n
from .exercises import Exercise
from .i18n import N_

SEPARATOR = " @ "
NO_HANDOFF_YET = N_("No function has said yet that it hands customers to yours, so there is no handoff to answer "
                    "here. Listen to the others, or answer when one appears in the list.")
CHOOSE_A_HANDOFF = N_("Please choose one of the handoffs in the list: those other functions said they make to yours.")


def handoff_value(from_function: str, stage: str) -> str:
    """How a receiver's answer names the handoff it answers."""
    return f"{from_function}{SEPARATOR}{stage}"


def parse_handoff_value(value: object, functions: Iterable[str], stages: Iterable[str]) -> tuple[str, str] | None:
    """(sending function, stage) from a stored handoff answer, or None when it names no known pair.

    Read against the workshop's own names, so a name holding the separator still parses."""
    if not isinstance(value, str) or SEPARATOR not in value:
        return None
    known = set(functions)
    for stage in stages:
        tail = SEPARATOR + stage
        if value.endswith(tail) and value[: -len(tail)] in known:
            return value[: -len(tail)], stage
    return None


@dataclass(frozen=True)
class Offered:
    """A handoff a receiving function may answer: who said they send it, at which stage, in how many stories."""

    from_function: str
    stage: str
    stories: int

    @property
    def value(self) -> str:
        return handoff_value(self.from_function, self.stage)

    def label(self, shown_function: str | None = None, language: str | None = None) -> str:
        t = i18n.translator(language)
        told = t.ngettext("{n} story", "{n} stories", self.stories).format(n=self.stories)
        return t.gettext("From {function}, at {stage} ({stories})").format(
            function=shown_function or self.from_function, stage=self.stage, stories=told)


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def offered_handoffs(stories: Iterable, sender: Exercise, to_function: str, *, functions: list[str],
                     stages: list[str]) -> list[Offered]:
    """The handoffs the sender exercise's visible stories say they make to `to_function`, in stage then
    function order. `stories` are Story-like (exercise_key, function, answers, hidden, builds_on)."""
    roles = sender.handoff
    if not roles or not to_function:
        return []
    counts: dict[tuple[str, str], int] = {}
    for s in stories:
        if s.exercise_key != sender.key or s.hidden or getattr(s, "builds_on", None) is not None:
            continue
        answers = s.answers if isinstance(s.answers, dict) else {}
        if _text(answers.get(roles["to_function"])) != to_function:
            continue
        stage = _text(answers.get(roles["stage"]))
        if stage and s.function:
            counts[(s.function, stage)] = counts.get((s.function, stage), 0) + 1
    stage_at = {s: i for i, s in enumerate(stages)}
    function_at = {f: i for i, f in enumerate(functions)}
    ordered = sorted(counts, key=lambda k: (stage_at.get(k[1], 999), function_at.get(k[0], 999), k))
    return [Offered(f, s, counts[(f, s)]) for f, s in ordered]


def customer_judged(exercise: Exercise, answers: dict) -> bool:
    """Whether the customer judged this gap (a quote, a ticket, a score), not us.

    The `judged_by` answer decides; a story that leaves it empty but gives evidence counts as the
    customer's judgement, and one with neither (stories told before these fields existed) as our guess."""
    roles = exercise.handoff
    if not roles.get("judged_by") and not roles.get("evidence"):
        return False
    judged = _text(answers.get(roles.get("judged_by", "")))
    if judged:
        return judged == exercise.judged_by_customer
    return bool(_text(answers.get(roles.get("evidence", ""))))


def reach_stage(exercise: Exercise, answers: dict, stages: list[str]) -> str | None:
    """The stage where this teller's part of the customer's story ends: the `reach` answer, else the
    stage they own (no answer: their story ends where they hand the customer on). None if neither is known."""
    roles = exercise.handoff
    own = _text(answers.get(roles.get("stage", "")))
    reach = _text(answers.get(roles.get("reach", ""))) if roles.get("reach") else ""
    for candidate in (reach, own):
        if candidate and candidate in stages:
            return candidate
    return None


def shown_handoff(value: object, fold: Callable[[str], str], functions: Iterable[str], stages: Iterable[str]) -> object:
    """A stored handoff answer as an anonymous output may print it: the sending function through `fold`."""
    found = parse_handoff_value(value, functions, stages)
    if found is None:
        return value
    return handoff_value(fold(found[0]), found[1])


def handoff_choices(snapshot, exercise: Exercise, function: str) -> dict[str, str]:
    """The handoff field's choices for a teller of `function` (value → label), from a workshop snapshot.

    With names off a sending function that may not be named (room.function_folds: fewer than three
    senders) reads "Other functions", and choices that then read alike become one."""
    from . import room  # room imports the workshop model, which imports this module
    from .exercises import library

    sender = library().get(exercise.receives_from or "")
    if sender is None:
        return {}
    ws = snapshot.workshop
    offered = offered_handoffs(snapshot.stories, sender, function, functions=list(ws.functions), stages=list(ws.stages))
    folds = room.function_folds(snapshot)
    choices: dict[str, str] = {}
    seen: set[str] = set()
    for o in offered:
        shown = o.from_function if ws.show_names else folds.get((sender.key, o.from_function), room.OTHER_FUNCTIONS)
        key = f"{shown}{SEPARATOR}{o.stage}"
        if key in seen:
            continue
        seen.add(key)
        if shown != o.from_function:  # the count of a folded group, so the label adds up
            same = [p for p in offered if p.stage == o.stage
                    and folds.get((sender.key, p.from_function), room.OTHER_FUNCTIONS) == shown]
            o = Offered(o.from_function, o.stage, sum(p.stories for p in same))
        choices[o.value] = o.label(shown, ws.language)
    return choices


def handoff_text(value: object, language: str | None = None) -> str:
    """A handoff answer as a sentence: 'From Sales, at Sale' (in the room's `language`)."""
    if not isinstance(value, str) or SEPARATOR not in value:
        return "" if value is None else str(value)
    function, _sep, stage = value.rpartition(SEPARATOR)
    return i18n.translator(language).gettext("From {function}, at {stage}").format(function=function, stage=stage)


def anonymous_handoffs(snapshot) -> Callable[[object], object]:
    """How an output with names off prints a handoff answer: the sending function as its own exercise's
    stories show it ("Other functions" when fewer than three people of it told one). Names on: as stored.

    Call with the snapshot as stored (before `room.anonymous_snapshot`), whose folds it reads."""
    if snapshot.workshop.show_names:
        return lambda value: value
    from . import room
    from .exercises import library

    folds = room.function_folds(snapshot)
    senders = [e.key for e in library().values() if e.handoff]
    ws = snapshot.workshop
    functions, stages = list(ws.functions), list(ws.stages)

    def fold(function: str) -> str:
        return next((folds[(k, function)] for k in senders if (k, function) in folds), room.OTHER_FUNCTIONS)

    return lambda value: shown_handoff(value, fold, functions, stages)
