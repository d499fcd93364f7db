"""Journey map page (facilitator): filter the map, see the flow between functions, read the stories
behind a handoff, and follow the organisation's seams across workshops."""

import zlib

import pandas as pd
import streamlit as st

from facilitation import journey_map as jm
from facilitation import room, trends, workshops
from pages import after_widgets
from pages.common import LIVE_POLL_SECONDS, require_facilitator, store
from pages import live as live_push

workshop = require_facilitator()
# As the room may see it: with names off, no name and no function that points at one or two people
# (this page is often shown on the wall too).
snap = room.anonymous_snapshot(workshops.snapshot(store(), workshop.id))
everything = jm.build_journey(snap)


@st.fragment(run_every=LIVE_POLL_SECONDS)
def changed_since_drawn():
    """Offer a redraw when the workshop changed; never redraw by itself under the reader's eyes."""
    live_push.follow(store(), workshop.id, "changed", topics={"stories", "people", "live"},
                     revision=snap.workshop.revision, min_interval=2.0)
    if workshops.revision(store(), workshop.id) != snap.workshop.revision:
        if st.button("New stories or changes since this map was drawn: redraw", icon=":material/refresh:"):
            st.rerun(scope="app")


head, fresh = st.columns([3, 2], vertical_alignment="bottom")
with head:
    st.title("Journey map")
    st.text(workshop.title)
with fresh:
    changed_since_drawn()

choices = jm.map_exercises(snap)
f1, f2, f3 = st.columns([2, 2, 1.4])
functions = f1.multiselect("Functions", list(everything.functions), key="map-functions", placeholder="All functions",
                           help="Stories told in these functions' lanes or handed on to them.")
stages = f2.multiselect("Stages", list(everything.stages), key="map-stages", placeholder="All stages")
exercise = f3.selectbox("Exercise", [""] + list(choices), key="map-exercise",
                        format_func=lambda k: choices.get(k, "All exercises"))

view = jm.filter_snapshot(snap, functions=functions, stages=stages, exercises=[exercise] if exercise else None)
journey = everything if view is snap else jm.build_journey(view, whole=snap)

m1, m2, m3, m4 = st.columns(4)
m1.metric("Stories on the map", journey.story_count)
m2.metric("Handoffs", len(journey.handoffs))
m3.metric("Nobody picks up", len(journey.dead_ends))
m4.metric("Stages nobody owns", len(journey.uncovered_stages))
if journey.unplaced:
    st.caption(f"{journey.unplaced} stories name no function or stage and are not on the map.")

st.plotly_chart(jm.journey_figure(journey, theme="light"), width="stretch", theme=None,
                config={"displayModeBar": False}, key="map-figure")

st.subheader("Who hands the customer to whom")
st.caption("Left, the function that hands the customer on; right, the one that receives them. "
           "Each band is as wide as the stories that describe it and coloured by their mean gap.")
st.plotly_chart(jm.sankey_figure(journey, theme="light"), width="stretch", theme=None,
                config={"displayModeBar": False}, key="map-sankey")

st.subheader("Handoffs")
rows = jm.handoff_rows(journey)
if not rows:
    st.caption("No story in this selection names a function it hands the customer to.")
