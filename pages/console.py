"""Facilitator console: the agenda, now and next, the clock, who is here, and every story as it
arrives, with the controls a live room needs. Nothing here is ever shown on the projector."""

import time
import uuid
from dataclasses import replace

import pandas as pd
import streamlit as st

from facilitation import commitments, controls, handoff_sides, live_cache, room, rounds, workshops
from pages import after_widgets, pair_widgets, round_console
from pages.common import LIVE_POLL_SECONDS, facilitator_params, format_clock, projector_url, require_facilitator, store
from pages.exercise_widgets import field_widget, json_value, story_card
from pages.room_access import duplicate_people, facilitator_access, room_notice
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
    if live_push.fragment_run_alone() and live_cache.revision(store(), workshop.id) > snap.workshop.revision:
        st.rerun(scope="app")
    now_ = time.time()
    state, sentence = controls.lock_state(live, now_)
    left = live.seconds_left(now_)
    c1, c2 = st.columns([1, 2], vertical_alignment="center")
    if left is not None:
        with c1:
            st.caption("Time left")
            live_push.countdown(live.item.deadline, key="console-clock", look="metric",
                                up="Time is up — locked" if live.lock_at_zero else "Time is up")
    with c2.container(key=f"lock-state-{state}"):
        st.badge({"open": "Open", "overtime": "Open, past zero", "locked": "Locked"}[state],
                 icon={"open": ":material/lock_open:", "overtime": ":material/timer_off:", "locked": ":material/lock:"}[state],
                 color={"open": "green", "overtime": "orange", "locked": "red"}[state])
        st.caption(sentence)


def act(action, *args, **kwargs) -> None:
    """Run a control and redraw; a refusal (stale screen, bad value) is shown, never a traceback."""
    try:
        action(*args, **kwargs)
    except controls.ConfirmPastZero as exc:
        st.session_state["confirm_minutes"] = (args[2], kwargs.get("exercise_key"), args[3], exc.problems["confirm"])
    except workshops.WorkshopInputError as exc:
        st.session_state["console_problem"] = " ".join(exc.problems.values())


def act_on_value(widget_key: str, action, *args, **kwargs) -> None:
    """A control fed by a widget's new value (minutes, a toggle): the value goes last among the arguments."""
    act(action, *args, st.session_state[widget_key], **kwargs)


def keep_minutes(widget_key: str) -> None:
    st.session_state.pop("confirm_minutes", None)
    st.session_state.pop(widget_key, None)


def lock_them_out(position: int, exercise_key: str, minutes: int) -> None:
    st.session_state.pop("confirm_minutes", None)
    act(controls.set_minutes, store(), workshop.id, position, minutes, exercise_key=exercise_key, confirmed=True)


seen_live = (live.item.position, live.item.exercise_key) if live.item is not None else None


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
    p1.link_button("Open projector ↗", projector_url(workshop, theme), icon=":material/present_to_all:", width="stretch")
    st.page_link("pages/report.py", label="Report and downloads", icon=":material/description:", query_params=facilitator_params(workshop))
    st.page_link("pages/map.py", label="Journey map", icon=":material/route:", query_params=facilitator_params(workshop))
    after_widgets.console_links(workshop)
room_notice(workshop)
facilitator_access(workshop)
if problem := st.session_state.pop("console_problem", None):
    st.error(problem)

agenda_col, live_col = st.columns([2, 3], gap="large")

