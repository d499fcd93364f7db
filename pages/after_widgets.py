"""Widgets for after the room, called from other pages with one line each: a participant's
"my commitments", the next workshop's "where we left off" agenda item and its projector screen,
and the follow-through table of the cross-workshop trend. Rules live in facilitation/follow_up.py."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from facilitation import follow_up, i18n, live_cache, room, themes
from facilitation.workshops import LiveExercise, Participant, Workshop
from pages import live as live_push
from pages.common import LIVE_POLL_SECONDS, facilitator_params, store, use_css

STATUS_ICONS = {"open": ":material/radio_button_unchecked:", "done": ":material/check_circle:",
                "partly": ":material/timelapse:", "dropped": ":material/cancel:"}


def _day(d: dt.date, language: str | None = None) -> str:
    return i18n.format_date(d, language)


def my_commitments(workshop: Workshop, participant: Participant, live: LiveExercise) -> bool:
    """Draw "my commitments" when the person's link opens after the room; True if it was drawn
    (the caller stops there). During the workshop it draws nothing."""
    if not follow_up.after_the_room(True, live.state, workshop.held_on, workshop.created_at):
        return False  # a room taking stories today: no read on every run of every phone
    mine = follow_up.commitments(store(), workshop.id, participant.id)
    if not follow_up.after_the_room(bool(mine), live.state, workshop.held_on, workshop.created_at):
        return False
    _ = i18n.translator(workshop.language).gettext
    link = follow_up.participant_link(st.context.url, workshop, participant)
    st.header(_("My commitments"))
    st.write(_("Mark each one done, partly done or dropped, and say in a line what happened. "
               "This page keeps working after the workshop: bookmark it, or add a commitment to your calendar."))
    for c in mine:
        with st.container(border=True, key=f"my-commitment-{c.id}"):
            st.text(c.action)
            facts = [_("By {day}").format(day=_day(follow_up.due_date(c, workshop), workshop.language))] + (
                [_("With {function}").format(function=c.connects_to)] if c.connects_to else [])
            st.caption(" · ".join(facts))  # our own words and the workshop's function names, no participant text
            st.markdown(f"{STATUS_ICONS.get(c.status, '')} **{_(c.status_label)}**")
            if c.note:
                st.text(c.note)
            with st.form(f"status-{c.id}", border=False):
                choice = st.radio(_("Where it stands"), list(follow_up.STATUSES), horizontal=True,
                                  index=list(follow_up.STATUSES).index(c.status) if c.status in follow_up.STATUSES else None,
                                  format_func=lambda s: _(follow_up.STATUSES[s]), key=f"status-choice-{c.id}")
                note = st.text_input(_("What happened (one line)"), value=c.note, max_chars=follow_up.NOTE_MAX_CHARS,
                                     key=f"status-note-{c.id}")
                if st.form_submit_button(_("Save"), type="primary", width="stretch"):
                    result = follow_up.set_status(store(), participant, c.id, choice or "", note, gettext=_)
                    if result.ok:
                        st.session_state["commitment_saved"] = c.id
                        st.rerun()
                    for message in result.problems.values():
                        st.error(_(message))
            if st.session_state.get("commitment_saved") == c.id:
                st.success(_("Saved."), icon=":material/check_circle:")
            left, right = st.columns(2)
            left.download_button(_("Add to calendar (.ics)"), follow_up.commitment_ics(workshop, [c], lambda _c: link),
                                 file_name=f"commitment-{c.id}.ics", mime="text/calendar", icon=":material/event:",
                                 on_click="ignore", key=f"ics-{c.id}", width="stretch")
            with right.popover(_("Copy as email"), icon=":material/mail:", width="stretch"):
                st.code(follow_up.email_text(workshop, c, link), language=None, wrap_lines=True)
    return True


# --- the next workshop: "where we left off" ---------------------------------------------------------

def opening_review_item(workshop: Workshop, live: LiveExercise) -> None:
    """The agenda's first item when the last linked workshop left commitments open."""
    before, still_open = follow_up.previous_open_commitments(store(), workshop)
    review = follow_up.opening_review(store(), workshop.id)
    if before is None or (not still_open and review is None):
        return
    with st.container(border=True, key="agenda-review"):
        a, b = st.columns([3, 2], vertical_alignment="center")
        shown = review is not None and review.on_projector(live.item.opened_at if live.item else None)
        state = ("on the projector" if shown else "done" if review and review.ended_at else
                 "on the agenda" if review else "not on the agenda")
        a.text(f"0. Where we left off\n{len(still_open)} open from {before.title} · {state}")
        with b:
            if review is None:
                st.button("Add to the agenda", key="review-add", width="stretch", icon=":material/playlist_add:",
                          on_click=follow_up.add_opening_review, args=(store(), workshop.id))
            elif shown:
                st.button("End review", key="review-end", width="stretch", icon=":material/stop:",
                          on_click=follow_up.end_opening_review, args=(store(), workshop.id))
            else:
                st.button("Show", key="review-show", width="stretch", type="primary" if live.item is None else "secondary",
                          icon=":material/present_to_all:",
                          on_click=follow_up.show_opening_review, args=(store(), workshop.id))
        if review is not None:
            st.caption("The projector shows last time's open commitments by function pair until you open an exercise.")


