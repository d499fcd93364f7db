"""Nothing the room reads is left in English: a pseudo-language proves it.

A test-only catalogue translates every message of the template to ⟦message⟧. A full workshop in that
language is then rendered as the room sees it — every exercise open on a phone and on the projector,
the vote, the map, My commitments, the check-in — and the Word report. Whatever text is left once the
⟦…⟧ parts and what people typed (stories, names, the facilitator's function and stage names, the
exercises' own English texts, which fall back field by field) are taken out was never marked for
translation: a German, French or Spanish room would read it in English.

The console, the new-workshop page and the other facilitator pages are English by design and not checked.
"""

from __future__ import annotations

import html
import io
import json
import re
import tomllib
from pathlib import Path

import pytest
from babel.messages import pofile
from docx import Document
from streamlit.testing.v1 import AppTest

from facilitation import after_report, controls, follow_up, i18n, report
from facilitation import workshops as W
from facilitation.store import get_store
from full_workshop import make_full_workshop
from streamlit_browser import screen_for

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"
# A language babel knows whose dates and numbers carry no Latin letters: only untranslated text has them.
PSEUDO = "ja"
MARKED = re.compile(r"⟦[^⟦⟧]*⟧")
TAG = re.compile(r"<[^>]*>")
ADDRESS = re.compile(r"\S*(https?://|/\?code=|\d+\.\d+\.\d+\.\d+)\S*")
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")  # a message's {placeholder} handed to a component, filled in by the browser
SEPARATORS = re.compile(r"[^\n•·:]+")  # the pieces of a line between bullets, separators and labels
ICON = re.compile(r":material/[a-z_]+:")
# The product's name, the time zone's and the file format's are the same in every language.
SAME_IN_EVERY_LANGUAGE = ["Story Relay", "UTC", "CSV"]
WORD = re.compile(r"[A-Za-z][A-Za-z'’]{2,}")
# Proto fields that hold text a person reads (labels, bodies, hints, choices).
TEXT_FIELDS = {"body", "label", "help", "placeholder", "options", "caption", "title", "alt"}
# Plotly keys that hold text a person reads (titles, labels, hover text, legend entries).
PLOTLY_TEXT = {"text", "name", "hovertemplate", "texttemplate", "ticktext", "hovertext", "label", "labels"}
# Component data that is not text: addresses, ids, field names, colours, how it looks.
COMPONENT_DATA = {"code", "p", "exercise", "form", "fields", "look", "color", "names_key", "url", "key", "screen",
                  "button", "session"}  # machine keys: a widget key, the page's session id


@pytest.fixture
def pseudo_room(tmp_path, monkeypatch):
    """A full, finished workshop in the pseudo-language, and the app's database holding it."""
    with (ROOT / "locale" / "story_relay.pot").open("rb") as f:
        template = pofile.read_po(f, locale=PSEUDO)
    template._num_plurals, template._plural_expr = 2, "(n != 1)"  # English's forms, each marked
    for message in template:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            message.string = tuple(f"⟦{form}⟧" for form in message.id)
        else:
            message.string = f"⟦{message.id}⟧"
    folder = tmp_path / "locale" / PSEUDO / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / "story_relay.po").open("wb") as f:
        pofile.write_po(f, template)
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path / "locale")
    url = f"sqlite:///{tmp_path}/app.sqlite3"
    monkeypatch.setenv("DATABASE_URL", url)
    db = get_store(url)
    workshop, key = make_full_workshop(db, language=PSEUDO)
    return db, workshop, key


def _typed(db, workshop) -> list[str]:
    """Everything people typed or the facilitator named: shown as typed, never translated."""
    snap = W.snapshot(db, workshop.id)
    typed = [workshop.title, workshop.organisation, workshop.facilitator, *workshop.functions, *workshop.stages]
    typed += [f"{p.display_name}{sep}{p.function}" for p in snap.participants for sep in (" · ", ", ", " (")]
    for p in snap.participants:
        typed += [p.display_name, p.function]
    for s in snap.stories:
        typed += [s.author_name, s.function, s.proxy_name or ""]
        typed += [str(v) for v in s.answers.values() if isinstance(v, str)]
    typed += [g.text for g in snap.guesses]
    return [t for t in typed if t]


