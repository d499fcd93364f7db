"""Streamlit glue shared by the pages: the store, who this browser is, and safe display of text."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from facilitation import workshops
from facilitation.store import Store, get_store
from facilitation.workshops import Workshop

ASSETS = Path(__file__).resolve().parent.parent / "assets"
# Live screens are woken by push (pages/live.py); this is only their safety-net poll.
LIVE_POLL_SECONDS = 30


def _use_app_navigation() -> None:
    """Make every visit go through app.py's st.navigation, also the first one after a restart.

    Streamlit treats a top-level `pages/` folder as legacy multipage mode until the process first
    calls st.navigation; until then a visit to /console would run this file directly, without
    app.py (no page config, every module listed as a page). Leave that mode and run again.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


_use_app_navigation()


def format_clock(seconds: float) -> str:
    """A countdown as m:ss."""
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def store() -> Store:
    return get_store()


def use_css(name: str) -> None:
    """Inject one of our own stylesheets from assets/ (never user text)."""
    st.html(f"<style>{(ASSETS / name).read_text(encoding='utf-8')}</style>")


def query_code() -> str:
    return st.query_params.get("code", "")


def remember_facilitator(code: str, key: str) -> None:
    """This browser session now facilitates the workshop with this code (the key is checked on every run)."""
    st.session_state["facilitator_code"] = code
    st.session_state["facilitator_key"] = key


def forget_facilitator() -> None:
    for name in ("facilitator_code", "facilitator_key"):
        st.session_state.pop(name, None)


def facilitator_workshop() -> Workshop | None:
    """The workshop this browser facilitates: key from the URL or from this session, checked each run."""
    code = st.query_params.get("code") or st.session_state.get("facilitator_code", "")
    key = st.query_params.get("key") or st.session_state.get("facilitator_key", "")
    if not code or not key:
        return None
    workshop = workshops.facilitator_workshop(store(), code, key)
    if workshop is not None:
        signed_in_before = st.session_state.get("facilitator_code") == workshop.code
        remember_facilitator(workshop.code, key)
        if not signed_in_before:
            st.rerun()  # app.py builds the facilitator's menu from session state: draw it from this run on
    return workshop


def require_facilitator() -> Workshop:
    """Stop the page with a sign-in form unless this browser holds the workshop's facilitator key."""
    workshop = facilitator_workshop()
    if workshop is not None:
        return workshop
    st.title("Facilitator sign-in")
    st.write("This page belongs to the workshop's facilitator. Enter the join code and the facilitator key "
             "you were given when the workshop was created.")
    with st.form("facilitator_sign_in"):
        code = st.text_input("Join code", value=query_code(), max_chars=12)
        key = st.text_input("Facilitator key", type="password", max_chars=64)
        if st.form_submit_button("Sign in", type="primary"):
            found = workshops.facilitator_workshop(store(), code, key)
            if found is None:
                st.error("That code and key do not match a workshop. Check both and try again.")
            else:
                remember_facilitator(found.code, key)
                st.query_params["code"] = found.code
                st.query_params["key"] = key
                st.rerun()
    st.page_link("pages/new.py", label="Create a new workshop instead", icon=":material/add_circle:")
    st.stop()


def facilitator_params(workshop: Workshop) -> dict[str, str]:
    return {"code": workshop.code, "key": st.session_state.get("facilitator_key", "")}
