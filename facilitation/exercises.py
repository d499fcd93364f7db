"""The exercise library: one declarative TOML file per exercise in `exercises/`, checked at load.

A file names its fields (what participants give), how the room sees the results and how
the report shows them (`[room] view`, `[report] view`: names of views in `facilitation.views`). The participant form, projector wall, map feed and report section
are rendered generically from it, so adding an exercise means adding one file.
A malformed file raises `ExerciseFileError` naming the file and the field.

A file carries its own translations as data: `[translations.de]` holds title, question,
purpose, `notes` and, under `[translations.de.fields.<name>]`, a field's label, help,
placeholder, low/high and option labels. Anything left out stays English, field by field
(`in_language`). A choice stores the English option; its translation is only its label.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from . import views

EXERCISES_DIR = Path(__file__).resolve().parent.parent / "exercises"

FIELD_KINDS = {
    "short_text": "one line of text",
    "long_text": "a paragraph of text",
    "function": "one of the workshop's functions",
    "stage": "one of the workshop's lifecycle stages",
    "scale": "a whole number on a scale (default 1 to 5)",
    "choice": "one of a fixed list of options",
    "date": "a calendar date",
    "partner": "another participant in the room",
    "story_or_handoff": "a story or a handoff from this workshop",
    "handoff": "a handoff another function said it makes to the participant's own (see [receives])",
}
DEFAULT_MAX_CHARS = {"short_text": 200, "long_text": 2000}
HANDOFF_ROLES = ("stage", "to_function", "promise", "experience", "lost", "gap", "reach", "evidence", "judged_by")
# [handoff] judged_by_customer: the option of the judged_by field that means "the customer judged it".
HANDOFF_SETTINGS = ("judged_by_customer",)
# [receives]: an exercise whose people answer the handoffs another exercise's stories point at them.
RECEIVES_ROLES = ("handoff", "arrived", "missing")


class ExerciseFileError(ValueError):
    """An exercise file that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    label: str
    help: str = ""
    required: bool = True
    max_chars: int | None = None
    options: tuple[str, ...] = ()
    scale_min: int = 1
    scale_max: int = 5
    scale_low: str = ""
    scale_high: str = ""
    placeholder: str = ""
    short_label: str = ""  # a column heading or a card's line label ("Why bought"); default: the name in words
    # What each of `options` is called in the room's language (same order); empty: the options themselves.
    option_labels: tuple[str, ...] = ()
    not_own: bool = False   # a function field: not the teller's own function
    not_past: bool = False  # a date field: today or later

    @property
    def is_text(self) -> bool:
        return self.kind in ("short_text", "long_text")

    def option_label(self, value: object) -> str:
        """How a stored choice reads in this field's language (the stored value itself if it is no option)."""
        if self.option_labels and value in self.options:
            return self.option_labels[self.options.index(value)]
        return str(value)


@dataclass(frozen=True)
class Phase:
    """One timed step of an exercise done in pairs: what the room is asked, and what each role does."""

    title: str
    minutes: int
    prompt: str           # on the projector and every phone
    teller: str = ""      # what the teller does now (phone)
    listener: str = ""    # what the listener does now (phone)


@dataclass(frozen=True)
class Round:
    """A part of the form the room answers together, sendable on its own (the facilitator moves the room on)."""

    title: str
    fields: tuple[str, ...]
    say: str = ""   # what the facilitator says to open this round (console only)
    view: str = ""  # what the projector shows while the room is in this round ("": the exercise's view)