def _exercise_texts() -> list[str]:
    """The exercises' English texts (the pseudo-language has no [translations] tables, so they fall back)."""
    found: list[str] = []

    def walk(value):
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for k, v in value.items():
                if k != "translations":
                    walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for path in sorted((ROOT / "exercises").glob("*.toml")):
        walk(tomllib.loads(path.read_text()))
    # An option's words before its colon are its short form on a crowded screen ("Tactical: we stopped…").
    return found + [text.split(":", 1)[0] for text in found if ":" in text]


def _strings_in(value, keys: set[str] | None) -> list[str]:
    """Strings in a JSON value: every one (keys None), or only those under one of `keys`."""
    if isinstance(value, str):
        return [value] if keys is None else []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    out: list[str] = []
    for k, v in items:
        if k == "name" and isinstance(value, dict) and "xref" in value:
            continue  # an annotation's name is an id for code, never drawn
        out += _strings_in(v, None if keys is None or k in keys else keys)
    return out


def _proto_text(message) -> list[str]:
    out: list[str] = []
    for field, value in message.ListFields():
        if field.name == "spec" and message.DESCRIPTOR.name == "PlotlyChart":
            out += _strings_in(json.loads(value), PLOTLY_TEXT)
        elif field.name == "json" and message.DESCRIPTOR.name == "BidiComponent":
            data = json.loads(value) if value else {}
            out += [s for k, v in (data.items() if isinstance(data, dict) else [])
                    if k not in COMPONENT_DATA for s in _strings_in(v, None)]
        elif field.message_type is not None:
            for item in (value if field.is_repeated else [value]):
                if hasattr(item, "ListFields"):
                    out += _proto_text(item)
        elif field.name in TEXT_FIELDS:
            out += list(value) if field.is_repeated else [value]
    return [s for s in out if isinstance(s, str)]