with agenda_col:
    st.subheader("Agenda")
    after_widgets.opening_review_item(workshop, live)
    for item in snap.agenda:
        is_live = live.item is not None and live.item.position == item.position
        status = ("live" if live.state == "open" else "locked, on screen") if is_live else ("done" if item.opened_at else "not started")
        if is_live and live.exercise.paced:
            status += f" · round {live.round + 1} of {len(live.exercise.rounds)}"
        # Every control names the item it acts on (position and exercise): pressed on a screen that no
        # longer shows the agenda as it is, it is refused with a message instead of acting on another item.
        ref = {"exercise_key": item.exercise_key}
        with st.container(border=True, key=f"agenda-{item.position}"):
            a, b = st.columns([3, 2], vertical_alignment="center")
            a.text(f"{workshops.item_label(item)}\n{item.minutes} min · {status}" + (" · blind" if item.blind else ""))
            with b:
                if is_live and live.state == "open":
                    st.button("Lock", key=f"close-{item.position}", width="stretch", icon=":material/lock:",
                              on_click=act, args=(workshops.close_exercise, store(), workshop.id, item.position, item.exercise_key))
                else:
                    is_next = (live.item is None and item.position == 0) or (live.item is not None and item.position == live.item.position + 1)
                    st.button("Reopen" if item.opened_at else "Open", key=f"open-{item.position}", width="stretch",
                              type="primary" if is_next else "secondary", icon=":material/play_arrow:",
                              on_click=act, args=(workshops.open_exercise, store(), workshop.id, item.position),
                              kwargs={**ref, "seen_live": seen_live})
            confirm = st.session_state.get("confirm_minutes")
            minutes_key = f"min-{item.position}-{item.minutes}"
            if confirm and confirm[0] == item.position and confirm[1] == item.exercise_key:
                st.warning(confirm[3])
                k1, k2 = st.columns(2)
                k1.button(f"Lock them out: {confirm[2]} min", key=f"confirm-min-{item.position}", type="primary",
                          on_click=lock_them_out, args=(item.position, item.exercise_key, confirm[2]))
                k2.button(f"Keep {item.minutes} min", key=f"keep-min-{item.position}", on_click=keep_minutes,
                          args=(minutes_key,))
            with st.expander("Settings", expanded=False):
                c1, c2, c3 = st.columns(3)
                c1.button("Up", key=f"up-{item.position}", icon=":material/arrow_upward:", disabled=item.position == 0,
                          on_click=act, args=(controls.move_agenda_item, store(), workshop.id, item.position, -1), kwargs=ref)
                c2.button("Down", key=f"down-{item.position}", icon=":material/arrow_downward:",
                          disabled=item.position == len(snap.agenda) - 1,
                          on_click=act, args=(controls.move_agenda_item, store(), workshop.id, item.position, +1), kwargs=ref)
                c3.number_input("Minutes", 1, controls.MAX_MINUTES, item.minutes, key=minutes_key, label_visibility="collapsed",
                                on_change=act_on_value, args=(minutes_key, controls.set_minutes, store(), workshop.id, item.position),
                                kwargs=ref)
                blind_key = f"blind-{item.position}-{item.blind}"
                st.toggle("Collect blind, reveal together", value=item.blind, key=blind_key,
                          on_change=act_on_value, args=(blind_key, controls.set_blind, store(), workshop.id, item.position),
                          kwargs=ref)

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
    duplicate_people(workshop, snap.participants)

