"""Facilitator console: the agenda, now and next, the clock, who is here, and every story as it
arrives, with the controls a live room needs. Nothing here is ever shown on the projector."""

import time
import uuid

import pandas as pd
import streamlit as st

from facilitation import controls, live_cache, room, workshops
from pages.common import LIVE_POLL_SECONDS, facilitator_params, format_clock, require_facilitator, store
from pages.exercise_widgets import field_widget, json_value, story_card
from pages import live as live_push

workshop = require_facilitator()
snap = workshops.snapshot(store(), workshop.id)
live = workshops.live_exercise(store(), workshop.id)
now = time.time()


@st.fragment(run_every=LIVE_POLL_SECONDS)
def follow_the_room():
    """Redraw the console when anything in the workshop changed (a join, a story, a vote): woken by push."""
    live_push.follow(store(), workshop.id, "follow", topics=workshops.TOPICS, revision=snap.workshop.revision,
                     min_interval=live_push.CONSOLE_MIN_INTERVAL_S, page=True)
    # The page itself reads fresh (the facilitator must see their own click at once); the poll shares
    # one read per process, which may be a moment older than the page, hence ">".
    if live_cache.revision(store(), workshop.id) > snap.workshop.revision:
        st.rerun(scope="app")
    if live.seconds_left(time.time()) is not None:
        st.caption("Time left")
        live_push.countdown(live.item.deadline, key="console-clock", look="metric",
                            up="Time is up — locked" if live.lock_at_zero else "Time is up")


def act(action, *args, **kwargs) -> None:
    """Run a control and redraw; a refusal is shown, never a traceback."""
    try:
        action(*args, **kwargs)
    except workshops.WorkshopInputError as exc:
        st.session_state["console_problem"] = " ".join(exc.problems.values())


head, code_col, links = st.columns([3, 1.2, 1.6], vertical_alignment="bottom")
with head:
    st.title("Console")
    st.text(workshop.title)
with code_col:
    st.metric("Join code", workshop.code)
with links:
    p1, p2 = st.columns([3, 2], vertical_alignment="bottom")
    theme = p2.selectbox("Projector theme", ["dark", "light"], key="projector_theme", label_visibility="collapsed",
                         format_func=lambda name: {"dark": "Dark screen", "light": "Light screen"}[name],
                         help="The projector's colours: light for a bright room or a washed-out projector.")
    p1.link_button("Open projector ↗", f"projector?code={workshop.code}" + ("&theme=light" if theme == "light" else ""),
                   icon=":material/present_to_all:", width="stretch")
    st.page_link("pages/report.py", label="Report and downloads", icon=":material/description:", query_params=facilitator_params(workshop))
    st.page_link("pages/map.py", label="Journey map", icon=":material/route:", query_params=facilitator_params(workshop))
if problem := st.session_state.pop("console_problem", None):
    st.error(problem)

agenda_col, live_col = st.columns([2, 3], gap="large")

with agenda_col:
    st.subheader("Agenda")
    for item in snap.agenda:
        is_live = live.item is not None and live.item.position == item.position
        status = ("live" if live.state == "open" else "locked, on screen") if is_live else ("done" if item.opened_at else "not started")
        with st.container(border=True, key=f"agenda-{item.position}"):
            a, b = st.columns([3, 2], vertical_alignment="center")
            a.text(f"{item.position + 1}. {item.exercise.title}\n{item.minutes} min · {status}" + (" · blind" if item.blind else ""))
            with b:
                if is_live and live.state == "open":
                    st.button("Lock", key=f"close-{item.position}", width="stretch", icon=":material/lock:",
                              on_click=act, args=(workshops.close_exercise, store(), workshop.id))
                else:
                    is_next = (live.item is None and item.position == 0) or (live.item is not None and item.position == live.item.position + 1)
                    st.button("Reopen" if item.opened_at else "Open", key=f"open-{item.position}", width="stretch",
                              type="primary" if is_next else "secondary", icon=":material/play_arrow:",
                              on_click=act, args=(workshops.open_exercise, store(), workshop.id, item.position))
            with st.expander("Settings", expanded=False):
                c1, c2, c3 = st.columns(3)
                c1.button("Up", key=f"up-{item.position}", icon=":material/arrow_upward:", disabled=item.position == 0,
                          on_click=act, args=(controls.move_agenda_item, store(), workshop.id, item.position, -1))
                c2.button("Down", key=f"down-{item.position}", icon=":material/arrow_downward:",
                          disabled=item.position == len(snap.agenda) - 1,
                          on_click=act, args=(controls.move_agenda_item, store(), workshop.id, item.position, +1))
                minutes = c3.number_input("Minutes", 1, 180, item.minutes, key=f"min-{item.position}-{item.minutes}",
                                          label_visibility="collapsed")
                if minutes != item.minutes:
                    act(controls.set_minutes, store(), workshop.id, item.position, int(minutes))
                    st.rerun()
                blind = st.toggle("Collect blind, reveal together", value=item.blind, key=f"blind-{item.position}-{item.blind}")
                if blind != item.blind:
                    act(controls.set_blind, store(), workshop.id, item.position, blind)
                    st.rerun()

    st.subheader(f"In the room ({len(snap.participants)})")
    counts = workshops.counts_by_function(snap.participants, workshop.functions)
    st.dataframe(pd.DataFrame({"Function": list(counts), "People": list(counts.values())}), hide_index=True, width="stretch")
    shown = st.toggle("Show names on the projector and in the report", value=workshop.show_names,
                      key=f"names-{workshop.show_names}")
    if shown != workshop.show_names:
        act(controls.set_show_names, store(), workshop.id, shown)
        st.rerun()
    st.caption("Anonymous: a function's label is left off its stories on the projector while fewer than "
               f"{room.MIN_CONTRIBUTORS_FOR_FUNCTION_LABEL} people from it have contributed.")

