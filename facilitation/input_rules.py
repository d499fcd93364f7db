"""What counts as a valid answer. Checked on the server; the browser's limits are only hints.

Text is stored exactly as typed. These rules only decide whether it can be accepted, and
say why not in words a participant understands.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from typing import Iterable

from .exercises import Exercise, Field
from .i18n import N_
from .handoff_sides import CHOOSE_A_HANDOFF, NO_HANDOFF_YET

DISPLAY_NAME_MAX = 60
TITLE_MAX = 200
FUNCTION_NAME_MAX = 60
STAGE_NAME_MAX = 60
# What one workshop may hold. A room has a handful of functions and stages (9 and 6 by default);
# the map and the report draw every lane and column, so these bound what a page costs to draw.
MAX_FUNCTIONS = 30
MAX_STAGES = 15
MAX_AGENDA_ITEMS = 30


def visible_text(text: str) -> str:
    """The text without white space and invisible format characters (zero-width spaces, BOM …)."""
    return "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch) != "Cf")


def has_lone_surrogate(text: str) -> bool:
    """True if the text holds half of a UTF-16 surrogate pair: no browser sends one, UTF-8 cannot encode it,
    so it could be kept in a JSON answer but never shown on a screen, in a chart or sent to the browser."""
    return any("\ud800" <= ch <= "\udfff" for ch in text)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def displayable(text: str) -> str:
    """The text with any half of a surrogate pair replaced by U+FFFD, so a screen can show it.

    Nothing the app accepts holds one (they are refused); this is for what got into the database
    some other way (a row inserted by hand), which must not break a page for good."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _LONE_SURROGATE.sub("\ufffd", text)
    return text