@dataclass(frozen=True)
class Exercise:
    key: str
    title: str
    question: str
    purpose: str
    minutes: int
    order: int
    source: str
    say: str
    debrief: str
    fields: tuple[Field, ...]
    room_view: str
    headline: str
    report_view: str
    handoff: dict[str, str] = field(default_factory=dict)
    glossary: tuple[str, ...] = ()      # (term field, meaning field): shown as a two-column glossary
    side_by_side: tuple[str, ...] = ()  # two fields shown next to each other (a pair's two versions)
    board_by: str = ""                  # a function field: the commitments board groups by author → this
    dots: int = 3                       # default dot-voting cap per participant
    build_on: bool = False              # others can add to a story
    own_votes: bool = False             # whether a person may put a dot on a story of their own
    # language code → the file's [translations.<code>] table, checked (see in_language).
    translations: dict[str, dict] = field(default_factory=dict)
    language: str = "en"                # the language this copy's texts are in
    tally: str = ""                     # a choice field the room counts (one mark per pair)
    phases: tuple[Phase, ...] = ()      # timed steps the facilitator starts one after the other
    rounds: tuple[Round, ...] = ()      # the form in paced parts; () is one form sent at once
    then_and_now: tuple[str, ...] = ()  # (a story told about the past, where it happens again now)
    judged_by_customer: str = ""        # the [handoff] judged_by option that means the customer judged the gap
    receives: dict[str, str] = field(default_factory=dict)  # [receives]: exercise + roles → field names

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def paced(self) -> bool:
        """Whether the form comes in rounds the facilitator opens one after the other."""
        return bool(self.rounds)

    def round_fields(self, index: int) -> tuple[Field, ...]:
        """The fields of one round (of the whole form when the exercise has no rounds)."""
        if not self.rounds:
            return self.fields
        return tuple(self.field(n) for n in self.rounds[index].fields)

    def view_in_round(self, index: int) -> str:
        """What the projector shows while the room is in round `index`."""
        if not self.rounds:
            return self.room_view
        return self.rounds[min(max(index, 0), len(self.rounds) - 1)].view or self.room_view

    @property
    def guess_first(self) -> bool:
        """Whether the room guesses what a term means before its translation is revealed."""
        return bool(self.glossary) and "guess_first" in (self.room_view, *(r.view for r in self.rounds))

    @property
    def feeds_map(self) -> bool:
        return bool(self.handoff)

    @property
    def receives_from(self) -> str | None:
        """The key of the exercise whose handoffs this one answers (the receiving side), or None."""
        return self.receives.get("exercise") or None

    @property
    def partner_field(self) -> Field | None:
        """The field naming another person in the room, for exercises done in pairs."""
        return next((f for f in self.fields if f.kind == "partner"), None)


def _need(table: dict, key: str, kind: type, where: str, default=None):
    if key not in table:
        if default is not None:
            return default
        raise ExerciseFileError(f"{where}: '{key}' is missing")
    value = table[key]
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        raise ExerciseFileError(f"{where}: '{key}' must be {kind.__name__}, not {type(value).__name__}")
    if kind is str and not value.strip() and default is None:
        raise ExerciseFileError(f"{where}: '{key}' is empty")
    return value


LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")  # as facilitation.i18n
TRANSLATION_KEYS = {"title", "question", "purpose", "notes", "fields", "rounds", "phases"}
ROUND_TRANSLATION_KEYS = {"title"}
PHASE_TRANSLATION_KEYS = {"title", "prompt", "teller", "listener"}
FIELD_TRANSLATION_KEYS = {"label", "help", "placeholder", "low", "high", "options", "short_label"}
FIELD_KEYS = {"name", "kind", "label", "help", "required", "max_chars", "options", "min", "max", "low", "high", "placeholder",
              "short_label",
              "not_own", "not_past"}
ROUND_KEYS = {"title", "fields", "say", "view"}
SUBTABLE_KEYS = {"notes": {"say", "debrief"},
                 "room": {"view", "headline", "glossary", "side_by_side", "board_by", "dots", "build_on", "own_votes",
                          "tally", "then_and_now"},
                 "phases": {"title", "minutes", "prompt", "teller", "listener"},
                 "report": {"view"}}


def _no_unknown_keys(table: dict, allowed: set[str], where: str) -> None:
    for k in table:
        if k not in allowed:
            raise ExerciseFileError(f"{where}: unknown key '{k}' (expected one of {', '.join(sorted(allowed))})")