with live_col:
    follow_the_room()
    if live.item is None:
        st.subheader("Nothing is live yet")
        st.write(f"Ask the room to join with code **{workshop.code}** (it is on the projector), then open the first exercise.")
        st.stop()

    item, exercise = live.item, live.exercise
    st.subheader(f"Now: {exercise.title}")
    st.caption(exercise.question)
    c1, c2, c3 = st.columns(3)
    c1.button("+1 minute", icon=":material/more_time:", width="stretch", on_click=act, args=(controls.add_time, store(), workshop.id, 60))
    lock = c2.toggle("Lock at zero", value=live.lock_at_zero, key=f"laz-{live.lock_at_zero}")
    if lock != live.lock_at_zero:
        act(controls.set_lock_at_zero, store(), workshop.id, lock)
        st.rerun()
    if item.blind and item.revealed_at is None:
        c3.button("Reveal all", type="primary", icon=":material/visibility:", width="stretch",
                  on_click=act, args=(controls.reveal, store(), workshop.id, item.position))

    v1, v2, v3 = st.columns([1.2, 1, 1], vertical_alignment="bottom")
    dots = v1.number_input("Dots per person", 1, 20, item.dots, key=f"dots-{item.position}")
    if item.voting == "open":
        v2.button("Close voting", icon=":material/how_to_vote:", width="stretch",
                  on_click=act, args=(controls.set_voting, store(), workshop.id, item.position, "closed"))
    else:
        v2.button("Open voting" if item.voting == "off" else "Reopen voting", icon=":material/how_to_vote:", width="stretch",
                  on_click=act, args=(controls.set_voting, store(), workshop.id, item.position, "open", int(dots)))
    if item.voting != "off":
        v3.button("Hide results", width="stretch", on_click=act, args=(controls.set_voting, store(), workshop.id, item.position, "off"))
    if live.spotlight_story_id is not None:
        st.button("End spotlight", icon=":material/flashlight_off:", on_click=act, args=(controls.set_spotlight, store(), workshop.id, None))

    with st.expander("Your notes for this exercise", expanded=False):
        st.markdown(f"**What to say.** {exercise.say}\n\n**Debrief.** {exercise.debrief}")

    with st.expander("Enter a story for someone in the room"):
        proxy_id = st.session_state.setdefault("proxy_form_id", uuid.uuid4().hex)
        teller = st.text_input("Their name (optional)", key=f"{proxy_id}-_teller", max_chars=controls.TELLER_NAME_MAX)
        function = st.selectbox("Their function", workshop.functions, index=None, key=f"{proxy_id}-_function")
        partner_names = [p.display_name for p in snap.participants]
        for f in exercise.fields:
            field_widget(f, f"{proxy_id}-{f.name}", workshop, partner_names)
        if st.button("Add their story", key=f"{proxy_id}-send"):
            answers = {f.name: json_value(st.session_state.get(f"{proxy_id}-{f.name}")) for f in exercise.fields}
            result = controls.submit_proxy_story(store(), workshop.id, exercise_key=exercise.key, function=function,
                                                 teller_name=teller, answers=answers, idempotency_key=proxy_id)
            if result.ok:
                del st.session_state["proxy_form_id"]
                st.rerun()
            for name, message in result.problems.items():
                label = next((f.label for f in exercise.fields if f.name == name), "")
                st.error(f"{label}: {message}" if label else message)

    told = snap.stories_for(exercise.key)
    counts = snap.vote_counts()
    st.subheader(f"Incoming ({len(told)})" + (" · collected blind" if item.blind and item.revealed_at is None else ""))
    if not told:
        st.caption("Stories appear here as soon as they are sent.")
    for story in reversed(told):
        story_card(exercise, story, show_author=True, dots=counts.get(story.id, 0) if item.voting != "off" else None,
                   additions=snap.build_ons(story.id))
        b1, b2, _ = st.columns([1, 1, 2])
        b1.button("Spotlight", key=f"spot-{story.id}", icon=":material/flashlight_on:",
                  on_click=act, args=(controls.set_spotlight, store(), workshop.id, story.id))
        b2.button("Hide", key=f"hide-{story.id}", icon=":material/visibility_off:",
                  on_click=act, args=(controls.hide_story, store(), workshop.id, story.id, True))

    hidden = [s for s in snap.stories_for(exercise.key, include_hidden=True) if s.hidden]
    if hidden:
        with st.expander(f"Hidden ({len(hidden)}) — kept, never shown"):
            for story in hidden:
                # Moderation never names the author.
                st.text(story.answers.get(exercise.headline, ""))
                st.button("Show again", key=f"unhide-{story.id}",
                          on_click=act, args=(controls.hide_story, store(), workshop.id, story.id, False))
