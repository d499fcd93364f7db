"""Projector: what the room sees from 10 m. The join code and QR, the live prompt, the clock,
stories as they arrive in the exercise's own view, votes, a spotlight. Never an admin control."""

import base64
import html
import time

import streamlit as st

from facilitation import handoff_sides, i18n, live_cache, room, rounds, views, workshops
from facilitation.exercises import in_language
from pages import after_widgets
from pages import views as projector_views
from pages.common import LIVE_POLL_SECONDS, format_clock, projector_workshop, room as room_address, store, use_css
from pages.exercise_widgets import answer_text, story_card
from pages.projector_room import Screen
from pages import live as live_push

THEME = "light" if st.query_params.get("theme") == "light" else "dark"
use_css("projector.css")
if THEME == "light":
    use_css("projector_light.css")
workshop = projector_workshop()
if workshop is None:
    st.stop()

_ = i18n.translator(workshop.language).gettext
ngettext = i18n.translator(workshop.language).ngettext
if after_widgets.after_room_screen(workshop):
    st.stop()
snap = live_cache.snapshot(store(), workshop.id)
live = live_cache.live_exercise(store(), workshop.id)
join_link = room_address().join_url(workshop.code)


# A wall bigger than the screen turns its pages by the clock; the view's layout says how many it drew.
slot = room.rotation_slot(time.time())


@st.fragment(run_every=LIVE_POLL_SECONDS)
def follow_the_room():
    """Redraw when the workshop changed (woken by push); the clock ticks in the browser."""
    live_push.follow(store(), workshop.id, "follow", topics=workshops.TOPICS, revision=snap.workshop.revision,
                     min_interval=live_push.PROJECTOR_MIN_INTERVAL_S, page=True)
    # ">": the shared counter may be up to REVISION_TTL_S older than the snapshot drawn.
    if live_push.fragment_run_alone() and live_cache.revision(store(), workshop.id) > snap.workshop.revision:
        st.rerun(scope="app")
    if live.seconds_left(time.time()) is not None:
        live_push.countdown(live.item.deadline, key="projector-clock", look="projector", up=_("Time is up"),
                            spoken=_("{time} left"), color="#0f172a" if THEME == "light" else "#e2e8f0")
    elif live.item is not None:
        st.text(_("Locked"))


def join_panel(big: bool) -> None:
    """The code and a QR code that opens the join page with the code filled in."""
    with st.container(key="join-panel-big" if big else "join-panel", horizontal=not big, vertical_alignment="center"):
        # st.image has no alternative text; the address is the server's own, escaped all the same.
        png = base64.b64encode(live_cache.qr_png(join_link)).decode("ascii")
        size = 380 if big else 150
        st.html(f'<img src="data:image/png;base64,{png}" width="{size}" height="{size}" '
                f'alt="QR code that opens the join page: {html.escape(join_link, quote=True)}">')
        with st.container(key="join-code-big" if big else "join-code"):
            with st.container(key="join-code-text-big" if big else "join-code-text"):
                st.text(workshop.code)
            with st.container(key="join-link-text"):
                st.text(join_link.split("://", 1)[-1])


if after_widgets.opening_review_on_projector(workshop, live):
    follow_the_room()
    st.stop()

if live.item is None:
    with st.container(key="welcome"):
        with st.container(key="welcome-title"):
            st.text(workshop.title)
        with st.container(key="welcome-ask"):
            st.text(_("Join on your phone or laptop"))
        join_panel(big=True)
        with st.container(key="welcome-count"):
            st.text(_("{n} joined").format(n=i18n.format_number(len(snap.participants), workshop.language)))
    follow_the_room()
    st.stop()

item, exercise = live.item, in_language(live.exercise, workshop.language)
told = room.room_stories(snap, item)
labelled = room.labelled_functions(told, show_names=workshop.show_names)


def line(story) -> str:
    by = room.byline(story, show_names=workshop.show_names, labelled=labelled)
    return _("Other functions") if by == room.OTHER_FUNCTIONS else by