def parse_exercise(data: dict, source_name: str, key: str) -> Exercise:
    """Check one exercise's data against the schema and build it."""
    where = source_name
    known = {"title", "question", "purpose", "minutes", "order", "source", "notes", "fields", "room", "report", "handoff",
             "phases", "rounds", "receives", "translations"}
    for k in data:
        if k not in known:
            raise ExerciseFileError(f"{where}: unknown key '{k}' (expected one of {', '.join(sorted(known))})")
    notes = _need(data, "notes", dict, where)
    _no_unknown_keys(notes, SUBTABLE_KEYS["notes"], f"{where}: notes")
    raw_fields = _need(data, "fields", list, where)
    if not raw_fields:
        raise ExerciseFileError(f"{where}: 'fields' is empty")
    fields: list[Field] = []
    names: set[str] = set()
    for i, rf in enumerate(raw_fields):
        fw = f"{where}: fields[{i}]"
        if not isinstance(rf, dict):
            raise ExerciseFileError(f"{fw}: must be a table")
        name = _need(rf, "name", str, fw)
        fw = f"{where}: field '{name}'"
        _no_unknown_keys(rf, FIELD_KEYS, fw)
        if not name.isidentifier():
            raise ExerciseFileError(f"{fw}: name must be letters, digits and underscores")
        if name in names:
            raise ExerciseFileError(f"{fw}: the name is used twice")
        names.add(name)
        kind = _need(rf, "kind", str, fw)
        if kind not in FIELD_KINDS:
            raise ExerciseFileError(f"{fw}: unknown kind '{kind}' (expected one of {', '.join(FIELD_KINDS)})")
        options = tuple(_need(rf, "options", list, fw, default=[]))
        if kind == "choice" and len(options) < 2:
            raise ExerciseFileError(f"{fw}: a choice needs 'options' with at least two entries")
        max_chars = rf.get("max_chars", DEFAULT_MAX_CHARS.get(kind))
        if max_chars is not None and (not isinstance(max_chars, int) or isinstance(max_chars, bool) or max_chars < 1):
            raise ExerciseFileError(f"{fw}: 'max_chars' must be a positive whole number")
        flags = {}
        for flag, needs in (("not_own", "function"), ("not_past", "date")):
            flags[flag] = _need(rf, flag, bool, fw, default=False) if flag in rf else False
            if flags[flag] and kind != needs:
                raise ExerciseFileError(f"{fw}: '{flag}' applies to a field of kind '{needs}' only")
        scale_min = _need(rf, "min", int, fw, default=1)
        scale_max = _need(rf, "max", int, fw, default=5)
        if kind == "scale" and scale_min >= scale_max:
            raise ExerciseFileError(f"{fw}: 'min' must be below 'max'")
        fields.append(Field(
            name=name,
            kind=kind,
            label=_need(rf, "label", str, fw),
            help=_need(rf, "help", str, fw, default=""),
            required=_need(rf, "required", bool, fw, default=True) if "required" in rf else True,
            max_chars=max_chars,
            options=options,
            scale_min=scale_min,
            scale_max=scale_max,
            scale_low=_need(rf, "low", str, fw, default=""),
            scale_high=_need(rf, "high", str, fw, default=""),
            placeholder=_need(rf, "placeholder", str, fw, default=""),
            short_label=_need(rf, "short_label", str, fw, default=""),
            **flags,
        ))
    room = _need(data, "room", dict, where)
    _no_unknown_keys(room, SUBTABLE_KEYS["room"], f"{where}: room")
    room_view = _need(room, "view", str, f"{where}: room")
    if not views.known(room_view):
        raise ExerciseFileError(f"{where}: room.view '{room_view}' is not one of {', '.join(views.names())}")
    headline = _need(room, "headline", str, f"{where}: room")
    if headline not in names:
        raise ExerciseFileError(f"{where}: room.headline names no field ('{headline}')")
    by_name = {f.name: f for f in fields}

    def field_pair(key: str) -> tuple[str, ...]:
        pair = _need(room, key, list, f"{where}: room", default=[])
        if pair and (len(pair) != 2 or any(n not in by_name for n in pair)):
            raise ExerciseFileError(f"{where}: room.{key} must name two fields of this exercise")
        return tuple(pair)

    glossary, side_by_side, then_and_now = field_pair("glossary"), field_pair("side_by_side"), field_pair("then_and_now")
    rounds = _rounds(data, by_name, where)
    board_by = _need(room, "board_by", str, f"{where}: room", default="")
    if board_by and (board_by not in by_name or by_name[board_by].kind != "function"):
        raise ExerciseFileError(f"{where}: room.board_by must name a field of kind 'function'")
    dots = _need(room, "dots", int, f"{where}: room", default=3)
    if not 1 <= dots <= 20:
        raise ExerciseFileError(f"{where}: room.dots must be between 1 and 20")
    build_on = _need(room, "build_on", bool, f"{where}: room", default=False) if "build_on" in room else False
    own_votes = _need(room, "own_votes", bool, f"{where}: room", default=False) if "own_votes" in room else False
    tally = _need(room, "tally", str, f"{where}: room", default="")
    if tally and (tally not in by_name or by_name[tally].kind != "choice"):
        raise ExerciseFileError(f"{where}: room.tally must name a field of kind 'choice'")
    phases = []
    for i, rp in enumerate(_need(data, "phases", list, where, default=[])):
        pw = f"{where}: phases[{i}]"
        if not isinstance(rp, dict):
            raise ExerciseFileError(f"{pw}: must be a table")
        _no_unknown_keys(rp, SUBTABLE_KEYS["phases"], pw)
        phase_minutes = _need(rp, "minutes", int, pw)
        if not 1 <= phase_minutes <= 60:
            raise ExerciseFileError(f"{pw}: 'minutes' must be between 1 and 60")
        phases.append(Phase(title=_need(rp, "title", str, pw), minutes=phase_minutes, prompt=_need(rp, "prompt", str, pw),
                            teller=_need(rp, "teller", str, pw, default=""),
                            listener=_need(rp, "listener", str, pw, default="")))
    if phases and not any(f.kind == "partner" for f in fields):
        raise ExerciseFileError(f"{where}: phases are for an exercise done in pairs (a field of kind 'partner')")
    report = _need(data, "report", dict, where)
    _no_unknown_keys(report, SUBTABLE_KEYS["report"], f"{where}: report")
    report_view = _need(report, "view", str, f"{where}: report")
    if not views.known(report_view):
        raise ExerciseFileError(f"{where}: report.view '{report_view}' is not one of {', '.join(views.names())}")
    handoff = dict(_need(data, "handoff", dict, where, default={}))
    judged_by_customer = handoff.pop("judged_by_customer", "")
    for role, fname in handoff.items():
        if role not in HANDOFF_ROLES:
            raise ExerciseFileError(f"{where}: handoff.{role} is not one of {', '.join(HANDOFF_ROLES + HANDOFF_SETTINGS)}")
        if not isinstance(fname, str) or fname not in names:
            raise ExerciseFileError(f"{where}: handoff.{role} names no field ('{fname}')")
    if handoff and not {"stage", "to_function"} <= handoff.keys():
        raise ExerciseFileError(f"{where}: handoff needs at least 'stage' and 'to_function'")
    picked = {room_view, *(r.view for r in rounds)}
    if "then_and_now" in picked and not then_and_now:
        raise ExerciseFileError(f"{where}: the view 'then_and_now' needs room.then_and_now (two fields)")
    if "guess_first" in picked and not glossary:
        raise ExerciseFileError(f"{where}: the view 'guess_first' needs room.glossary (term and meaning)")
    if "reach" in handoff and by_name[handoff["reach"]].kind != "stage":
        raise ExerciseFileError(f"{where}: handoff.reach must name a field of kind 'stage'")
    if "judged_by" in handoff:
        options = by_name[handoff["judged_by"]].options
        if by_name[handoff["judged_by"]].kind != "choice" or judged_by_customer not in options:
            raise ExerciseFileError(f"{where}: handoff.judged_by must name a choice field, and "
                                    "handoff.judged_by_customer one of its options")
    elif judged_by_customer:
        raise ExerciseFileError(f"{where}: handoff.judged_by_customer needs handoff.judged_by")
    receives = dict(_need(data, "receives", dict, where, default={}))
    handoff_fields = [f.name for f in fields if f.kind == "handoff"]
    if receives:
        source_key = receives.get("exercise")
        if not isinstance(source_key, str) or not source_key.strip():
            raise ExerciseFileError(f"{where}: receives.exercise must name the exercise whose handoffs are answered")
        for role, fname in receives.items():
            if role == "exercise":
                continue
            if role not in RECEIVES_ROLES:
                raise ExerciseFileError(f"{where}: receives.{role} is not one of exercise, {', '.join(RECEIVES_ROLES)}")
            if not isinstance(fname, str) or fname not in names:
                raise ExerciseFileError(f"{where}: receives.{role} names no field ('{fname}')")
        if "handoff" not in receives or by_name[receives["handoff"]].kind != "handoff":
            raise ExerciseFileError(f"{where}: receives.handoff must name a field of kind 'handoff'")
    if handoff_fields and (not receives or handoff_fields != [receives.get("handoff")]):
        raise ExerciseFileError(f"{where}: field '{handoff_fields[0]}': a field of kind 'handoff' needs a "
                                "[receives] table naming it (one such field per exercise)")
    translations = _translations(_need(data, "translations", dict, where, default={}), fields, where,
                                 rounds=len(rounds), phases=len(phases))
    minutes = _need(data, "minutes", int, where)
    if not 1 <= minutes <= 180:
        raise ExerciseFileError(f"{where}: 'minutes' must be between 1 and 180")
    return Exercise(
        key=key,
        title=_need(data, "title", str, where),
        question=_need(data, "question", str, where),
        purpose=_need(data, "purpose", str, where),
        minutes=minutes,
        order=_need(data, "order", int, where, default=100),
        source=_need(data, "source", str, where, default=""),
        say=_need(notes, "say", str, f"{where}: notes"),
        debrief=_need(notes, "debrief", str, f"{where}: notes"),
        fields=tuple(fields),
        room_view=room_view,
        headline=headline,
        report_view=report_view,
        handoff=dict(handoff),
        glossary=glossary,
        side_by_side=side_by_side,
        board_by=board_by,
        dots=dots,
        build_on=build_on,
        own_votes=own_votes,
        tally=tally,
        phases=tuple(phases),
        rounds=rounds,
        then_and_now=then_and_now,
        judged_by_customer=judged_by_customer,
        receives=receives,
        translations=translations,
    )


