"""Shared pieces of the reliability suite: measured figures, an open room, the pages in AppTest.

The fixtures of tests/conftest.py (store on SQLite and PostgreSQL, make_workshop, browser …)
apply here too; missing PostgreSQL or Chromium fails these tests on CI, as everywhere.

Every test that measures something calls `figures.add("what", "result")`; the figures are
printed at the end of the run under "reliability figures" (the numbers behind the README's
table of faults and bad inputs).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from facilitation import store as store_module
from facilitation import workshops as W

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"
EXERCISE = "over_the_wall"

_figures: list[tuple[str, str]] = []


class Figures:
    def add(self, what: str, result: str) -> None:
        _figures.append((what, result))


@pytest.fixture
def figures() -> Figures:
    return Figures()


def pytest_terminal_summary(terminalreporter):
    if _figures:
        terminalreporter.section("reliability figures")
        for what, result in _figures:
            terminalreporter.write_line(f"{what}: {result}")


def open_room(store, *, title="Reliability day", functions=None, stages=None, agenda_plan=None):
    """A workshop with its first exercise open; returns (workshop, facilitator key)."""
    w, key = W.create_workshop(store, title=title, functions=functions, stages=stages,
                               agenda_plan=agenda_plan or [(EXERCISE, 15)])
    W.open_exercise(store, w.id, 0)
    return W.get_workshop(store, w.id), key


def valid_answers(workshop, **overrides) -> dict:
    """A valid Over the wall answer for this workshop's own functions and stages."""
    base = {"stage": workshop.stages[1], "promise": "Live in two weeks.", "experience": "Six weeks of waiting.",
            "next_function": workshop.functions[-1], "lost": "The go-live date.", "gap": 4}
    base.update(overrides)
    return base


# --- the pages, in Streamlit's AppTest ---------------------------------------------------------

@pytest.fixture
def page_store(tmp_path, monkeypatch):
    """The database the pages use in this test (a fresh SQLite file through DATABASE_URL).

    The process-wide store cache is swapped for an empty one and restored afterwards, so a
    test may put a store of its own (read-only, short busy timeout …) under the URL first.
    """
    url = f"sqlite:///{tmp_path}/pages.sqlite3"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setattr(store_module, "_stores", {})
    yield url
    for s in list(store_module._stores.values()):
        s.dispose()


def run_page(page: str, **query) -> AppTest:
    """Run a page through app.py's navigation with these query parameters (as tests/test_pages.py)."""
    at = AppTest.from_file(str(APP), default_timeout=30)
    key = query.pop("key", None)
    if key is not None:  # signed in earlier in this browser session (the sign-in form; a key is never in the URL)
        at.session_state["facilitator_code"] = str(query.get("code", "")).upper()
        at.session_state["facilitator_key"] = key
    at.query_params.update(query)
    at.run()
    if page != "pages/join.py":
        at.switch_page(page)
        at.query_params.update(query)
        at.run()
    return at


MARKUP_KINDS = ("markdown", "caption", "title", "header", "subheader", "error", "warning", "info", "success",
                "latex", "exception", "toast")


def texts(at: AppTest) -> list[str]:
    """The values of every st.text element (shown as preformatted plain text)."""
    return [t.value for t in at.text]


def all_page_text(at: AppTest) -> str:
    """Everything a visitor can read on the page (plain and markdown elements, labels, tables)."""
    parts = texts(at) + markup_texts(at)
    for element in at.get("arrow_data_frame"):
        parts.append(str(getattr(element, "value", "")))
    return "\n".join(parts)


def markup_texts(at: AppTest) -> list[str]:
    """The bodies of every element that Streamlit renders as markdown (or HTML / LaTeX)."""
    return [value for _kind, value in markup_elements(at)]


def markup_elements(at: AppTest) -> list[tuple[str, str]]:
    """(kind, text) of every element body or widget label that Streamlit renders as markdown."""
    found: list[tuple[str, str]] = []
    for kind in MARKUP_KINDS:
        for element in getattr(at, kind, []):
            for attr in ("value", "body", "label"):
                value = getattr(element, attr, None)
                if isinstance(value, str):
                    found.append((kind, value))
    for element in at.get("html"):
        found.append(("html", str(getattr(element, "proto", element))))
    for kind in ("expander", "tabs", "metric", "button", "text_area", "text_input", "selectbox", "radio",
                 "checkbox", "toggle"):
        for element in getattr(at, kind, []):
            label = getattr(element, "label", None)
            if isinstance(label, str):
                found.append((f"{kind} label", label))
    return found


def fill_story(at: AppTest, answers: dict) -> None:
    """Fill the Over the wall form of a participant page (selectboxes: stage, then next function)."""
    at.selectbox[0].select(answers["stage"])
    at.text_area[0].input(answers["promise"])
    at.text_area[1].input(answers["experience"])
    at.selectbox[1].select(answers["next_function"])
    at.text_area[2].input(answers["lost"])
    at.radio[0].set_value(answers["gap"])


def press_send(at: AppTest) -> AppTest:
    next(b for b in at.button if b.label == "Send").click()
    return at.run()


def form_values(at: AppTest) -> list[str]:
    return [ta.value for ta in at.text_area]