spotlight = next((s for s in told if s.id == live.spotlight_story_id), None)
if spotlight is not None:
    with st.container(key="spotlight"):
        with st.container(key="spotlight-headline"):
            st.text(spotlight.answers.get(exercise.headline, ""))
        with st.container(key="spotlight-byline"):
            st.text(line(spotlight))
        shown_handoff = handoff_sides.anonymous_handoffs(snap)  # names off: a lone sender is not named
        for f in exercise.fields:
            if f.name != exercise.headline and f.name in spotlight.answers:
                with st.container(key=f"spotlight-field-{f.name}"):
                    st.text(f"{f.label}\n{answer_text(f, spotlight.answers[f.name], workshop.language, shown_handoff=shown_handoff)}")
        for addition in snap.build_ons(spotlight.id):
            st.text(f"+ {addition.answers.get('addition', '')}")
    with st.container(key="spotlight-code"):
        st.text(_("Code {code}").format(code=workshop.code))
        follow_the_room()
    st.stop()

prompt_col, clock_col, join_col = st.columns([6, 1.3, 2.6], gap="medium", vertical_alignment="center")
with prompt_col:
    with st.container(key="prompt-title"):
        st.text(exercise.title + (f" · {rounds.round_label(exercise, live.round, _)}" if exercise.paced else ""))
    with st.container(key="prompt-question"):
        st.text(exercise.question)
    with st.container(key="counter", horizontal=True, gap="medium"):
        arrived = snap.stories_for(exercise.key)
        n_functions = len({s.function for s in arrived})
        st.text(ngettext("{n} story", "{n} stories", len(arrived)).format(n=len(arrived)) + " "
                + ngettext("from {n} function", "from {n} functions", n_functions).format(n=n_functions) + " · "
                + _("{n} in the room").format(n=len(snap.participants)))
        screen = Screen(workshop=workshop, snap=snap, exercise=exercise, told=told, labelled=labelled, slot=slot,
                        theme=THEME, note_slot=st.empty())
with clock_col:
    with st.container(key="clock"):
        follow_the_room()
with join_col:
    join_panel(big=False)

if not item.on_projector:
    with st.container(key="blind"):
        with st.container(key="blind-count"):
            n_in = len(snap.stories_for(exercise.key))
            st.text(ngettext("{n} story in", "{n} stories in", n_in).format(n=n_in))
        st.text(_("Collected blind — revealed all together"))
    st.stop()

counts = snap.vote_counts()


def dots_line(dots: int) -> str:
    return f"{'●' * min(dots, 12)} " + ngettext("{n} dot", "{n} dots", dots).format(n=dots)


if item.voting == "closed" and told:
    # The room's choice: the story with most dots fills the stage, the runners-up sit under it.
    ranking = room.ranked(told, counts)
    with st.container(key="vote-heading"):
        st.text(_("The room's choice"))
    winner, winner_dots = ranking[0]
    with st.container(key="choice-winner", border=True):
        with st.container(key="choice-winner-text"):
            st.text(winner.answers.get(exercise.headline, ""))
        with st.container(key="choice-winner-meta", horizontal=True, gap="large"):
            with st.container(key="choice-winner-dots", width="content"):
                st.text(dots_line(winner_dots))
            if by := line(winner):
                with st.container(key=f"byline-{winner.id}", width="content"):
                    st.text(by)
    runners = ranking[1:4]
    if runners:
        with st.container(key="choice-runners-label"):
            st.text(_("Next in the room's vote") + (" · " + _("the top {top} of {all}").format(
                top=1 + len(runners), all=len(ranking)) if len(ranking) > 1 + len(runners) else ""))
        columns = st.columns(3, gap="medium")
        for column, (story, dots) in zip(columns, runners):
            with column:
                story_card(exercise, story, show_author=False, compact=True, byline=line(story), dots=dots)
    st.stop()

if item.voting == "open":
    with st.container(key="vote-heading"):
        st.text(_("Voting is open — put your dots on your phone"))
    page = room.wall_page(room.ranked(told, counts), 6, slot)
    screen.show_page(page)
    columns = st.columns(3, gap="medium")
    for i, (story, dots) in enumerate(page.items):
        with columns[i % 3]:
            story_card(exercise, story, show_author=False, compact=True, byline=line(story), dots=dots)
    st.stop()


# The exercise's room view shapes what the room may see; its layout in pages/views/ draws it.
view = views.get(exercise.view_in_round(live.round))  # a paced exercise shows what its round is about
projector_views.layout(view.name)(screen, view.shape(told, exercise, snapshot=snap, labelled=labelled,
                                                     show_names=workshop.show_names))


@st.fragment(run_every=room.ROTATE_SECONDS)
def turn_the_pages():
    """A wall bigger than the screen shows its next page when its time is up (only such walls run this)."""
    if live_push.fragment_run_alone() and room.rotation_slot(time.time()) != slot:
        st.rerun(scope="app")


if screen.pages > 1:
    turn_the_pages()