def _screen_text(at: AppTest) -> list[str]:
    """Every text a person reads or hears on the rendered page, tables included."""
    out: list[str] = []

    def walk(node):
        proto = getattr(node, "proto", None)
        if proto is not None and type(node).__name__ != "Html":  # st.html carries the page's CSS, no typed text
            out.extend(_proto_text(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    for frame in at.dataframe:
        table = frame.value
        out += [str(c) for c in table.columns]
        out += [str(v) for v in table.to_numpy().ravel() if isinstance(v, str)]
    return out


def _report_text(docx: bytes) -> list[str]:
    doc = Document(io.BytesIO(docx))
    out = [p.text for p in doc.paragraphs]
    out += [c.text for t in doc.tables for row in t.rows for c in row.cells]
    for section in doc.sections:
        out += [p.text for p in section.footer.paragraphs] + [p.text for p in section.header.paragraphs]
    props = doc.core_properties
    out += [props.title or "", props.subject or "", props.keywords or "", props.comments or ""]
    return out


def _typed_piece(piece: str, blob: str) -> bool:
    piece = piece.strip().rstrip("…").strip()
    return len(piece) >= 12 and piece in blob


def _english_left(texts: list[str], known: list[str]) -> set[str]:
    """Words outside ⟦…⟧ once what people typed and the exercises' own texts are taken out."""
    vocabulary = {w.lower() for t in known for w in WORD.findall(t)}
    typed = re.compile("|".join(rf"(?<!\w){re.escape(t)}(?!\w)" for t in sorted(set(known), key=len, reverse=True)
                                if len(t) >= 3 or t in SAME_IN_EVERY_LANGUAGE))
    # Whole sentences people typed, taken out before the text is cut into pieces at separators.
    answers = re.compile("|".join(re.escape(t) for t in sorted(set(known), key=len, reverse=True)
                                  if len(t) >= 20 and " " in t))
    blob = "\x00".join(known)
    left: set[str] = set()
    for text in texts:
        text = TAG.sub(" ", html.unescape(text))  # plotly's hover text is HTML
        text = ICON.sub(" ", PLACEHOLDER.sub(" ", ADDRESS.sub(" ", text)))
        text = answers.sub(" ", text)  # whole answers first: one may hold a separator ("…a written handover: what…")
        # Typed text shortened to fit a card or a line ("Six weeks of waiting for…"): a piece of what was typed.
        text = SEPARATORS.sub(lambda m: " " if _typed_piece(m.group(), blob) else m.group(), text)
        text = typed.sub(" ", text)
        while MARKED.search(text):
            text = MARKED.sub(" ", text)
        for match in WORD.finditer(text):
            word = match.group().lower()
            cut = text[match.end():match.end() + 1] == "…"  # typed text shortened to fit: "were" → "wer…"
            if not (cut and any(w.startswith(word) for w in vocabulary)):
                left.add(f"{match.group()}  ←  {text.strip()[:80]!r}")
    return left


def _page(page: str, **query) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params.update(query)
    at.run()
    at.switch_page(page)
    at.query_params.update(query)
    at.run()
    assert not at.exception, (page, [e.value for e in at.exception])
    return at


def test_every_room_screen_is_wholly_in_the_room_language(pseudo_room):
    db, workshop, _key = pseudo_room
    known = _typed(db, workshop) + _exercise_texts() + [workshop.code, *SAME_IN_EVERY_LANGUAGE]
    people = W.list_participants(db, workshop.id)
    committed = {c.story.participant_id for c in follow_up.commitments(db, workshop.id)}
    # The workshop's day is over: a person with a commitment opens on "My commitments", the others on the exercise.
    phones = [p for p in people if p.id not in committed][:3]
    with_commitment = next(p for p in people if p.id in committed)
    seen: dict[str, list[str]] = {}
    screen = screen_for(workshop.code)
    for item in W.agenda(db, workshop.id):
        W.open_exercise(db, workshop.id, item.position)
        for person in phones:  # tellers, listeners, people from other functions
            seen[f"phone {item.exercise_key} {person.display_name}"] = _screen_text(
                _page("pages/participate.py", code=workshop.code, p=person.token))
        seen[f"projector {item.exercise_key}"] = _screen_text(_page("pages/projector.py", code=workshop.code, screen=screen))
        if item.exercise_key == "untold_retention_stories":
            controls.set_voting(db, workshop.id, item.position, "open")
            seen["phone vote"] = _screen_text(_page("pages/participate.py", code=workshop.code, p=phones[0].token))
            seen["projector vote"] = _screen_text(_page("pages/projector.py", code=workshop.code, screen=screen))
            controls.set_voting(db, workshop.id, item.position, "closed")
        W.close_exercise(db, workshop.id)
    seen["projector map"] = _screen_text(_page("pages/projector.py", code=workshop.code, screen=screen, view="map"))
    seen["join"] = _screen_text(_page("pages/join.py", code=workshop.code))
    seen["my commitments"] = _screen_text(_page("pages/participate.py", code=workshop.code, p=with_commitment.token))
    seen["projector check-in"] = _screen_text(_page("pages/projector.py", code=workshop.code, screen=screen,
                                                    view="check_in"))
    assert any("⟦" in t for t in seen["projector map"])
    left = {where: sorted(_english_left(texts, known)) for where, texts in seen.items()}
    left = {where: words for where, words in left.items() if words}
    assert not left, "\n".join(f"{where}:\n  " + "\n  ".join(words) for where, words in left.items())


@pytest.mark.parametrize("show_names", [True, False], ids=["names on", "names off"])
def test_the_word_report_is_wholly_in_the_room_language(pseudo_room, show_names):
    db, workshop, _key = pseudo_room
    if not show_names:  # names off: partners, pairs and tellers are said by function ("a colleague from …")
        workshop, _key = make_full_workshop(db, language=PSEUDO, show_names=False)
    # Dates in the report come from babel: the pseudo-language's ("2026年12月3日") carry no Latin letters.
    known = _typed(db, workshop) + _exercise_texts() + [workshop.code, *SAME_IN_EVERY_LANGUAGE]
    snapshot = W.snapshot(db, workshop.id)
    # A month on: a commitment marked partly done, with what happened.
    people = {p.id: p for p in W.list_participants(db, workshop.id)}
    first = follow_up.commitments(db, workshop.id)[0]
    assert follow_up.set_status(db, people[first.story.participant_id], first.story.id, "partly",
                                "Halfway: the checklist exists").ok
    known.append("Halfway: the checklist exists")
    docx = report.build_report(snapshot, include_map_image=False, after_the_room=after_report.gather(db, workshop))
    texts = _report_text(docx)
    # The map as a table: one lane per function, the folded "Other functions" once, in the room's language.
    [grid] = [t for t in Document(io.BytesIO(docx)).tables
              if t.rows[0].cells[0].text == "⟦Function⟧" and len(t.columns) == len(workshop.stages) + 1]
    lanes = [row.cells[0].text for row in grid.rows[1:]]
    assert len(lanes) == len(set(lanes)), lanes
    assert any("⟦" in t for t in texts)
    left = sorted(_english_left(texts, known))
    assert not left, f"{len(left)} pieces of English in the report:\n  " + "\n  ".join(left)