def _rounds(data: dict, by_name: dict[str, Field], where: str) -> tuple[Round, ...]:
    """The `[[rounds]]` of an exercise: every field in exactly one round, in the order of the fields."""
    raw = _need(data, "rounds", list, where, default=[])
    if not raw:
        return ()
    if len(raw) < 2:
        raise ExerciseFileError(f"{where}: 'rounds' needs at least two rounds (leave it out for one form)")
    rounds, seen = [], []
    for i, rr in enumerate(raw):
        rw = f"{where}: rounds[{i}]"
        if not isinstance(rr, dict):
            raise ExerciseFileError(f"{rw}: must be a table")
        _no_unknown_keys(rr, ROUND_KEYS, rw)
        names = _need(rr, "fields", list, rw)
        if not names:
            raise ExerciseFileError(f"{rw}: 'fields' is empty")
        for n in names:
            if n not in by_name:
                raise ExerciseFileError(f"{rw}: names no field ('{n}')")
            if n in seen:
                raise ExerciseFileError(f"{rw}: field '{n}' is already in an earlier round")
            seen.append(n)
        view = _need(rr, "view", str, rw, default="")
        if view and not views.known(view):
            raise ExerciseFileError(f"{rw}: view '{view}' is not one of {', '.join(views.names())}")
        rounds.append(Round(title=_need(rr, "title", str, rw), fields=tuple(names),
                            say=_need(rr, "say", str, rw, default=""), view=view))
    if missing := [n for n in by_name if n not in seen]:
        raise ExerciseFileError(f"{where}: field '{missing[0]}' is in no round")
    if seen != list(by_name):
        raise ExerciseFileError(f"{where}: the rounds must take the fields in the order they are listed")
    return tuple(rounds)


