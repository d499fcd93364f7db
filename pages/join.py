"""Join page (the default): a participant types the code on the screen, a name and a function."""

import uuid

import sqlalchemy as sa
import streamlit as st

from facilitation import demo, throttle, workshops
from pages.common import query_code, remember_facilitator, store, use_css

NOT_JOINED_YET = "Not joined yet: the server is busy. Your name is still in the form; please press Join again in a moment."


def session_id() -> str:
    """A random id of this browser session, for the wrong-code throttle (never shown, never in the URL)."""
    return st.session_state.setdefault("join_throttle_id", uuid.uuid4().hex)


use_css("participant.css")  # the join page is a phone's first screen too
token = st.query_params.get("p", "")
workshop = workshops.find_workshop(store(), query_code()) if query_code() else None
if workshop and token and workshops.participant_by_token(store(), workshop.id, token):
    st.switch_page("pages/participate.py", query_params={"code": workshop.code, "p": token})

left, middle, right = st.columns([1, 2, 1])
with middle:
    st.title("Join a Story Relay workshop")
    if workshop is None:
        st.write("Type the code shown on the screen at the front of the room.")
        with st.form("join_code"):
            typed = st.text_input("Workshop code", value=query_code(), max_chars=12, placeholder="e.g. K7M2QXR")
            if st.form_submit_button("Continue", type="primary", width="stretch"):
                wait = throttle.join_throttle.wait_seconds(session_id())
                found = None if wait else workshops.find_workshop(store(), typed)
                if wait:
                    st.error(throttle.too_many_tries(wait))
                elif found is None:
                    st.error("No workshop has this code. Check the code on the screen and try again.")
                    if wait := throttle.join_throttle.record_failure(session_id()):
                        st.error(throttle.too_many_tries(wait))
                else:
                    throttle.join_throttle.record_success(session_id())
                    st.query_params["code"] = found.code
                    st.rerun()
        def open_demo() -> None:
            with st.spinner("Filling the demo room with stories…"):
                made, made_key = demo.create_demo_workshop(store())
            remember_facilitator(made.code, made_key)
            st.switch_page("pages/console.py", query_params={"code": made.code, "key": made_key})

        if demo.database_is_empty(store()):
            with st.container(border=True, key="demo-offer"):
                st.write("**New to Story Relay?** Open a demo workshop already filled with a room's stories: "
                         "the console, the projector, the journey map and a full Word report, in one minute.")
                if st.button("Open the demo workshop", icon=":material/auto_awesome:", width="stretch"):
                    open_demo()
        st.divider()
        st.caption("Running a session?")
        st.page_link("pages/new.py", label="Create a workshop", icon=":material/add_circle:")
        st.page_link("pages/console.py", label="Open my facilitator console", icon=":material/tune:")
        if not demo.database_is_empty(store()) and st.button(
                "Try the demo workshop", type="tertiary", icon=":material/auto_awesome:", key="demo-link",
                help="A new workshop filled with one customer's story across all six exercises; yours are not touched."):
            open_demo()
    else:
        st.subheader(workshop.title)
        if workshop.organisation:
            st.caption(workshop.organisation)
        with st.form("join_details"):
            name = st.text_input("Your name", max_chars=60, placeholder="First name is fine")
            function = st.selectbox("Your function", workshop.functions, index=None,
                                    placeholder="Choose the team you work in")
            joined = st.form_submit_button("Join", type="primary", width="stretch")
        if joined:
            try:
                participant = workshops.join_workshop(store(), workshop.code, name, function)
            except workshops.WorkshopInputError as exc:
                for message in exc.problems.values():
                    st.error(message)
            except sa.exc.OperationalError:  # locked past the busy timeout, read-only, disk full
                st.error(NOT_JOINED_YET)
            else:
                st.switch_page("pages/participate.py", query_params={"code": workshop.code, "p": participant.token})
        if st.button("Use a different code", type="tertiary"):
            del st.query_params["code"]
            st.rerun()
