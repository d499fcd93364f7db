"""Streamlit's floor: a bare app with the participant form's widgets and the same 2 s fragment.

Run by bench/floor.py. No database, no domain, no CSS: only what Streamlit itself costs for a
page with the "Over the wall" form (two selectboxes, three text areas, a radio and a Send
button; as plain widgets that rerun when changed, like the app's form, or in an st.form with
`?form=1`) and a fragment that reruns every 2 seconds, plus a wall
(`?view=projector`) that polls the same way and redraws when a story arrives.
Stories live in process memory (`st.cache_resource`), shared by all sessions.
"""

import threading
import time
import uuid

import streamlit as st

POLL_SECONDS = 2
STAGES = ["Prospect", "Sale", "Onboarding", "Implementation", "Support & adoption", "Renewal & expansion"]
FUNCTIONS = ["Sales", "Marketing", "Engineering", "Product", "Implementation", "Support", "Customer success",
             "Finance/billing", "Leadership"]


@st.cache_resource
def wall() -> dict:
    return {"lock": threading.Lock(), "stories": [], "revision": 0}


W = wall()
seen = W["revision"]


@st.fragment(run_every=POLL_SECONDS)
def follow_the_room(redraw_on_change: bool):
    if redraw_on_change and W["revision"] != seen:
        st.rerun(scope="app")
    st.caption(time.strftime("%H:%M:%S"))


if st.query_params.get("view") == "projector":
    st.title("Wall")
    follow_the_room(True)
    st.text(f"{len(W['stories'])} stories")
    st.text("\n".join(s["experience"] for s in W["stories"]))
    st.stop()

st.header("Over the wall")
follow_the_room(False)
if "form_id" not in st.session_state:
    st.session_state["form_id"] = uuid.uuid4().hex
form_id = st.session_state["form_id"]


def send(fid: str) -> None:
    answers = {k: st.session_state.get(f"{fid}-{k}") for k in ("stage", "promise", "experience", "next_function",
                                                                 "lost", "gap")}
    with W["lock"]:
        W["stories"].append(answers)
        W["revision"] += 1
    st.session_state["just_sent"] = True
    st.session_state["form_id"] = uuid.uuid4().hex


if st.session_state.pop("just_sent", False):
    st.success("Sent — thank you.")


def fields() -> None:
    st.selectbox("Which stage do you own?", STAGES, index=None, key=f"{form_id}-stage")
    st.text_area("What was the customer told?", max_chars=1000, key=f"{form_id}-promise", height=110)
    st.text_area("What does the customer experience?", max_chars=1000, key=f"{form_id}-experience", height=110)
    st.selectbox("Who do you hand the customer to next?", FUNCTIONS, index=None, key=f"{form_id}-next_function")
    st.text_area("What gets lost in that handoff?", max_chars=1000, key=f"{form_id}-lost", height=110)
    st.radio("How big is the gap?", [1, 2, 3, 4, 5], index=None, horizontal=True, key=f"{form_id}-gap")


if st.query_params.get("form") == "1":  # an st.form: the values travel with the submit
    with st.form(f"story-{form_id}", enter_to_submit=False):
        fields()
        st.form_submit_button("Send", type="primary", on_click=send, args=(form_id,))
else:  # plain widgets, as the app's form: each field reruns the page when it is left
    with st.container(border=True):
        fields()
        st.button("Send", type="primary", key=f"send-{form_id}", on_click=send, args=(form_id,))