def _translations(raw: dict, fields: list[Field], where: str, *, rounds: int = 0, phases: int = 0) -> dict[str, dict]:
    """Check the [translations.<code>] tables: known keys, texts only, fields and options that exist,
    one `[[translations.<code>.rounds]]` / `.phases` table per round / phase, in the same order."""
    by_name = {f.name: f for f in fields}
    checked: dict[str, dict] = {}
    for code, table in raw.items():
        tw = f"{where}: translations.{code}"
        if not LANGUAGE_CODE.match(code):
            raise ExerciseFileError(f"{tw}: '{code}' is not a language code such as 'de' or 'pt_BR'")
        if not isinstance(table, dict):
            raise ExerciseFileError(f"{tw}: must be a table")
        _no_unknown_keys(table, TRANSLATION_KEYS, tw)
        out: dict = {}
        for k in ("title", "question", "purpose"):
            if k in table:
                out[k] = _need(table, k, str, tw)
        if "notes" in table:
            notes = _need(table, "notes", dict, tw)
            _no_unknown_keys(notes, SUBTABLE_KEYS["notes"], f"{tw}.notes")
            out["notes"] = {k: _need(notes, k, str, f"{tw}.notes") for k in notes}
        out_fields: dict[str, dict] = {}
        for name, ft in _need(table, "fields", dict, tw, default={}).items():
            fw = f"{tw}.fields.{name}"
            if name not in by_name:
                raise ExerciseFileError(f"{fw}: this exercise has no field '{name}'")
            if not isinstance(ft, dict):
                raise ExerciseFileError(f"{fw}: must be a table")
            _no_unknown_keys(ft, FIELD_TRANSLATION_KEYS, fw)
            entry = {k: _need(ft, k, str, fw) for k in ft if k != "options"}
            if "options" in ft:
                labels = _need(ft, "options", list, fw)
                if len(labels) != len(by_name[name].options) or not all(isinstance(o, str) and o.strip() for o in labels):
                    raise ExerciseFileError(f"{fw}: 'options' must name each of the field's "
                                            f"{len(by_name[name].options)} options, in the same order")
                entry["options"] = tuple(labels)
            out_fields[name] = entry
        if out_fields:
            out["fields"] = out_fields
        for part, count, keys in (("rounds", rounds, ROUND_TRANSLATION_KEYS), ("phases", phases, PHASE_TRANSLATION_KEYS)):
            if part not in table:
                continue
            steps = _need(table, part, list, tw)
            if len(steps) != count:
                raise ExerciseFileError(f"{tw}: '{part}' must have one table for each of the exercise's {count} "
                                        f"{part}, in the same order")
            out[part] = []
            for i, step in enumerate(steps):
                sw = f"{tw}.{part}[{i}]"
                if not isinstance(step, dict):
                    raise ExerciseFileError(f"{sw}: must be a table")
                _no_unknown_keys(step, keys, sw)
                out[part].append({k: _need(step, k, str, sw) for k in step})
        checked[code] = out
    return checked


