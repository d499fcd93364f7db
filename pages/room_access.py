"""Console pieces for who reaches the room: the address phones use, the facilitator's key and
sign-out, the projector's link, and merging a duplicate participant. Each is one expander or
caption, so the console keeps its own layout."""

from __future__ import annotations

import streamlit as st

from facilitation import participants, sign_in, workshops
from pages.common import forget_facilitator, navigate, projector_url, room, sign_out_url, store


def room_notice(workshop: workshops.Workshop) -> None:
    """Which address the room will use (and how to change it), beside the join code."""
    address = room()
    with st.container(key="room-address"):
        st.text(f"Room's join link: {address.join_url(workshop.code)}")
        if address.reachable:
            st.caption(address.explanation())
        else:
            st.warning(address.explanation(), icon=":material/wifi_off:")


def facilitator_access(workshop: workshops.Workshop) -> None:
    """Projector link, sign-out and a new key, in one closed expander."""
    with st.expander("Projector link, sign-out, facilitator key", icon=":material/key:"):
        st.write("**Projector link.** Open it on the computer that drives the projector. Its screen token lets "
                 "that screen show the wall; a code alone shows nothing. A new key makes a new link.")
        st.code(room().base + projector_url(workshop), language=None)
        st.write("**Sign out** on this browser. Your key still opens the workshop from any browser.")
        if st.button("Sign out", icon=":material/logout:", key="sign-out"):
            forget_facilitator()
            navigate(sign_out_url(workshop), "Sign out")
            st.stop()
        st.write("**Replace the key** if it was seen by someone else: the old key, every browser signed in with it "
                 "and the old projector link stop working. You are signed out here and sign in with the new key.")
        confirm = st.checkbox("Yes, replace the key and sign out every browser", key="replace-key-confirm")
        if st.button("Replace the key", disabled=not confirm, icon=":material/autorenew:", key="replace-key"):
            new_key = sign_in.replace_key(store(), workshop.id)
            forget_facilitator()
            st.session_state["new_facilitator_key"] = (workshop.code, new_key)  # shown once, on the sign-in form
            st.rerun()

def duplicate_people(workshop: workshops.Workshop, people: list[workshops.Participant]) -> None:
    """Merge a person who joined twice, or remove someone who sent nothing."""
    if len(people) < 2:
        return
    with st.expander("Someone joined twice?", icon=":material/group_remove:"):
        label = {p.id: f"{p.display_name} · {p.function} · joined {_clock(p.joined_at)}" for p in people}
        by_id = [p.id for p in people]
        duplicate = st.selectbox("The extra entry", by_id, index=None, format_func=label.get, key="dup-extra",
                                 placeholder="Choose the entry to take away")
        keep = st.selectbox("Belongs to", [i for i in by_id if i != duplicate], index=None, format_func=label.get,
                            key="dup-keep", placeholder="Choose the person to keep")
        c1, c2 = st.columns(2)
        if c1.button("Merge into them", disabled=duplicate is None or keep is None, key="dup-merge",
                     icon=":material/merge:", width="stretch"):
            _act(participants.merge_participants, store(), workshop.id, keep, duplicate)
        if c2.button("Remove the extra entry", disabled=duplicate is None, key="dup-remove",
                     icon=":material/person_remove:", width="stretch",
                     help="Only for an entry that sent nothing; otherwise merge it."):
            _act(participants.remove_participant, store(), workshop.id, duplicate)
        if problem := st.session_state.pop("dup-problem", None):
            st.error(problem)
        st.caption("Merging moves the extra entry's stories, dots and drafts to the person kept.")


def _act(action, *args) -> None:
    try:
        action(*args)
    except workshops.WorkshopInputError as exc:
        st.session_state["dup-problem"] = " ".join(exc.problems.values())
    else:
        for key in ("dup-extra", "dup-keep"):
            st.session_state.pop(key, None)
    st.rerun()


def _clock(timestamp: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(timestamp).strftime("%H:%M")
