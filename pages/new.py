"""Create a workshop: title, organisation, date, functions in the room, stages and the agenda."""

import datetime as dt

import pandas as pd
import streamlit as st

from facilitation import archive, i18n, throttle, workshops
from facilitation.exercises import library
from facilitation.input_rules import MAX_FUNCTIONS, MAX_STAGES, split_lines
from pages.common import client_address, countdown, plain, remember_facilitator, room, store

created = st.session_state.get("just_created")
if created:
    st.title("Your workshop is ready")
    st.success(f"Join code for the room: **{created['code']}**")
    st.write("Your facilitator key is shown only once. Keep it: it opens the console and the report "
             "from any browser. It is never part of an address: paste it into the sign-in form.")
    st.code(created["key"], language=None)
    address = room()
    st.text(f"Room's join link: {address.join_url(created['code'])}")
    (st.caption if address.reachable else st.warning)(address.explanation())
    if st.button("Open the console", type="primary", icon=":material/tune:"):
        del st.session_state["just_created"]
        st.switch_page("pages/console.py", query_params={"code": created["code"]})
    st.stop()

if deleted := st.session_state.pop("just_deleted", None):
    st.success(f"Workshop deleted with everything in it ({deleted[1]:,} records).", icon=":material/delete_forever:")
    st.text(deleted[0])  # a title someone typed: never markdown

restored = st.session_state.pop("just_restored", None)
if restored:
    st.success(f"Workshop restored. Join code: {restored['code']}", icon=":material/unarchive:")
    st.text(restored["title"])
    for notice in restored["notices"]:
        st.info(plain(notice))  # may quote what the archive held
    st.write("Open the console with the facilitator key the workshop had when it was archived.")
    st.page_link("pages/console.py", label="Open the restored workshop's console", icon=":material/tune:",
                 query_params={"code": restored["code"]})

st.title("New workshop")
st.write("Everything here can be left as it is: change the title and start.")
lib = library()
plan = pd.DataFrame([
    {"On agenda": True, "Order": i + 1, "Exercise": e.title, "Minutes": e.minutes, "What it asks": e.question}
    for i, e in enumerate(lib.values())
])
LIST_DEFAULTS = {"new-functions": workshops.default_functions, "new-stages": workshops.default_stages}


def follow_language() -> None:
    """The proposed functions and stages follow the chosen language until the facilitator edits them."""
    before, now = st.session_state.get("new-language-shown", i18n.SOURCE_LANGUAGE), st.session_state["new-language"]
    for key, defaults in LIST_DEFAULTS.items():
        if st.session_state.get(key) == "\n".join(defaults(before)):
            st.session_state[key] = "\n".join(defaults(now))
    st.session_state["new-language-shown"] = now


spoken = i18n.languages()
# No st.form: a form keeps typed lists in the browser until it is sent, so choosing a language could not
# tell untouched proposals (renamed into the new language) from the facilitator's own (kept as typed).
language = st.selectbox("Language of the room", list(spoken), format_func=spoken.get, key="new-language",
                        on_change=follow_language,
                        help="The participants' phones, the projector, the exercises' texts and the report use "
                             "it. What people type is never translated.")
for key, defaults in LIST_DEFAULTS.items():
    st.session_state.setdefault(key, "\n".join(defaults(language)))
st.session_state.setdefault("new-language-shown", language)
with st.container(border=True, key="new_workshop"):
    title = st.text_input("Title", placeholder="e.g. Where our customer story breaks", max_chars=200)
    c1, c2, c3 = st.columns(3)
    organisation = c1.text_input("Organisation", max_chars=200)
    facilitator = c2.text_input("Facilitator", max_chars=200)
    held_on = c3.date_input("Date", value=dt.date.today())
    c4, c5 = st.columns(2)
    functions_text = c4.text_area("Functions in the room, one per line", key="new-functions",
                                  height=240, help=f"From 2 to {MAX_FUNCTIONS} functions.")
    stages_text = c5.text_area("Lifecycle stages, in order, one per line", key="new-stages",
                               height=240, help=f"From 2 to {MAX_STAGES} stages.")
    show_names = st.toggle("Show participants' names on the projector and in the report", value=True)
    earlier_key = st.text_input("Facilitator key of an earlier workshop (optional)", type="password", max_chars=64,
                                help="Run this workshop with the same key to link it to your earlier ones: it can "
                                     "start by reviewing their open commitments, and its trends include them.")
    st.write("**Agenda** — tick the exercises to run, set their order and minutes.")
    edited = st.data_editor(
        plan, hide_index=True, width="stretch", disabled=["Exercise", "What it asks"],
        column_config={
            "Order": st.column_config.NumberColumn(min_value=1, max_value=50, step=1),
            "Minutes": st.column_config.NumberColumn(min_value=1, max_value=workshops.MAX_AGENDA_MINUTES, step=1),
        },
    )
    submitted = st.button("Create workshop", type="primary")

if submitted and (wait := throttle.create_rate.take(client_address())):
    countdown(wait, throttle.too_many_workshops)
elif submitted:
    by_title = {e.title: e.key for e in lib.values()}
    chosen = edited[edited["On agenda"]].sort_values("Order", kind="stable")
    agenda_plan = [(by_title[row["Exercise"]], int(row["Minutes"] or 0)) for _, row in chosen.iterrows()]
    try:
        workshop, key = workshops.create_workshop(
            store(), title=title, organisation=organisation, facilitator=facilitator, held_on=held_on,
            functions=split_lines(functions_text), stages=split_lines(stages_text),
            agenda_plan=agenda_plan, show_names=show_names, facilitator_key=earlier_key.strip() or None,
            language=language,
        )
    except workshops.WorkshopInputError as exc:
        throttle.create_rate.give_back(client_address())  # a refused form made nothing
        for field_name, message in exc.problems.items():
            st.error(f"{field_name.capitalize()}: {plain(message)}")  # a message may quote a typed name
    else:
        remember_facilitator(workshop.code, key)
        st.session_state["just_created"] = {"code": workshop.code, "key": key}
        st.rerun()

with st.expander("Restore a workshop from an archive (.json)", icon=":material/unarchive:"):
    st.write("An archive downloaded from a workshop's report page brings the whole workshop back on this server: "
             "agenda, participants, stories, votes and drafts.")
    upload = st.file_uploader("Workshop archive", type=["json"], key="archive_upload")
    if upload is not None:
        data = upload.getvalue()
        try:
            about = archive.describe_archive(data)
        except archive.ArchiveError as exc:
            st.error(plain(exc))  # may quote what the file held
        else:
            st.text(f"{about['title']}\n{about['organisation'] or ''} {about['held_on'] or ''}".strip())
            st.caption(about["summary"])
            if st.button("Restore this workshop", icon=":material/unarchive:", type="primary"):
                if wait := throttle.create_rate.take(client_address()):
                    countdown(wait, throttle.too_many_workshops)
                    st.stop()
                try:
                    result = archive.import_archive(store(), data)
                except archive.ArchiveError as exc:
                    st.error(plain(exc))
                else:
                    st.session_state["just_restored"] = {"title": result.workshop.title, "code": result.workshop.code,
                                                         "notices": list(result.notices)}
                    st.rerun()