with live_col:
    follow_the_room()
    if live.item is None:
        st.subheader("Nothing is live yet")
        st.write(f"Ask the room to join with code **{workshop.code}** (it is on the projector), then open the first exercise.")
        st.stop()

    item, exercise = live.item, live.exercise
    here = {"position": item.position, "exercise_key": item.exercise_key}  # what this screen shows live
    st.subheader(f"Now: {exercise.title}")
    st.caption(f"Agenda item {item.position + 1} of {len(snap.agenda)} · {exercise.question}")
    if exercise.paced:  # which round the room is in, first: it is what the facilitator moves next
        round_console.round_control(workshop, snap, live, act)
    c1, c2, c3 = st.columns(3)
    c1.button("+1 minute", icon=":material/more_time:", width="stretch", on_click=act,
              args=(controls.add_time, store(), workshop.id, 60), kwargs=here,
              help="One more minute from now: after zero too, it reopens the exercise for one minute.")
    lock = c2.toggle("Lock at zero", value=live.lock_at_zero, key=f"laz-{live.lock_at_zero}")
    if lock != live.lock_at_zero:
        act(controls.set_lock_at_zero, store(), workshop.id, lock)
        st.rerun()
    if item.blind and item.revealed_at is None:
        c3.button("Reveal all", type="primary", icon=":material/visibility:", width="stretch",
                  on_click=act, args=(controls.reveal, store(), workshop.id, item.position),
                  kwargs={"exercise_key": item.exercise_key})

    v1, v2, v3 = st.columns([1.2, 1, 1], vertical_alignment="bottom")
    dots = v1.number_input("Dots per person", 1, 20, item.dots, key=f"dots-{item.position}")
    voting_ref = {"exercise_key": item.exercise_key}
    if item.voting == "open":
        v2.button("Close voting", icon=":material/how_to_vote:", width="stretch",
                  on_click=act, args=(controls.set_voting, store(), workshop.id, item.position, "closed"), kwargs=voting_ref)
    else:
        v2.button("Open voting" if item.voting == "off" else "Reopen voting", icon=":material/how_to_vote:", width="stretch",
                  on_click=act, args=(controls.set_voting, store(), workshop.id, item.position, "open", int(dots)),
                  kwargs=voting_ref)
    if item.voting != "off":
        v3.button("Hide results", width="stretch", on_click=act,
                  args=(controls.set_voting, store(), workshop.id, item.position, "off"), kwargs=voting_ref)
    if item.voting == "open":
        st.caption("Voting is open: stories with dots, and every story while the room votes, cannot be changed by their authors.")

    if exercise.guess_first:
        round_console.guess_control(workshop, snap, live, act)

    waiting = room.not_sent_yet(snap, exercise.key)
    n_waiting = sum(len(people) for people in waiting.values())
    with st.expander(f"Not sent anything yet: {n_waiting} of {len(snap.participants)}" if snap.participants
                     else "Not sent anything yet: nobody has joined", expanded=bool(n_waiting) and n_waiting <= 12):
        if not snap.participants:
            st.caption("People who join appear here until they send their first story.")
        elif not waiting:
            st.caption("Everyone in the room has sent something to this exercise.")
        else:
            st.dataframe(pd.DataFrame({
                "Function": list(waiting),
                "Waiting": [len(people) for people in waiting.values()],
                **({"Who": [", ".join(p.display_name for p in people) for people in waiting.values()]}
                   if workshop.show_names else {}),
            }), hide_index=True, width="stretch", key="not-sent-yet")

    with st.expander("Your notes for this exercise", expanded=False):
        st.markdown(f"**What to say.** {exercise.say}\n\n"
                    + "".join(f"**{rounds.round_label(exercise, i)}.** {r.say}\n\n"
                              for i, r in enumerate(exercise.rounds) if r.say)
                    + f"**Debrief.** {exercise.debrief}")

    pair_widgets.console_panel(store(), workshop.id, exercise, live, snap, act)

    with st.expander("Enter a story for someone in the room"):
        proxy_id = st.session_state.setdefault("proxy_form_id", uuid.uuid4().hex)
        teller = st.text_input("Their name (optional)", key=f"{proxy_id}-_teller", max_chars=controls.TELLER_NAME_MAX)
        function = st.selectbox("Their function", workshop.functions, index=None, key=f"{proxy_id}-_function")
        partner_names = [p.display_name for p in snap.participants]
        proxy_serves = (commitments.serve_options(snap) if any(f.kind == "story_or_handoff" for f in exercise.fields)
                        else [])
        handoff_choices = (handoff_sides.handoff_choices(replace(snap, workshop=replace(workshop, show_names=True)),
                                                         exercise, function) if exercise.receives_from else None)
        for f in exercise.fields:
            field_widget(f, f"{proxy_id}-{f.name}", workshop, partner_names, handoffs=handoff_choices,
                         serves=proxy_serves)
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
    head_col, mode_col, sort_col = st.columns([2, 1.2, 1.4], vertical_alignment="bottom")
    head_col.subheader(f"Incoming ({len(told)})" + (" · collected blind" if item.blind and item.revealed_at is None else ""))
    compact = mode_col.toggle("Compact list", key="incoming-compact", help="One line per story, sortable.")
    order = sort_col.selectbox("Sort", list(room.INCOMING_SORTS), format_func=room.INCOMING_SORTS.get,
                               key="incoming-sort", label_visibility="collapsed") if compact else "newest"
    spotlit = next((s for s in told if s.id == live.spotlight_story_id), None)
    if live.spotlight_story_id is not None and (spotlit is None or compact):
        m1, m2 = st.columns([3, 1.3], vertical_alignment="center")
        with m1.container(key="spotlight-marker"):
            st.badge("On the projector now", icon=":material/flashlight_on:", color="orange")
            if spotlit is not None:
                st.text(str(spotlit.answers.get(exercise.headline, "")))
        m2.button("End spotlight", key="unspot-top", icon=":material/flashlight_off:", width="stretch", on_click=act,
                  args=(controls.set_spotlight, store(), workshop.id, None), kwargs=here)
    if not told:
        st.caption("Stories appear here as soon as they are sent.")
    elif compact:
        rows = room.incoming_rows(told, exercise, counts, sort=order, spotlight_story_id=live.spotlight_story_id)
        frame = pd.DataFrame([{
            "On projector": "★" if r["on projector"] else "",
            "Time": time.strftime("%H:%M", time.localtime(r["time"])),
            "Gap": r["gap"], "Dots": r["dots"], "Function": r["function"], "Author": r["author"], "Story": r["story"],
        } for r in rows])
        if room.gap_field(exercise) is None:
            frame = frame.drop(columns=["Gap"])
        picked = st.dataframe(frame, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
                              key=f"incoming-list-{snap.workshop.revision}-{order}",
                              column_config={"On projector": st.column_config.TextColumn("★", width="small", help="On the projector now"),
                                             "Time": st.column_config.TextColumn("Time", width="small"),
                                             "Gap": st.column_config.NumberColumn("Gap", format="%d", width="small"),
                                             "Dots": st.column_config.NumberColumn("Dots", format="%d", width="small"),
                                             "Story": st.column_config.TextColumn("Story", width="large")})
        chosen = picked.selection.rows if picked is not None else []
        if chosen and 0 <= chosen[0] < len(rows):
            story_id = rows[chosen[0]]["id"]
            s1, s2, _ = st.columns([1.3, 1, 2])
            if story_id == live.spotlight_story_id:
                s1.button("End spotlight", key=f"unspot-{story_id}", icon=":material/flashlight_off:", on_click=act,
                          args=(controls.set_spotlight, store(), workshop.id, None), kwargs=here)
            else:
                s1.button("Spotlight", key=f"spot-{story_id}", icon=":material/flashlight_on:", on_click=act,
                          args=(controls.set_spotlight, store(), workshop.id, story_id), kwargs=here)
            s2.button("Hide", key=f"hide-{story_id}", icon=":material/visibility_off:",
                      on_click=act, args=(controls.hide_story, store(), workshop.id, story_id, True))
        else:
            st.caption("Select a line to spotlight or hide its story.")
    else:
        # The spotlighted story first, marked, with "End spotlight" beside it; then the newest first.
        newest = [s for s in reversed(told) if s is not spotlit]
        for story in ([spotlit] if spotlit else []) + newest[:room.CONSOLE_CARDS]:
            on_wall = story is spotlit
            if on_wall:
                with st.container(key="spotlight-marker"):
                    st.badge("On the projector now", icon=":material/flashlight_on:", color="orange")
            story_card(exercise, story, show_author=True, dots=counts.get(story.id, 0) if item.voting != "off" else None,
                       additions=snap.build_ons(story.id))
            b1, b2, _ = st.columns([1.3, 1, 2])
            if on_wall:
                b1.button("End spotlight", key=f"unspot-{story.id}", icon=":material/flashlight_off:", on_click=act,
                          args=(controls.set_spotlight, store(), workshop.id, None), kwargs=here)
            else:
                b1.button("Spotlight", key=f"spot-{story.id}", icon=":material/flashlight_on:",
                          on_click=act, args=(controls.set_spotlight, store(), workshop.id, story.id), kwargs=here)
            b2.button("Hide", key=f"hide-{story.id}", icon=":material/visibility_off:",
                      on_click=act, args=(controls.hide_story, store(), workshop.id, story.id, True))
        if len(newest) > room.CONSOLE_CARDS:
            st.caption(f"Showing the newest {room.CONSOLE_CARDS} of {len(told)} stories. Turn on “Compact list” "
                       "to see, sort, spotlight or hide every one.")

    hidden = [s for s in snap.stories_for(exercise.key, include_hidden=True) if s.hidden]
    if hidden:
        with st.expander(f"Hidden ({len(hidden)}) — kept, never shown"):
            for story in hidden:
                # Moderation never names the author.
                st.text(story.answers.get(exercise.headline, ""))
                st.button("Show again", key=f"unhide-{story.id}",
                          on_click=act, args=(controls.hide_story, store(), workshop.id, story.id, False))