def displayable_value(value: object) -> object:
    """A stored answer as something every screen can draw: text (made displayable), a number, True/False,
    or None; a list or an object someone stored by hand becomes its JSON text."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return displayable(value)
    return displayable(json.dumps(value, ensure_ascii=False, default=str))


def _english(message: str) -> str:
    return message


def text_problem(text: object, *, max_chars: int | None, required: bool = True, what: str = N_("This answer"),
                 one_line: bool = False, gettext=_english) -> str | None:
    """Why a piece of text cannot be accepted, or None if it can (in the room's language with `gettext`,
    which also gets `what`: pass it an English msgid).

    Stories accept any character but half of a surrogate pair (which no browser sends and no
    screen can show); a one-line name (title, person, function, stage) also refuses control
    characters, which no keyboard types on purpose and PostgreSQL text columns cannot store (NUL).
    """
    _ = gettext
    what = _(what)
    if text is None:
        text = ""
    if not isinstance(text, str):
        return _("{what} must be text.").format(what=what)
    if not visible_text(text):
        if required:
            return (_("{what} is empty. Please write something.") if not text
                    else _("{what} has only blank or invisible characters. Please write something.")).format(what=what)
        return None
    if has_lone_surrogate(text):
        return _("{what} contains a broken character (half of an emoji or symbol). Please retype it.").format(what=what)
    if one_line and any(unicodedata.category(ch) == "Cc" for ch in text.strip()):
        return _("{what} contains a line break or an invisible control character. "
                 "Please type it on one line.").format(what=what)
    if max_chars is not None and len(text) > max_chars:
        over = len(text) - max_chars
        return _("{what} is {length} characters; the limit is {limit}. Please shorten it by {over}.").format(
            what=what, length=f"{len(text):,}", limit=f"{max_chars:,}", over=f"{over:,}")
    return None


def answer_problems(exercise: Exercise, answers: dict, *, functions: list[str], stages: list[str],
                    partners: list[str] | None = None, handoffs: list[str] | None = None,
                    own_function: str | None = None, serves: list[str] | None = None,
                    today: dt.date | None = None, rounds: Iterable[int] | None = None,
                    gettext=_english) -> dict[str, str]:
    """Every field whose answer cannot be accepted, with the reason; empty when all is well.

    `handoffs` are the handoff answers this teller may give (`handoff_sides.offered_handoffs`:
    those other functions said they make to the teller's own).
    `rounds`: for an exercise in rounds, the rounds being sent (only their fields are checked and
    accepted); None checks the whole form. `own_function` is the teller's (a `not_own` field refuses
    it), `serves` the stories and handoffs a `story_or_handoff` field may name, `today` the first day
    a `not_past` date may be (the day the answer is sent; default: the server's today). A `story_or_handoff`
    field may stay empty only while the workshop has nothing to pick.
    """
    problems: dict[str, str] = {}
    fields = exercise.fields if rounds is None else tuple(f for r in rounds for f in exercise.round_fields(r))
    for f in fields:
        problem = field_problem(f, answers.get(f.name), functions=functions, stages=stages, partners=partners or [],
                                handoffs=handoffs, own_function=own_function, serves=serves or [], today=today,
                                gettext=gettext)
        if problem:
            problems[f.name] = problem
    for name in answers:
        if name not in {f.name for f in fields} and not (rounds is not None and _blank(answers[name])):
            problems[name] = (f"'{name}' is not a question of this exercise." if name not in {f.name for f in exercise.fields}
                              else f"'{name}' belongs to another round of this exercise.")
    problems.update(_handoff_problems(exercise, answers, stages, problems))
    return problems


def rounds_given(exercise: Exercise, answers: dict) -> list[int]:
    """The rounds of a paced exercise that `answers` say something in (the first always counts)."""
    if not exercise.paced:
        return [0]
    given = [i for i in range(len(exercise.rounds))
             if any(not _blank(answers.get(f.name)) for f in exercise.round_fields(i))]
    return sorted({0, *given})


def _handoff_problems(exercise: Exercise, answers: dict, stages: list[str], found: dict[str, str]) -> dict[str, str]:
    """Rules across the answers of one handoff story: the story cannot end before the stage one owns,
    and a gap the customer judged says what the customer said or showed."""
    roles, out = exercise.handoff, {}
    stage, reach = roles.get("stage"), roles.get("reach")
    if stage and reach and not (found.keys() & {stage, reach}) and not _blank(answers.get(reach)):
        own, ends = answers.get(stage), answers.get(reach)
        if own in stages and ends in stages and stages.index(ends) < stages.index(own):
            out[reach] = (f"Your part of the story cannot end before the stage you own ({own}). "
                          f"Pick {own} or a later stage, or leave this empty.")
    judged, evidence = roles.get("judged_by"), roles.get("evidence")
    if judged and evidence and judged not in found and evidence not in found \
            and answers.get(judged) == exercise.judged_by_customer and _blank(answers.get(evidence)):
        out[evidence] = ("You said the customer judged this gap: write what they said or showed "
                         "(a quote, a ticket, a survey score), or choose 'our own guess'.")
    return out


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not visible_text(value))


def field_problem(f: Field, value: object, *, functions: list[str], stages: list[str], partners: list[str],
                  handoffs: list[str] | None = None, own_function: str | None = None,
                  serves: list[str] | None = None, today: dt.date | None = None, gettext=_english) -> str | None:
    """Why one answer cannot be accepted (in the room's language with `gettext`), or None."""
    _ = gettext
    if f.is_text:
        return text_problem(value, max_chars=f.max_chars, required=f.required, gettext=gettext)
    if f.kind == "handoff" and not handoffs:
        return _(NO_HANDOFF_YET) if f.required or not _blank(value) else None
    if f.kind == "story_or_handoff" and not serves and _blank(value):
        return None  # the room has told nothing yet to pick from (a workshop of commitments only)
    if _blank(value):
        return _("Please choose an answer.") if f.required else None
    if f.kind == "handoff":
        return None if value in handoffs else _(CHOOSE_A_HANDOFF)
    if f.kind == "function":
        if value not in functions:
            return _("Please choose one of the functions in the list.")
        if f.not_own and own_function is not None and value == own_function:
            return _("{value} is your own function. Pick the team on the other side of the seam: "
                     "this answer connects you to another function.").format(value=value)
        return None
    if f.kind == "stage":
        return None if value in stages else _("Please choose one of the stages in the list.")
    if f.kind == "choice":
        return None if value in f.options else _("Please choose one of the options in the list.")
    if f.kind == "partner":
        return None if value in partners else _("Please choose your partner from the list of people in the room.")
    if f.kind == "story_or_handoff":
        if not serves:
            return _("The room has told no stories or handoffs yet, so there is nothing to pick: leave this one empty.")
        return None if value in serves else _("Please choose a story or handoff from today's list.")
    if f.kind == "scale":
        if isinstance(value, bool) or not isinstance(value, int) or not f.scale_min <= value <= f.scale_max:
            return _("Please pick a number from {low} to {high}.").format(low=f.scale_min, high=f.scale_max)
        return None
    if f.kind == "date":
        if isinstance(value, dt.date):
            day = value
        else:
            try:
                day = dt.date.fromisoformat(str(value))
            except ValueError:
                return _("Please give a date like 2026-12-31.")
        first = today or dt.date.today()
        if f.not_past and day < first:
            return f"{day:%A %d %B %Y} has already passed. Please pick today ({first:%d %B}) or a later date."
        return None
    return None


def normalise_answers(exercise: Exercise, answers: dict) -> dict:
    """Answers ready to store as JSON: dates as ISO strings, blanks of optional fields dropped; text untouched."""
    out: dict = {}
    for f in exercise.fields:
        if f.name not in answers:
            continue
        value = answers.get(f.name)
        if _blank(value):
            continue
        if f.kind == "date" and isinstance(value, dt.date):
            value = value.isoformat()
        out[f.name] = value
    return out


def name_list_problem(names: object, *, what: str, max_chars: int, minimum: int = 2,
                      maximum: int | None = None) -> str | None:
    """Why a list of function or stage names cannot be used, or None.

    The count is checked first, so a list of any length costs one pass to refuse."""
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
        return f"The {what} must be a list of names (text), one per line."
    cleaned = [n.strip() for n in names if visible_text(n)]
    if len(cleaned) < minimum:
        return f"Please give at least {minimum} {what}."
    if maximum is not None and len(cleaned) > maximum:
        return (f"{len(cleaned):,} {what} are more than one workshop can show: the limit is {maximum}. "
                f"Please remove {len(cleaned) - maximum:,}.")
    seen: set[str] = set()
    for n in cleaned:
        if has_lone_surrogate(n):  # not echoed: it could not be shown
            return f"One of the {what} contains a broken character (half of an emoji or symbol). Please retype it."
        if any(unicodedata.category(ch) == "Cc" for ch in n):
            return f"'{n[:30]}' contains an invisible control character. Please retype it."
        if len(n) > max_chars:
            return f"'{n[:30]}…' is longer than {max_chars} characters."
        if n.casefold() in seen:
            return f"'{n}' is listed twice."
        seen.add(n.casefold())
    return None


def split_lines(text: str) -> list[str]:
    """One name per line, blank lines and surrounding spaces dropped."""
    return [line.strip() for line in (text or "").splitlines() if visible_text(line)]
