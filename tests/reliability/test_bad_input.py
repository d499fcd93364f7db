"""Bad input: refused with a message a person understands, or stored exactly as typed and shown
as plain text everywhere (participant page, console, projector, journey map, report).

Property tests (hypothesis) plus named cases. Storage is checked on SQLite and PostgreSQL.

The rule for NUL (U+0000) and other control characters, found here:
* story answers live in a `json` column (sa.JSON): SQLite and PostgreSQL's `json` type keep
  the escaped text verbatim, so a story may hold U+0000 and comes back identical. PostgreSQL's
  `jsonb` would refuse it ("unsupported Unicode escape sequence") and its `->>` operator cannot
  extract it either; `test_answers_column_is_json_not_jsonb` guards the column type.
* one-line names (title, person, function, stage) live in text columns, which on PostgreSQL
  cannot hold NUL at all; the input rules refuse any control character there.
* half of a surrogate pair (U+D800–U+DFFF) is refused everywhere: no browser sends one, UTF-8
  cannot encode it, and neither Streamlit (protobuf) nor Plotly (orjson) could send it to a screen.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import time
import unicodedata

import docx
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from facilitation import commitments, input_rules, journey_map, report
from facilitation import workshops as W
from facilitation.exercises import library
from facilitation.store import stories
from streamlit_browser import screen_for

from .conftest import (
    APP,
    EXERCISE,
    fill_story,
    markup_elements,
    open_room,
    press_send,
    run_page,
    texts,
    valid_answers,
)

LIMIT = library()[EXERCISE].fields[1].max_chars  # "promise", a long_text field

# --- refused: blank, invisible, too long ---------------------------------------------------------

BLANK = {
    "empty": "",
    "spaces": "   ",
    "tabs_and_newlines": "\t\r\n \n",
    "no_break_and_ideographic_space": "\u00a0\u3000\u2003",
    "zero_width_space": "\u200b",
    "zero_width_joiner_and_friends": "\u200b\u200c\u200d\u2060\ufeff",
    "bidi_marks_only": "\u200e\u200f\u202a\u202c",
    "soft_hyphen": "\u00ad",
}
INVISIBLE = "".join(ch for ch in map(chr, range(0x10000)) if ch.isspace() or unicodedata.category(ch) == "Cf")


def test_blank_or_invisible_story_is_refused_with_a_message(store):
    w, _ = open_room(store)
    p = W.join_workshop(store, w.code, "Ana", w.functions[0])
    for name, text in BLANK.items():
        result = W.submit_story(store, p, EXERCISE, valid_answers(w, promise=text), f"blank-{name}")
        assert not result.ok, name
        assert result.problems == {"promise": "This answer is empty. Please write something." if not text else
                                   "This answer has only blank or invisible characters. Please write something."}, name
    assert W.list_stories(store, w.id) == []


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=INVISIBLE, max_size=50))
def test_any_invisible_only_text_is_refused(text):
    problem = input_rules.text_problem(text, max_chars=LIMIT)
    assert problem is not None and problem.endswith("Please write something.")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=INVISIBLE, max_size=20), st.characters(exclude_categories=("Cs", "Zs", "Zl", "Zp", "Cc", "Cf")),
       st.text(alphabet=INVISIBLE, max_size=20))
def test_one_visible_character_is_enough(before, visible, after):
    assert input_rules.text_problem(before + visible + after, max_chars=None) is None


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=LIMIT + 1, max_value=LIMIT * 20), st.sampled_from(["x", "é", "顧", "👍", "a\r\n"]))
def test_over_the_limit_is_refused_and_the_limit_is_stated(n, unit):
    text = (unit * n)[: max(n, LIMIT + 1)]
    problem = input_rules.text_problem(text, max_chars=LIMIT)
    assert problem == (f"This answer is {len(text):,} characters; the limit is {LIMIT:,}. "
                       f"Please shorten it by {len(text) - LIMIT:,}.")


def test_server_enforces_the_limit_even_when_the_browser_is_bypassed(store):
    """The browser's max_chars is a hint: a request with a longer answer gets a message, one at the limit is stored."""
    w, _ = open_room(store)
    p = W.join_workshop(store, w.code, "Ana", w.functions[0])
    too_long = W.submit_story(store, p, EXERCISE, valid_answers(w, promise="y" * (LIMIT + 1)), "long-1")
    assert too_long.problems == {"promise": f"This answer is {LIMIT + 1:,} characters; the limit is {LIMIT:,}. "
                                            "Please shorten it by 1."}
    assert W.submit_story(store, p, EXERCISE, valid_answers(w, promise="y" * LIMIT), "long-2").ok
    assert len(W.list_stories(store, w.id)) == 1


