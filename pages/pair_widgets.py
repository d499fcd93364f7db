"""An exercise done in pairs on the phone (my partner, my role, the phase) and on the console
(propose, re-pair, run the phases). The rules are in facilitation/pairs.py."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from facilitation import pairs, room
from facilitation.exercises import Exercise
from facilitation.store import Store
from facilitation.workshops import LiveExercise, Participant, Snapshot
from pages import live as live_push


def phone_panel(exercise: Exercise, live: LiveExercise, snap: Snapshot, participant: Participant) -> pairs.Round | None:
    """Above the form: who this person is with and in which role, and the running phase with its clock."""
    if not pairs.done_in_pairs(exercise):
        return None
    pair_round = pairs.round_of(snap, exercise.key)
    head, detail = pairs.phone_lines(pair_round, participant.id)
    if head:
        with st.container(border=True, key="my-pair"):
            with st.container(key="my-pair-head"):
                st.text(head)
            st.text(detail)  # names are typed by people: never markdown
    if heading := pairs.phase_heading(exercise, live.phase):
        me = pair_round.member(participant.id)
        with st.container(border=True, key="phase"):
            with st.container(key="phase-head"):
                st.text(heading)
            if task := pairs.role_task(exercise, live.phase, me.role if me else pairs.LISTENER):
                st.text(task)
            if deadline := pairs.phase_deadline(exercise, live.phase, live.phase_started_at):
                live_push.countdown(deadline, key=f"phase-clock-{live.phase}", look="caption",
                                    running="{clock} left in this phase", up="Time is up for this phase.")
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


# --- the projector -------------------------------------------------------------------------------------

BOARD_PER_PAGE, BOARD_PER_ROW = 12, 4


def projector_view(snap: Snapshot, live: LiveExercise, exercise: Exercise, told: list, *, show_names: bool, slot: int,
                   show_page, byline_of, color: str = "") -> None:
    """The pairs wall: the running phase with its prompt and clock, the room's tally, then the pairs
    (while no story has arrived) or each pair's two versions side by side, one pair a page."""
    pair_round = pairs.round_of(snap, exercise.key)
    step = pairs.current_phase(exercise, live.phase)
    if step is not None:
        with st.container(key="phase-band", horizontal=True, vertical_alignment="center", gap="large"):
            with st.container(key="phase-text"):
                with st.container(key="phase-heading"):
                    st.text(pairs.phase_heading(exercise, live.phase))
                with st.container(key="phase-prompt"):
                    st.text(step.prompt)
            with st.container(key="phase-clock", width="content"):
                live_push.countdown(pairs.phase_deadline(exercise, live.phase, live.phase_started_at),
                                    key=f"projector-phase-clock-{live.phase}", look="metric",
                                    running="{clock} left in this phase", up="Time is up for this phase", color=color)
    count = pairs.tally(exercise, told, pair_round)
    if count is not None and count.marked:
        with st.container(key="tally", horizontal=True, vertical_alignment="center", gap="large"):
            with st.container(key="tally-label", width="content"):
                st.text("How we listened")
            for i, (label, n) in enumerate(count.counts):
                with st.container(key=f"tally-count-{i}", width="content", horizontal=True, vertical_alignment="center"):
                    with st.container(key=f"tally-number-{i}", width="content"):
                        st.text(str(n))
                    st.text(label)
            if count.waiting:
                with st.container(key="tally-waiting", width="content"):
                    st.text(f"{count.waiting} not marked yet")
    if not told:
        rows = pairs.board(pair_round, show_names=show_names)
        if not rows:
            with st.container(key="pairs-waiting"):
                st.text("Pairs appear here once the facilitator proposes them.")
            return
        page = room.wall_page(rows, BOARD_PER_PAGE, slot)
        show_page(page)
        columns = st.columns(BOARD_PER_ROW, gap="medium")
        for i, (number, lines) in enumerate(page.items):
            with columns[i % BOARD_PER_ROW], st.container(border=True, key=f"board-pair-{number}"):
                with st.container(key=f"board-pair-head-{number}"):
                    st.text(f"Pair {number}")
                for role, who in lines:
                    st.text(f"{role}: {who}")  # names are typed by people: never markdown
        return
    left_field, right_field = (exercise.field(n) for n in exercise.side_by_side)
    page = room.wall_page(list(reversed(told)), 1, slot)
    show_page(page)
    for story in page.items:
        with st.container(border=True, key=f"pair-{story.id}"):
            partner = story.answers.get(exercise.partner_field.name, "") if exercise.partner_field else ""
            with st.container(key=f"pair-head-{story.id}"):
                st.text(story.answers.get(exercise.headline, ""))
            with st.container(key=f"byline-pair-{story.id}"):
                st.text(" & ".join(p for p in (story.author_name, partner) if p) if show_names else byline_of(story))
            a, b = st.columns(2, gap="large")
            with a, st.container(key=f"pair-side-a-{story.id}"):
                with st.container(key=f"pair-label-a-{story.id}"):
                    st.text(left_field.label)
                st.text(story.answers.get(left_field.name, ""))
            with b, st.container(key=f"pair-side-b-{story.id}"):
                with st.container(key=f"pair-label-b-{story.id}"):
                    st.text(right_field.label)
                st.text(story.answers.get(right_field.name, ""))
            # What else the pair said (what we would have offered, how they listened), under the two versions.
            shown = {exercise.headline, left_field.name, right_field.name,
                     exercise.partner_field.name if exercise.partner_field else ""}
            rest = [f for f in exercise.fields if f.name not in shown and story.answers.get(f.name)]
            if rest:
                for column, f in zip(st.columns(len(rest), gap="large"), rest):
                    value = story.answers[f.name]
                    with column, st.container(key=f"pair-more-{f.name}-{story.id}"):
                        with st.container(key=f"pair-label-{f.name}-{story.id}"):
                            st.text(f.label)
                        st.text(pairs.short_option(value) if f.name == exercise.tally else str(value))

