"""Report page: the Word report from a snapshot of the workshop, and beside it the stories as a
spreadsheet (CSV) and the whole workshop as an archive (JSON) that restores it on another server."""

import datetime as dt

import streamlit as st

from facilitation import after_report, archive, exports, figure_images, lifecycle, report, room, workshops
from pages.common import forget_facilitator, require_facilitator, store

workshop = require_facilitator()
figure_images.warm_up()  # start the picture browser now, so the first report does not wait for it
st.title("Report")
st.text(workshop.title)
st.write("The report is built from a snapshot of the workshop at the moment you press the button; "
         "stories that arrive afterwards keep flowing and appear in the next build. Hidden stories are left out.")

if st.button("Build the Word report", type="primary", icon=":material/description:"):
    bar = st.progress(0.0, text="Taking a snapshot of the workshop…")
    snap = workshops.snapshot(store(), workshop.id)
    document = report.build_report(snap, progress=lambda fraction, message: bar.progress(min(1.0, fraction), text=message),
                                   after_the_room=after_report.gather(store(), workshop))
    bar.progress(1.0, text="Ready.")
    # The same counts as the report's first page (additions said apart, as there).
    st.session_state["report"] = (workshop.id, document, dt.datetime.now(), report.story_counts(snap),
                                  len(snap.participants))

built = st.session_state.get("report")
if built and built[0] == workshop.id:
    _, document, built_at, (n_stories, n_additions), n_people = built
    stamp = built_at.strftime("%Y-%m-%d_%H%M")
    additions = f", with {room.counted(n_additions, 'addition')}" if n_additions else ""
    st.success(f"Report built at {built_at.strftime('%Y-%m-%d %H:%M')} with {room.counted(n_stories, 'story', 'stories')}"
               f"{additions} from {room.counted(n_people, 'participant')}.")
    st.download_button("Download the report (.docx)", document, file_name=f"story-relay-{workshop.code}-{stamp}.docx",
                       mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                       type="primary", icon=":material/download:", on_click="ignore")

st.subheader("Data")
st.write("Each download takes its own snapshot when you press it.")
stamp_now = dt.datetime.now().strftime("%Y-%m-%d_%H%M")
workshop_id = workshop.id


def _csv() -> bytes:
    return exports.stories_csv(workshops.snapshot(store(), workshop_id))


def _archive() -> bytes:
    return archive.archive_json(store(), workshop_id)


left, right = st.columns(2)
with left:
    st.download_button("Stories as a spreadsheet (.csv)", _csv,
                       file_name=f"story-relay-{workshop.code}-{stamp_now}-stories.csv", mime="text/csv",
                       icon=":material/table:", on_click="ignore",
                       help="One row per story with every answer; opens in Excel. Hidden stories are left out; "
                            "author names only when the workshop shows names.")
with right:
    st.download_button("Workshop archive (.json)", _archive,
                       file_name=f"story-relay-{workshop.code}-{stamp_now}-archive.json", mime="application/json",
                       icon=":material/archive:", on_click="ignore",
                       help="Everything about this workshop, hidden stories included, to restore it on another "
                            "Story Relay server; the same facilitator key opens the restored workshop. Keep the file "
                            "private: it holds the participants' personal links.")

st.subheader("When the workshop is over")
with st.expander("Delete this workshop and everything in it", icon=":material/delete_forever:"):
    st.write("Participants, stories, votes, drafts and the agenda are removed from this server for good. "
             "Download the report and the archive first if you want to keep them.")
    typed = st.text_input(f"Type the join code {workshop.code} to confirm", key="delete_confirm", max_chars=12)
    key = st.session_state.get("facilitator_key") or st.text_input(
        "Your facilitator key", type="password", max_chars=64, key="delete_key",
        help="Signed in by this browser's cookie: deleting everything asks for the key itself.")
    if st.button("Delete the workshop", icon=":material/delete_forever:", disabled=typed.strip().upper() != workshop.code):
        try:
            gone = lifecycle.delete_workshop(store(), workshop.id, key)
        except lifecycle.NotAllowed as exc:
            st.error(str(exc))
        else:
            forget_facilitator()
            st.session_state.pop("report", None)
            st.session_state["just_deleted"] = (workshop.title, sum(gone.values()))
            st.switch_page("pages/new.py")