def test_participant_page_never_stores_more_than_the_limit(page_store, figures):
    """A request that bypasses the browser's max_chars: Streamlit itself cuts the widget's value to
    max_chars on the server (TextAreaSerde), so the page stores the first LIMIT characters; the
    domain's stated limit is the second line of defence for anything that is not a Streamlit widget."""
    from facilitation import store as store_module

    s = store_module.get_store(page_store)
    w, _ = open_room(s)
    p = W.join_workshop(s, w.code, "Ana", w.functions[0])
    at = run_page("pages/participate.py", code=w.code, p=p.token)
    fill_story(at, valid_answers(w))
    long_text = "".join(f"{i:04d} " for i in range(LIMIT))[: LIMIT + 250]
    at.text_area[0].set_value(long_text)  # AppTest's input() would refuse it, as the browser does
    press_send(at)
    assert not at.exception
    stored = W.list_stories(s, w.id)
    if stored:
        assert stored[0].answers["promise"] == long_text[:LIMIT]
        outcome = f"Streamlit cuts the widget value to max_chars on the server: first {LIMIT:,} characters stored"
    else:
        assert f"the limit is {LIMIT:,}" in "\n".join(e.value for e in at.error)
        assert at.text_area[0].value == long_text
        outcome = "refused with the limit stated, text kept in the form"
    figures.add(f"Answer of {LIMIT + 250:,} characters past the browser's max_chars ({LIMIT:,}), participant page", outcome)


SURROGATES = ["\ud800", "half an emoji \ud83d!", "\udfff end", "a\udc00\ud800b"]


def test_lone_surrogate_is_refused_with_a_message(store):
    w, _ = open_room(store)
    p = W.join_workshop(store, w.code, "Ana", w.functions[0])
    for i, text in enumerate(SURROGATES):
        result = W.submit_story(store, p, EXERCISE, valid_answers(w, lost=text), f"surrogate-{i}")
        assert result.problems == {"lost": "This answer contains a broken character (half of an emoji or symbol). "
                                           "Please retype it."}
        with pytest.raises(W.WorkshopInputError) as info:
            W.join_workshop(store, w.code, f"Ana {text}", w.functions[0])
        assert "broken character" in info.value.problems["display_name"]
        with pytest.raises(W.WorkshopInputError) as info:
            W.create_workshop(store, title=f"Title {text}", functions=["Sales", f"Support {text}"],
                              agenda_plan=[(EXERCISE, 10)])
        assert set(info.value.problems) == {"title", "functions"}
        assert not any(input_rules.has_lone_surrogate(m) for m in info.value.problems.values())  # it can be shown
    assert W.list_stories(store, w.id) == [] and len(W.list_participants(store, w.id)) == 1


# --- stored raw: exactly as typed, on both databases ---------------------------------------------

RAW = {
    "crlf": "first line\r\nsecond line\rthird\n",
    "control_characters": "nul\x00 bell\x07 esc\x1b[31mred\x1b[0m del\x7f c1\x85\x9b vt\x0b ff\x0c",
    "rtl_override": "invoice\u202egnp.exe \u2067isolate\u2069 \u200fמחיר 100 ₪ العربية",
    "zwj_emoji": "👩‍👩‍👧‍👦 🏳️‍🌈 👍🏽 🧑🏿‍💻 🇳🇱",
    "east_asian": "顧客は二週間で稼働すると言われた。고객은 6주를 기다렸다. 客户等了六周。ｶﾀｶﾅ 全角ＡＢＣ",
    "combining": "Cafe\u0301 Z\u0351\u0364\u0300a\u0353lgo\u0300 ﬁ Å",
    "astral": "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𓀀 \U0010fffd",
}


def _same(got: str, want: str) -> bool:
    return got.encode("utf-8", "surrogatepass") == want.encode("utf-8", "surrogatepass")