def opening_review_on_projector(workshop: Workshop, live: LiveExercise) -> bool:
    """Draw last workshop's open commitments on the projector while the review is up; True if drawn."""
    review = follow_up.opening_review(store(), workshop.id)
    if review is None or not review.on_projector(live.item.opened_at if live.item else None):
        return False
    before, still_open = follow_up.previous_open_commitments(store(), workshop)
    if before is None:
        return False
    t = i18n.translator(workshop.language)
    use_css("after_room.css")
    with st.container(key="checkin-title"):
        st.text(t.gettext("Where we left off"))
    with st.container(key="checkin-sub"):
        st.text(t.ngettext("{n} commitment still open from {title}", "{n} commitments still open from {title}",
                           len(still_open)).format(n=len(still_open), title=before.title))
    pairs_board(follow_up.by_pair(still_open, workshop.functions), show_names=workshop.show_names,
                language=workshop.language)
    return True


def pairs_board(groups: dict, *, show_names: bool, limit: int = 9, language: str | None = None) -> None:
    """Commitments by function pair in large text rows: status, the action, what happened. With names
    off, a teller's function with fewer than three people committing is shown as "Someone"."""
    _ = i18n.translator(language).gettext
    labelled = room.labelled_functions([c.story for found in groups.values() for c in found], show_names=show_names)
    columns = st.columns(3, gap="medium")
    for i, ((source, target), found) in enumerate(list(groups.items())[:limit]):
        source = source if source in labelled else _("Someone")
        with columns[i % 3]:
            with st.container(key=f"checkin-pair-{i}"):
                with st.container(key=f"checkin-pair-head-{i}"):
                    st.text(f"{source} → {target}" if target else source)
                for c in found[:4]:
                    with st.container(key=f"checkin-item-{c.id}", border=True):
                        with st.container(key=f"checkin-status-{c.status}-{c.id}"):
                            st.text(_(c.status_label))
                        st.text(c.action)
                        if c.note:
                            with st.container(key=f"checkin-note-{c.id}"):
                                st.text(c.note)
                        if show_names and c.story.author_name:
                            with st.container(key=f"checkin-who-{c.id}"):
                                st.text(c.story.author_name)


def follow_through_table(workshop: Workshop) -> None:
    """Made, done, open, dropped per workshop of this facilitator and organisation (the trend page)."""
    rows = follow_up.follow_through_by_workshop(store(), follow_up.linked_workshops(store(), workshop))
    if not any(r["made"] for r in rows):
        return
    st.subheader("Commitment follow-through")
    st.caption("What happened to each workshop's commitments, as their tellers marked them from their own links.")
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
                 column_config={"date": st.column_config.DateColumn("Date", format="D MMM YYYY"),
                                "workshop": st.column_config.TextColumn("Workshop")})


def console_links(workshop: Workshop) -> None:
    """The console's links to the themes and the check-in pages."""
    params = facilitator_params(workshop)
    st.page_link("pages/themes.py", label="Common themes", icon=":material/hub:", query_params=params)
    st.page_link("pages/check_in.py", label="30-day check-in", icon=":material/event_available:", query_params=params)


# --- the projector's after-the-room screens (/projector?code=…&view=check_in | themes) ----------------

def after_room_screen(workshop: Workshop) -> bool:
    """Draw the check-in or the confirmed themes on the projector when its address asks; True if drawn."""
    view = st.query_params.get("view")
    if view not in ("check_in", "themes"):
        return False
    use_css("after_room.css")
    revision = live_cache.revision(store(), workshop.id)

    @st.fragment(run_every=LIVE_POLL_SECONDS)
    def follow_updates():
        """Redraw when someone marks a commitment or the facilitator confirms a theme (pushed by the server)."""
        live_push.follow(store(), workshop.id, f"after-{view}", topics={"after", "live"}, revision=revision, page=True)
        if live_push.fragment_run_alone() and live_cache.revision(store(), workshop.id) > revision:
            st.rerun(scope="app")

    follow_updates()
    _ = i18n.translator(workshop.language).gettext
    if view == "check_in":
        check = follow_up.check_in(store(), workshop.id)
        t = check.totals
        with st.container(key="checkin-title"):
            st.text(_("{days}-day check-in · {title}").format(days=follow_up.CHECK_IN_DAYS, title=workshop.title))
        with st.container(key="checkin-sub"):
            st.text(_("{made} made · {done} done · {partly} partly · {dropped} dropped · {open} still open").format(
                made=t.made, done=t.done, partly=t.partly, dropped=t.dropped, open=t.open))
        if not check.commitments:
            st.text(_("No commitments were made in this workshop."))
        pairs_board(check.by_pair, show_names=workshop.show_names, language=workshop.language)
        return True
    found = themes.list_themes(store(), workshop.id, confirmed_only=True)
    by_topic = themes.topic_stories(store(), workshop.id)
    with st.container(key="checkin-title"):
        st.text(_("What we all hear"))
    with st.container(key="checkin-sub"):
        st.text(f"{room.counted(len(found), 'common theme')} across functions · {workshop.title}")
    columns = st.columns(3, gap="medium")
    for i, t in enumerate(found[:9]):
        with columns[i % 3]:
            with st.container(border=True, key=f"theme-card-{t.id}"):
                with st.container(key=f"theme-label-{t.id}"):
                    st.text(t.label)
                with st.container(key=f"theme-heard-{t.id}"):
                    st.text(t.heard_by_line(theme_labelled(workshop, t, by_topic)))
                for s in t.stories[:3]:
                    with st.container(key=f"theme-quote-{t.id}-{s.id}"):
                        st.text(themes.shorten(theme_quote(t, s), 140))
    return True


def theme_labelled(workshop: Workshop, theme, by_topic: dict) -> set[str]:
    """Functions that may be named next to a theme's stories (the room's anonymity rule, over the topic's stories)."""
    return room.labelled_functions(by_topic.get(theme.topic, list(theme.stories)), show_names=workshop.show_names)


def theme_quote(theme, story) -> str:
    topic = themes.TOPICS.get(theme.topic)
    return themes.story_text(story, topic) if topic else ""