else:
    st.caption(jm.ranking_caption(journey) + " Select a row to read the stories behind it.")
    # A new key whenever the rows can change, so a selection never points at another handoff.
    table_key = f"handoffs-{zlib.crc32(repr((snap.workshop.revision, functions, stages, exercise)).encode()):08x}"
    picked = st.dataframe(
        pd.DataFrame(rows), hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
        key=table_key,
        column_config={
            "from": st.column_config.TextColumn("From"),
            "to": st.column_config.TextColumn("To"),
            "stage": st.column_config.TextColumn("Stage"),
            "stories": st.column_config.NumberColumn("Stories", format="%d"),
            "mean gap": st.column_config.NumberColumn("Mean gap", format="%.1f"),
            "weighted gap": st.column_config.NumberColumn("Weighted gap", format="%.2f",
                                                          help=jm.RANKING_RULE),
            "dead end": st.column_config.CheckboxColumn("Nobody picks up"),
            "what gets lost": st.column_config.TextColumn("What gets lost (sender)", width="large"),
            "receivers": st.column_config.NumberColumn("Receivers' answers", format="%d"),
            "what arrived": st.column_config.TextColumn("What arrived (receiver)", width="large"),
            "what was missing": st.column_config.TextColumn("What was missing (receiver)", width="large"),
            "judged by the customer": None,
            "judged by": st.column_config.TextColumn("Judged by", help="The customer (a quote, a ticket, a "
                                                     "score) or our own guess"),
        },
    )
    selected = picked.selection.rows if picked is not None else []
    if selected and 0 <= selected[0] < len(journey.handoffs):
        h = journey.handoffs[selected[0]]
        st.subheader("The stories behind this handoff")
        gap = f"{h.mean_gap:.1f}" if h.mean_gap is not None else "not scored"
        st.text(f"{h.from_function} → {h.to_function} at {h.stage} · {h.count} "
                f"{'story' if h.count == 1 else 'stories'} · mean gap {gap}"
                + (" · nobody downstream picks it up" if h.dead_end else ""))
        for a in h.accounts:
            with st.container(border=True):
                told_by = a.story.author_name or getattr(a.story, "proxy_name", None) or ""
                teller = " · ".join(x for x in (told_by, a.story.function) if x)
                st.text(teller)
                lines = [f"{label}: {value}" for label, value in
                         (("Promised", a.promise), ("Experienced", a.experience), ("What gets lost", a.lost))
                         if value.strip()]
                lines.append(f"Gap: {round(a.gap, 1):g} of 5" if a.gap is not None else "Gap: not scored")
                lines.append(f"Judged by the customer: {a.evidence}" if a.customer_judged and a.evidence.strip()
                             else "Judged by the customer" if a.customer_judged else "Judged by: our own guess")
                st.text("\n".join(lines))
        st.subheader(f"What {h.to_function} says actually arrived")
        if not h.arrivals:
            st.caption("Nobody on the receiving side has answered this handoff yet (What actually arrives).")
        for a in h.arrivals:
            with st.container(border=True):
                st.text("\n".join(f"{label}: {value}" for label, value in
                                  (("Arrived", a.arrived), ("Missing", a.missing)) if value.strip()))

after_widgets.follow_through_table(workshop)
st.subheader("Across workshops")
st.caption("Follow each seam from one workshop to the next: link the other workshops you facilitate. Only "
           "workshops whose join code and facilitator key you enter here (or that share this workshop's key) "
           "are in the trend; the organisation's name links nothing.")
linked = trends.series_members(store(), workshop.id)
with st.expander(f"Linked workshops ({len(linked)})" if linked else "Link another workshop",
                 expanded="linked_message" in st.session_state):
    if message := st.session_state.pop("linked_message", None):
        st.success("Linked. It is in the list below and in the trend.")
    for other in linked:
        l1, l2 = st.columns([4, 1], vertical_alignment="center")
        l1.text(f"{other.title} · {other.date.strftime('%d %b %Y')}")
        l2.button("Unlink", key=f"unlink-{other.id}", on_click=trends.unlink_workshop,
                  args=(store(), workshop.id, other.id))
    with st.form("link-workshop", clear_on_submit=True):
        k1, k2 = st.columns(2)
        other_code = k1.text_input("Its join code", max_chars=12)
        other_key = k2.text_input("Its facilitator key", type="password", max_chars=64)
        if st.form_submit_button("Link to this workshop's trend", icon=":material/link:"):
            try:
                added = trends.link_workshop(store(), workshop.id, other_code, other_key)
            except workshops.WorkshopInputError as exc:
                st.error(" ".join(exc.problems.values()))
            else:
                st.session_state["linked_message"] = f"Linked: {added.title}"
                st.rerun()
trend = trends.gap_trend(store(), workshop.id)
if trends.trend_workshop_count(trend) >= 2:
    st.caption(f"The mean gap of the {trends.DEFAULT_TOP} handoffs most stories describe, in each linked workshop "
               "(a handoff here is a pair of functions, all stages together). A falling line is a seam that is closing.")
    st.plotly_chart(trends.trend_figure(trend), width="stretch", theme=None, config={"displayModeBar": False},
                    key="map-trend")
else:
    st.caption(trends.TREND_EMPTY_NOTE + ".")