def test_unusual_text_is_stored_raw(store):
    w, _ = open_room(store)
    p = W.join_workshop(store, w.code, "Ana", w.functions[0])
    for name, text in RAW.items():
        result = W.submit_story(store, p, EXERCISE, valid_answers(w, promise=text, experience=text, lost=text), name)
        assert result.ok, (name, result.problems)
    fresh = type(store)(store.url)  # a new engine: straight from the database
    try:
        stored = W.list_stories(fresh, w.id)
    finally:
        fresh.dispose()
    assert len(stored) == len(RAW)
    for story, (name, text) in zip(stored, RAW.items()):
        assert all(_same(story.answers[k], text) for k in ("promise", "experience", "lost")), name


def test_answers_column_is_json_not_jsonb(pg_store):
    """PostgreSQL json keeps U+0000 (escaped) verbatim; jsonb would refuse it. Keep answers in json."""
    with pg_store.read() as conn:
        kind = conn.execute(sa.text("SELECT data_type FROM information_schema.columns "
                                    "WHERE table_schema = current_schema() AND table_name = 'stories' "
                                    "AND column_name = 'answers'")).scalar_one()
        assert kind == "json"
        assert conn.execute(sa.text(r"""SELECT '"a\u0000b"'::json::text""")).scalar_one() == r'"a\u0000b"'
    with pytest.raises(sa.exc.DataError, match="unsupported Unicode escape sequence"):
        with pg_store.read() as conn:
            conn.execute(sa.text(r"""SELECT '"a\u0000b"'::jsonb"""))


ANY_CHARACTER = st.characters(codec=None, exclude_categories=())  # every code point, surrogates included


@pytest.fixture
def room(store):
    """An open room and one person in it, shared by all examples of a property test."""
    w, _ = open_room(store)
    return w, W.join_workshop(store, w.code, "Ana", w.functions[0])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=ANY_CHARACTER, min_size=1, max_size=300))
def test_any_text_is_stored_identical_or_refused_with_a_message(store, room, text):
    """Property: whatever arrives is either stored byte-identical or refused with a message; never an exception."""
    w, p = room
    key = f"h-{time.monotonic_ns()}"
    result = W.submit_story(store, p, EXERCISE, valid_answers(w, experience=text), key)
    if input_rules.visible_text(text) and not input_rules.has_lone_surrogate(text) and len(text) <= LIMIT:
        assert result.ok, result.problems
        with store.read() as conn:
            stored = conn.execute(sa.select(stories.c.answers).where(stories.c.idempotency_key == key)).scalar_one()
        assert _same(stored["experience"], text)
    else:
        assert not result.ok and set(result.problems) == {"experience"}
        assert result.problems["experience"].endswith(("Please write something.", "Please retype it."))


# --- displayed literally ------------------------------------------------------------------------------

MARKUP = {
    "markdown": "**bold** _italic_ # not a heading",
    "html": "<b>bold</b><script>alert(1)</script><img src=x onerror=alert(1)>",
    "javascript_link": "[click me](javascript:alert(1))",
    "image": "![x](https://example.org/y.png)",
    "latex": "$x^2$ and $$\\int_0^1$$",
    "streamlit_colour": ":red[alarm] :material/warning: :blue-background[x]",
    "plotly_html": '<a href="javascript:alert(1)">link</a> <b>bold</b><br><i>i</i>',
}
STORY_TEXT = "\n".join(MARKUP.values())
NAMES = ["**Ana**", "<b>Ben</b>", ":red[Cy]", "$Di$", "[Ed](javascript:x)", "![Fi](y)"]


def _literal_room(store, *, functions=None, stages=None):
    """An open Over the wall where six people with markup names each sent a story made of every payload."""
    w, key = open_room(store, title="**Workshop** <b>title</b> :red[x] $y$", functions=functions, stages=stages)
    people = [W.join_workshop(store, w.code, name, w.functions[i % len(w.functions)]) for i, name in enumerate(NAMES)]
    for i, person in enumerate(people):
        answers = valid_answers(w, promise=STORY_TEXT, experience=f"{STORY_TEXT}\n#{i}", lost=STORY_TEXT,
                                next_function=w.functions[(i + 1) % len(w.functions)], stage=w.stages[i % len(w.stages)])
        assert W.submit_story(store, person, EXERCISE, answers, f"markup-{i}").ok
    return w, key, people