def in_language(exercise: Exercise, code: str | None) -> Exercise:
    """The exercise with its texts in language `code`, each text falling back to English on its own."""
    table = exercise.translations.get(code or "")
    if not code or exercise.language == code:
        return exercise
    if not table:  # texts in English, but the room's screens around them still speak its language
        return dataclasses.replace(exercise, language=code)
    notes = table.get("notes", {})
    fields = []
    for f in exercise.fields:
        ft = table.get("fields", {}).get(f.name, {})
        fields.append(dataclasses.replace(
            f, label=ft.get("label", f.label), help=ft.get("help", f.help),
            placeholder=ft.get("placeholder", f.placeholder), scale_low=ft.get("low", f.scale_low),
            # A translated label with no short form of its own heads its column itself: long, but in the room's language.
            short_label=ft.get("short_label", f.short_label or ft.get("label", "")),
            scale_high=ft.get("high", f.scale_high), option_labels=ft.get("options", f.option_labels)))
    rounds = tuple(dataclasses.replace(r, title=rt.get("title", r.title))
                   for r, rt in zip(exercise.rounds, table.get("rounds") or [{}] * len(exercise.rounds)))
    phases = tuple(dataclasses.replace(p, **{k: pt.get(k, getattr(p, k)) for k in PHASE_TRANSLATION_KEYS})
                   for p, pt in zip(exercise.phases, table.get("phases") or [{}] * len(exercise.phases)))
    return dataclasses.replace(
        exercise, title=table.get("title", exercise.title), question=table.get("question", exercise.question),
        purpose=table.get("purpose", exercise.purpose), say=notes.get("say", exercise.say),
        debrief=notes.get("debrief", exercise.debrief), fields=tuple(fields), rounds=rounds, phases=phases,
        language=code)


@lru_cache(maxsize=16)
def library_in(code: str | None) -> dict[str, Exercise]:
    """The app's exercise library with its texts in language `code` (English where a file has none)."""
    return {key: in_language(e, code) for key, e in library().items()}


def load_exercise_file(path: Path) -> Exercise:
    """Load and check one exercise file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ExerciseFileError(f"{path.name}: not valid TOML ({exc})") from exc
    return parse_exercise(data, path.name, path.stem)


def load_library(directory: Path = EXERCISES_DIR) -> dict[str, Exercise]:
    """Every exercise in a folder, in workshop order (by `order`, then title)."""
    found = [load_exercise_file(p) for p in sorted(directory.glob("*.toml"))]
    found.sort(key=lambda e: (e.order, e.title))
    by_key = {e.key: e for e in found}
    for e in found:
        if e.receives_from and not (e.receives_from in by_key and by_key[e.receives_from].handoff):
            raise ExerciseFileError(f"{e.key}.toml: receives.exercise '{e.receives_from}' is not an exercise "
                                    "of this library with a [handoff] table")
    return by_key


@lru_cache(maxsize=1)
def library() -> dict[str, Exercise]:
    """The app's exercise library, loaded once per process."""
    return load_library()
