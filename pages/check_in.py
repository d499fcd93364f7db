"""30-day check-in of a past workshop: every commitment's status by function pair, what moved, what
is still open; the calendar and task-tracker downloads. The room's version (large text, no
controls) is the projector page with `view=check_in` (pages/after_widgets.py)."""

import streamlit as st

from facilitation import follow_up, live_cache
from facilitation import workshops as W
from pages import live as live_push
from pages.common import LIVE_POLL_SECONDS, facilitator_params, projector_url, require_facilitator, store

workshop = require_facilitator()
check = follow_up.check_in(store(), workshop.id)


@st.fragment(run_every=LIVE_POLL_SECONDS)
def follow_updates():
    """Redraw when someone marks a commitment (pushed by the server; each update bumps the revision)."""
    live_push.follow(store(), workshop.id, "check-in", topics={"after"}, revision=check.workshop.revision, page=True)
    if live_push.fragment_run_alone() and live_cache.revision(store(), workshop.id) > check.workshop.revision:
        st.rerun(scope="app")


follow_updates()
t = check.totals
head, links = st.columns([3, 2], vertical_alignment="bottom")
with head:
    st.title(f"{follow_up.CHECK_IN_DAYS}-day check-in")
    st.text(workshop.title)
    st.caption(f"{check.days_since} days since the workshop. People mark their commitments from their own links; "
               "this page follows them as they do.")
with links:
    st.link_button("Check-in on the projector ↗", projector_url(workshop) + "&view=check_in",
                   icon=":material/present_to_all:", width="stretch")
    st.page_link("pages/console.py", label="Back to the console", icon=":material/tune:",
                 query_params=facilitator_params(workshop))

m = st.columns(5)
for col, (label, n) in zip(m, (("Made", t.made), ("Done", t.done), ("Partly done", t.partly),
                               ("Dropped", t.dropped), ("Still open", t.open))):
    col.metric(label, n)

if not check.commitments:
    st.info("No commitments were made in this workshop yet.")
    st.stop()

moved, still_open = st.columns(2, gap="large")
with moved:
    st.subheader(f"What moved ({len(check.moved)})")
    for c in check.moved:
        with st.container(border=True, key=f"moved-{c.id}"):
            st.text(f"{c.status_label} · {c.story.function} → {c.connects_to}\n{c.action}")
            if c.note:
                st.caption("What happened")
                st.text(c.note)
with still_open:
    st.subheader(f"Still open ({len(check.still_open)})")
    for c in check.still_open:
        with st.container(border=True, key=f"open-{c.id}"):
            st.text(f"{c.story.function} → {c.connects_to} · by {follow_up.due_date(c, workshop).isoformat()}\n{c.action}")

st.subheader("By function pair")
rows = [{"From": a, "To": b, "Commitment": c.action, "By": follow_up.due_date(c, workshop), "Status": c.status_label,
         "What happened": c.note, "Who": (c.story.author_name or "") if workshop.show_names else ""}
        for (a, b), found in check.by_pair.items() for c in found]
st.dataframe(rows, hide_index=True, width="stretch",
             column_config={"By": st.column_config.DateColumn(format="D MMM YYYY"),
                            "What happened": st.column_config.TextColumn(width="large")})

st.subheader("Take them with you")
base = st.context.url
people = {p.id: p for p in W.list_participants(store(), workshop.id)}
# The facilitator's copies link to this check-in, never to a participant's private page.
back = follow_up.page_url(base, "check_in", code=workshop.code)
d1, d2 = st.columns(2)
d1.download_button("All commitments as a calendar (.ics)",
                   lambda: follow_up.commitment_ics(workshop, follow_up.commitments(store(), workshop.id), lambda c: back),
                   file_name=f"story-relay-{workshop.code}-commitments.ics", mime="text/calendar", icon=":material/event:",
                   on_click="ignore", width="stretch",
                   help="One all-day event per commitment on its date, with a reminder the day before.")
d2.download_button("Commitments for a task tracker (.csv)",
                   lambda: follow_up.tracker_csv(workshop, follow_up.commitments(store(), workshop.id), lambda c: back),
                   file_name=f"story-relay-{workshop.code}-commitments.csv", mime="text/csv", icon=":material/checklist:",
                   on_click="ignore", width="stretch",
                   help="Title, description, due date, status, owner: the columns Jira, Trello, Asana and Planner import.")
with st.expander("Each person's link to their commitments (to send with a reminder)"):
    st.caption("Private links: whoever has one can mark that person's commitments. Send each only to its owner.")
    for pid in dict.fromkeys(c.story.participant_id for c in check.commitments if c.story.participant_id):
        person = people.get(pid)
        if person is not None:
            st.text(f"{person.display_name} · {person.function}")
            st.code(follow_up.participant_link(base, workshop, person), language=None)
