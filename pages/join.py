"""Join page (the default): a participant types the code on the screen, a name and a function.

A browser that joined this workshop before is offered "Continue as …" (its participant cookie),
so opening the join link again never makes a second person. Wrong codes count per client
address on every path (the form, `/?code=`, `/projector?code=`), with a live countdown.
"""

import sqlalchemy as sa
import streamlit as st

from facilitation import access, demo, i18n, throttle, workshops
from pages.common import (browser_session_id, client_address, code_wait_seconds, cookies, countdown, plain,
                          query_code, remember_facilitator, store, use_css, wrong_code)

def N_(message: str) -> str:
    """Marks a message for the catalogue; it is translated where it is shown."""
    return message


NOT_JOINED_YET = N_("Not joined yet: the server is busy. Your name is still in the form; please press Join again in a moment.")
NO_SUCH_CODE = "No workshop has this code. Check the code on the screen and try again."

use_css("participant.css")  # the join page is a phone's first screen too
token = st.query_params.get("p", "")


def lookup(code: str) -> tuple[workshops.Workshop | None, str, int]:
    """(workshop, problem, wait): a throttled client's code is not even looked up; a wrong one counts."""
    if wait := code_wait_seconds():
        return None, "", wait
    found = workshops.find_workshop(store(), code)
    if found is None:
        return None, NO_SUCH_CODE, wrong_code()
    return found, "", 0


workshop, code_problem, wait = None, "", 0
if query_code():
    asked = access.normalise_join_code(query_code())
    if st.session_state.get("joined_code") == asked:
        workshop = workshops.find_workshop(store(), asked)  # this session found it already
    elif st.session_state.get("wrong_query_code") == asked:
        code_problem = NO_SUCH_CODE  # counted once, not on every rerun of this page
    else:
        workshop, code_problem, wait = lookup(query_code())
        if workshop is not None:
            st.session_state["joined_code"] = workshop.code
        elif code_problem:
            st.session_state["wrong_query_code"] = asked
if workshop and token and workshops.participant_by_token(store(), workshop.id, token):
    st.switch_page("pages/participate.py", query_params={"code": workshop.code, "p": token})


def returning_participant(workshop: workshops.Workshop) -> workshops.Participant | None:
    """Who this browser joined this workshop as before (its participant cookie), if they are still in it."""
    remembered = cookies().get(access.participant_cookie_name(workshop.code))
    return workshops.participant_by_token(store(), workshop.id, remembered) if remembered else None


def join_wait() -> int:
    """0 if this session and this address may join now, else the seconds to wait."""
    if wait := throttle.session_join_rate.take(browser_session_id()):
        return wait
    return throttle.join_rate.take(client_address())


left, middle, right = st.columns([1, 2, 1])
with middle:
    # Before a code names the workshop its language is not known yet: the join page starts in English.
    st.title(i18n.translator(workshop.language if workshop else None).gettext("Join a Story Relay workshop"))
    if workshop is None:
        st.write("Type the code shown on the screen at the front of the room.")
        with st.form("join_code"):
            typed = st.text_input("Workshop code", value=query_code(), max_chars=12, placeholder="e.g. K7M2QXR")
            pressed = st.form_submit_button("Continue", type="primary", width="stretch")
        if pressed:
            found, code_problem, wait = lookup(typed)
            if found is not None:
                st.session_state["joined_code"] = found.code
                st.query_params["code"] = found.code
                st.rerun()
        if code_problem:
            st.error(code_problem)
        if wait:
            countdown(wait, throttle.too_many_tries)

        def open_demo() -> None:
            if wait := throttle.create_rate.take(client_address()):
                countdown(wait, throttle.too_many_workshops)
                return
            with st.spinner("Filling the demo room with stories…"):
                made, made_key = demo.create_demo_workshop(store())
            remember_facilitator(made.code, made_key)
            st.switch_page("pages/console.py", query_params={"code": made.code})

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
        _ = i18n.translator(workshop.language).gettext
        # Typed by the facilitator: plain text, never markdown (a title can hold a link or an image).
        with st.container(key="join-title"):
            st.text(workshop.title)
        if workshop.organisation:
            with st.container(key="join-organisation"):
                st.text(workshop.organisation)
        before = returning_participant(workshop)
        if before is not None and not st.session_state.get("join_as_someone_else"):
            with st.container(border=True, key="continue-as"):
                st.caption(_("You joined this workshop from this browser before."))
                if st.button(_("Continue as {person}").format(person=plain(f'{before.display_name} · {before.function}')), type="primary",
                             width="stretch", icon=":material/person:", key="continue-as-button"):
                    st.switch_page("pages/participate.py", query_params={"code": workshop.code, "p": before.token})
            if st.button(_("Join as someone else"), type="tertiary", key="join-as-someone-else"):
                st.session_state["join_as_someone_else"] = True
                st.rerun()
            st.stop()
        with st.form("join_details"):
            name = st.text_input(_("Your name"), max_chars=60, placeholder=_("First name is fine"))
            function = st.selectbox(_("Your function"), workshop.functions, index=None,
                                    placeholder=_("Choose the team you work in"))
            joined = st.form_submit_button(_("Join"), type="primary", width="stretch")
        if joined:
            if wait := join_wait():
                countdown(wait, lambda left: throttle.too_many_joins(left, i18n.translator(workshop.language).ngettext))
            else:
                try:
                    participant = workshops.join_workshop(store(), workshop.code, name, function)
                except workshops.WorkshopInputError as exc:
                    throttle.session_join_rate.give_back(browser_session_id())  # a typo is not a join
                    throttle.join_rate.give_back(client_address())
                    for message in exc.problems.values():
                        st.error(message)
                except sa.exc.OperationalError:  # locked past the busy timeout, read-only, disk full
                    st.error(_(NOT_JOINED_YET))
                else:
                    st.switch_page("pages/participate.py",
                                   query_params={"code": workshop.code, "p": participant.token})
        if st.button(_("Use a different code"), type="tertiary"):
            del st.query_params["code"]
            st.session_state.pop("joined_code", None)
            st.rerun()
