"""The console's controls for a paced exercise (which round the room is in) and for the guess-first
terminology wall (which term is up, the guesses, the reveal). Rules in facilitation/rounds.py."""

from __future__ import annotations

import streamlit as st

from facilitation import room, rounds
from facilitation.workshops import LiveExercise, Snapshot, Workshop
from pages.common import store


def round_control(workshop: Workshop, snap: Snapshot, live: LiveExercise, act) -> None:
    """Round N of M in large type, what to say, how many sent each round, and the buttons that move the room."""
    item, exercise = live.item, live.exercise
    now = live.round
    sent = rounds.round_progress(snap, exercise)
    ref = {"exercise_key": item.exercise_key}
    with st.container(border=True, key="round-control"):
        with st.container(key="round-control-now"):
            st.subheader(f"Round {now + 1} of {len(exercise.rounds)}: {exercise.rounds[now].title}")
        if exercise.rounds[now].say:
            st.write(f"**Say:** {exercise.rounds[now].say}")
        st.caption(" · ".join(f"Round {i + 1}: {n} sent" for i, n in enumerate(sent))
                   + f" · {len(snap.participants)} in the room. Phones show the round you are in; "
                     "anyone behind can still send an earlier round.")
        back, forward = st.columns([1, 2])
        back.button(f"Back to round {now}" if now else "First round", key="round-back", icon=":material/undo:",
                    disabled=now == 0, width="stretch", on_click=act,
                    args=(rounds.set_round, store(), workshop.id, item.position, now - 1), kwargs=ref)
        last = now + 1 >= len(exercise.rounds)
        forward.button("Last round" if last else f"Next round: {exercise.rounds[now + 1].title}", key="round-next",
                       type="primary", icon=":material/skip_next:", disabled=last, width="stretch", on_click=act,
                       args=(rounds.set_round, store(), workshop.id, item.position, now + 1), kwargs=ref)


def guess_control(workshop: Workshop, snap: Snapshot, live: LiveExercise, act) -> None:
    """Pick the next term, watch the guesses arrive, reveal the meaning."""
    item, exercise = live.item, live.exercise
    wall = rounds.terms(snap, exercise, room.room_stories(snap, item))
    current = next((t for t in wall if t.current), None)
    with st.container(border=True, key="guess-control"):
        st.subheader("Terminology wall: guess first")
        if not wall:
            st.caption("Terms appear here once people send them. Put one up; the other functions guess on their "
                       "phones; then reveal what it means.")
            return
        if current is not None:
            st.caption("Up on the projector" + (" · revealed" if current.state == "revealed" else " · the room is guessing"))
            with st.container(key="guess-control-term"):
                st.text(f"{current.term}  ({current.story.author_name or current.story.function} · {current.story.function})")
            st.caption(f"{room.counted(len(current.guesses), 'guess', 'guesses')} so far"
                       + ("" if current.state == "revealed" else "; the meaning stays hidden until you reveal it."))
            for g in current.guesses:
                st.text(f"“{g.text}” — {g.author_name} · {g.function}")
            if current.state == "up":
                st.button("Reveal the meaning", key="guess-reveal", type="primary", icon=":material/visibility:",
                          on_click=act, args=(rounds.reveal_term, store(), workshop.id, current.story.id))
            else:
                st.text(f"Means: {current.meaning}")
        waiting = [t for t in wall if t.state == "waiting"]
        if waiting:
            pick = st.selectbox("Next term", range(len(waiting)), key="guess-pick",
                                format_func=lambda i: f"{waiting[i].term} · {waiting[i].story.function}")
            st.button("Put this term up", key="guess-put-up", icon=":material/present_to_all:",
                      type="secondary" if current is not None and current.state == "up" else "primary",
                      on_click=act, args=(rounds.put_up_term, store(), workshop.id, waiting[pick if pick is not None else 0].story.id))
            st.caption(f"{room.counted(len(waiting), 'term')} not played yet.")
        else:
            st.caption("Every term has been up.")