def _literal_problems(at, must_show: list[str], never_markup: list[str], *, cut_ok: bool = False) -> list[str]:
    """cut_ok: the screen may cut a long answer at a word (the projector's number cards), so a payload
    further into the answer may be cut off: then the answer's start (the first payload) must be there, literally."""
    if at.exception:
        return [f"exception: {at.exception}"]
    plain = "\n".join(texts(at))
    start = next(iter(MARKUP.values()))[:30]
    problems = [f"{payload!r} is not shown as plain text" for payload in must_show
                if payload not in plain and not (cut_ok and start in plain)]
    for kind, value in markup_elements(at):
        for payload in never_markup:
            if payload in value:
                problems.append(f"{payload!r} rendered as markdown in a {kind}: {value[:120]!r}")
    return problems


def _assert_literal(at, must_show: list[str], never_markup: list[str]) -> None:
    problems = _literal_problems(at, must_show, never_markup)
    assert not problems, "\n".join(problems)


def _payload_answers(exercise, workshop, partner: str, n: int) -> dict:
    """Valid answers to any exercise with the markup payloads in every text field (as many as fit)."""
    out = {}
    for f in exercise.fields:
        if f.is_text:
            room = (f.max_chars or 10_000) - 6
            text = ""
            for payload in MARKUP.values():
                joined = f"{text}\n{payload}" if text else payload
                if len(joined) <= room:
                    text = joined
            out[f.name] = f"{text} #{n}"
        elif f.kind == "function":  # the next person's function: not one's own (a commitment connects to another)
            out[f.name] = workshop.functions[(n + 1) % len(NAMES)]
        elif f.kind == "stage":
            out[f.name] = workshop.stages[n % len(workshop.stages)]
        elif f.kind == "choice":
            out[f.name] = f.options[0]
        elif f.kind == "partner":
            out[f.name] = partner
        elif f.kind == "scale":
            out[f.name] = f.scale_min
        elif f.kind == "date":
            out[f.name] = dt.date.today().isoformat()
        elif f.kind == "handoff":  # the one made to person n's function: person n - 1's, at their stage
            out[f.name] = (f"{workshop.functions[(n - 1) % len(NAMES)]} @ "
                           f"{workshop.stages[(n - 1) % len(NAMES) % len(workshop.stages)]}")
    return out


def test_participant_text_is_plain_text_in_every_exercise_view(page_store):
    """Every exercise in turn, with dot voting open and a story in the spotlight where the tree has them:
    participant page, console and projector show the payloads as plain text and never as markdown."""
    from facilitation import store as store_module

    s = store_module.get_store(page_store)
    lib = library()
    w, key = W.create_workshop(s, title="**Workshop** <b>title</b> :red[x] $y$",
                               agenda_plan=[(k, 10) for k in lib])
    people = [W.join_workshop(s, w.code, name, w.functions[i % len(w.functions)]) for i, name in enumerate(NAMES)]
    pages = {"participant": run_page("pages/participate.py", code=w.code, p=people[-1].token),
             "console": run_page("pages/console.py", code=w.code, key=key),
             "projector": run_page("pages/projector.py", code=w.code, screen=screen_for(w.code))}
    try:
        from facilitation import controls
    except ImportError:  # pragma: no cover - an older tree
        controls = None
    never = list(MARKUP.values()) + NAMES + [w.title]
    problems: set[str] = set()

    def look(state: str, shown: list[str]) -> None:
        for name, at in pages.items():
            at.run()
            for problem in _literal_problems(at, shown if name != "participant" else [], never,
                                             cut_ok=name == "projector"):
                problems.add(f"{name} page, {state}: {problem}")

    for position, (exercise_key, exercise) in enumerate(lib.items()):
        W.open_exercise(s, w.id, position)
        for n, person in enumerate(people):
            answers = _payload_answers(exercise, w, people[(n + 1) % len(people)].display_name, n)
            for f in exercise.fields:  # a commitment serves one of the room's stories or handoffs
                if f.kind == "story_or_handoff":
                    answers[f.name] = commitments.serve_options(W.snapshot(s, w.id))[0]
            result = W.submit_story(s, person, exercise_key, answers, f"{exercise_key}-{n}")
            assert result.ok, (exercise_key, result.problems)
        look(f"{exercise_key} open", [MARKUP["html"]])  # the first payload fits every text field
        if controls is not None and hasattr(controls, "set_voting"):
            controls.set_voting(s, w.id, position, "open", dots=3)
            if hasattr(controls, "set_spotlight"):
                controls.set_spotlight(s, w.id, W.list_stories(s, w.id, exercise_key)[0].id)
            look(f"{exercise_key} voting, spotlight", [])
            controls.set_voting(s, w.id, position, "closed")
            if hasattr(controls, "set_spotlight"):
                controls.set_spotlight(s, w.id, None)
            look(f"{exercise_key} voting closed", [])
    if "pages/journey_map.py" in APP.read_text(encoding="utf-8"):  # the facilitator's map page, all stories
        at = run_page("pages/journey_map.py", code=w.code, key=key)
        for problem in _literal_problems(at, [], never):
            problems.add(f"journey map page: {problem}")
    assert not problems, "\n".join(sorted(problems))


