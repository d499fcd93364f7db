"""An exercise done in pairs on the phone (my partner, my role, the phase) and on the console
(propose, re-pair, run the phases). The rules are in facilitation/pairs.py; the projector and the
report part live with the pairs room view (pages/views/pairs.py, facilitation/views/pairs.py)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from facilitation import i18n, pairs
from facilitation.exercises import Exercise
from facilitation.store import Store
from facilitation.workshops import LiveExercise, Participant, Snapshot
from pages import live as live_push


def phone_panel(exercise: Exercise, live: LiveExercise, snap: Snapshot, participant: Participant) -> pairs.Round | None:
    """Above the form: who this person is with and in which role, and the running phase with its clock."""
    if not pairs.done_in_pairs(exercise):
        return None
    _ = i18n.translator(exercise.language).gettext
    pair_round = pairs.round_of(snap, exercise.key)
    head, detail = pairs.phone_lines(pair_round, participant.id, _)
    if head:
        with st.container(border=True, key="my-pair"):
            with st.container(key="my-pair-head"):
                st.text(head)
            st.text(detail)  # names are typed by people: never markdown
            me = pair_round.member(participant.id)
            if me is not None and me.role == pairs.TELLER and len(pair_round.pair_of(participant.id).members) > 1:
                st.caption(_("Your listener types and sends one form for your pair; you tell."))
    if heading := pairs.phase_heading(exercise, live.phase, _):
        me = pair_round.member(participant.id)
        with st.container(border=True, key="phase"):
            with st.container(key="phase-head"):
                st.text(heading)
            if task := pairs.role_task(exercise, live.phase, me.role if me else pairs.LISTENER):
                st.text(task)
            if deadline := pairs.phase_deadline(exercise, live.phase, live.phase_started_at):
                live_push.countdown(deadline, key=f"phase-clock-{live.phase}", look="caption",
                                    running=_("{clock} left in this phase"), up=_("Time is up for this phase."))
    return pair_round


def _people_label(member: pairs.Member) -> str:
    return f"{member.name} · {member.function}"


def console_panel(store: Store, workshop_id: int, exercise: Exercise, live: LiveExercise, snap: Snapshot, act) -> None:
    """The pairs and phases of the live exercise, with the facilitator's controls (`act` runs one and
    shows a refusal); every control names the version or phase this screen showed."""
    if not pairs.done_in_pairs(exercise):
        return
    pair_round = pairs.round_of(snap, exercise.key)
    key = exercise.key
    with st.container(border=True, key="pairs-console"):
        st.subheader("Pairs and phases")
        if exercise.phases:
            p1, p2 = st.columns([2, 1.5], vertical_alignment="center")
            with p1:
                st.text(pairs.phase_heading(exercise, live.phase) or f"{len(exercise.phases)} phases, not started yet")
                if deadline := pairs.phase_deadline(exercise, live.phase, live.phase_started_at):
                    live_push.countdown(deadline, key=f"console-phase-clock-{live.phase}", look="caption",
                                        running="{clock} left in this phase", up="Time is up for this phase")
            following = live.phase + 1
            if following <= len(exercise.phases) + 1:
                step = pairs.current_phase(exercise, following)
                p2.button(f"Start phase {following}: {step.title}" if step else "End the phases", key=f"phase-{following}",
                          type="primary", width="stretch", icon=":material/play_arrow:" if step else ":material/stop:",
                          on_click=act, args=(pairs.start_phase, store, workshop_id, key, following),
                          kwargs={"seen_phase": live.phase})
        if pair_round.version == 0:
            n = len(snap.participants)
            st.caption(f"{n} in the room: " + (f"{n // 2} pairs" + (" and one trio" if n % 2 and n > 2 else "")
                                               if n >= 2 else "not enough people for a pair yet")
                       + ". Pairs mix functions as far as the room allows; you can change them after.")
            st.button("Propose pairs", key="propose-pairs", type="primary", icon=":material/group:", disabled=len(snap.participants) < 2,
                      on_click=act, args=(pairs.propose, store, workshop_id, key), kwargs={"seen_version": 0})
            return
        seen = {"seen_version": pair_round.version}
        count = pairs.tally(exercise, snap.stories_for(exercise.key), pair_round)
        if count is not None and (count.marked or count.waiting):
            st.caption("How the pairs listened (for the debrief): " + count.line())
        st.dataframe(pd.DataFrame([{
            "Pair": pair.number,
            "Teller": _people_label(pair.teller) if pair.teller else "",
            "Listening": ", ".join(_people_label(m) for m in pair.listeners) or "nobody yet",
            "Note": pairs.pair_note(pair),
        } for pair in pair_round.pairs]), hide_index=True, width="stretch", key=f"pairs-table-{pair_round.version}",
            column_config={"Pair": st.column_config.NumberColumn("Pair", width=50),
                           "Note": st.column_config.TextColumn("Note", width=140)})
        if pair_round.unpaired:
            st.warning("Not in a pair yet: " + ", ".join(_people_label(m) for m in pair_round.unpaired),
                       icon=":material/person_add:")
            st.button("Place them", key="place-unpaired", on_click=act,
                      args=(pairs.place_unpaired, store, workshop_id, key), kwargs=seen)
        everyone = {m.participant_id: _people_label(m) for pair in pair_round.pairs for m in pair.members}
        everyone.update({m.participant_id: _people_label(m) for m in pair_round.unpaired})
        v = pair_round.version
        with st.expander("Change the pairs"):
            a, b, c = st.columns([2, 2, 1], vertical_alignment="bottom")
            a.selectbox("Swap", list(everyone), format_func=everyone.get, index=None, key=f"swap-a-{v}")
            b.selectbox("with", list(everyone), format_func=everyone.get, index=None, key=f"swap-b-{v}")
            c.button("Swap", key=f"swap-{v}", width="stretch", on_click=_picked, args=(act, pairs.swap, store, workshop_id,
                     key, [f"swap-a-{v}", f"swap-b-{v}"], seen))
            targets = {n.number: f"Pair {n.number}" for n in pair_round.pairs}
            targets[0] = "A new pair"
            a, b, c = st.columns([2, 2, 1], vertical_alignment="bottom")
            a.selectbox("Move", list(everyone), format_func=everyone.get, index=None, key=f"move-who-{v}")
            b.selectbox("to", list(targets), format_func=targets.get, index=None, key=f"move-to-{v}")
            c.button("Move", key=f"move-{v}", width="stretch", on_click=_picked, args=(act, _move, store, workshop_id,
                     key, [f"move-who-{v}", f"move-to-{v}"], seen))
            a, _b, c = st.columns([2, 2, 1], vertical_alignment="bottom")
            a.selectbox("Make the teller of their pair", list(everyone), format_func=everyone.get, index=None,
                        key=f"teller-{v}")
            c.button("Make teller", key=f"make-teller-{v}", width="stretch", on_click=_picked,
                     args=(act, pairs.make_teller, store, workshop_id, key, [f"teller-{v}"], seen))
            st.button("Propose new pairs", key=f"propose-again-{v}", icon=":material/shuffle:",
                      help="Pairs everyone again across functions; the phase the room is in stays.",
                      on_click=act, args=(pairs.propose, store, workshop_id, key), kwargs=seen)


def _move(store: Store, workshop_id: int, key: str, participant_id: int, target: int, **kwargs) -> int:
    return pairs.move(store, workshop_id, key, participant_id, target or None, **kwargs)


def _picked(act, action, store: Store, workshop_id: int, key: str, widget_keys: list[str], seen: dict) -> None:
    """Run a re-pairing control with the people picked in its boxes (all must be picked)."""
    values = [st.session_state.get(k) for k in widget_keys]
    if any(v is None for v in values):
        st.session_state["console_problem"] = "Pick who to change first, then press the button."
        return
    act(action, store, workshop_id, key, *values, **seen)