def test_facilitator_typed_names_are_plain_text_on_every_screen(page_store):
    from facilitation import store as store_module

    s = store_module.get_store(page_store)
    functions = ["**Sales**", "<i>Support</i>", "Finance $x$", ":red[Ops]"]
    stages = ["<b>Sale</b>", "[Onboarding](javascript:x)", "Renewal $$"]
    w, key, people = _literal_room(s, functions=functions, stages=stages)
    everything = functions + stages + [w.title]
    for page, query in {"pages/participate.py": {"code": w.code, "p": people[0].token},
                        "pages/console.py": {"code": w.code, "key": key},
                        "pages/projector.py": {"code": w.code, "screen": screen_for(w.code)}}.items():
        _assert_literal(run_page(page, **query), [], everything)


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_journey_map_escapes_every_label_and_hover(sqlite_store, theme):
    functions = ["<b>Sales</b>", '<a href="javascript:alert(1)">Support</a>', "Finance $x$", "Ops<script>x</script>"]
    stages = ["<i>Sale</i>", "Onboarding<br>", "Renewal $$", "![s](y)"]
    w, _, _ = _literal_room(sqlite_store, functions=functions, stages=stages)
    snap = W.snapshot(sqlite_store, w.id)
    fig = journey_map.journey_figure(journey_map.build_journey(snap), theme=theme, max_arrows=None)
    spec = fig.to_dict()
    fig.to_json()  # nothing a participant typed stops the figure from being sent to a browser
    strings = list(_strings(spec))
    joined = "\n".join(strings)
    for tag in ("<a ", "<a>", "<script", "<img", "<i>"):
        assert tag not in joined, f"unescaped {tag!r} in the figure"
    for s in strings:
        assert "$" not in s, f"a '$' would be typeset as LaTeX: {s[:120]!r}"
        for bad in ("<b>Sales", "<b>bold", "<br><i>", "Onboarding<br>"):
            assert bad not in s, f"unescaped participant markup {bad!r} in {s[:160]!r}"
    # the text is there, escaped, not dropped
    assert "&lt;b&gt;Sales&lt;/b&gt;" in joined and "&lt;script&gt;" in joined


def test_report_holds_the_text_literally(sqlite_store):
    w, _, _ = _literal_room(sqlite_store)
    p = W.join_workshop(sqlite_store, w.code, "Raw", w.functions[0])
    for i, text in enumerate(RAW.values()):
        assert W.submit_story(sqlite_store, p, EXERCISE, valid_answers(w, experience=text), f"raw-{i}").ok
    data = report.build_report(W.snapshot(sqlite_store, w.id), include_map_image=False)
    doc = docx.Document(io.BytesIO(data))
    body = "\n".join([par.text for par in doc.paragraphs] +
                     [c.text for t in doc.tables for row in t.rows for c in row.cells])
    for payload in itertools.chain(MARKUP.values(), NAMES):
        assert payload in body, payload
    for text in RAW.values():  # what Word can hold: control characters dropped, line ends as line breaks
        for line in report.docx_safe(text).split("\n"):
            assert line.strip() in body, line
