"""Pairs on the projector: the phase running with its prompt and clock, the room's tally, then every
pair (before any story) or one pair's story at a time with its two versions side by side."""

import streamlit as st

from facilitation import i18n, pairs, room
from facilitation.views.pairs import PairWall
from pages import live as live_push
from pages.views import register

BOARD_PER_PAGE, BOARD_PER_ROW = 12, 4


@register("pairs")
def pairs_wall(screen, shaped) -> None:
    if not isinstance(shaped, PairWall):  # the exercise names no side-by-side fields: the wall
        screen.wall(shaped)
        return
    _ = i18n.translator(screen.workshop.language).gettext
    if shaped.phase is not None:
        with st.container(key="phase-band", horizontal=True, vertical_alignment="center", gap="large"):
            with st.container(key="phase-text"):
                with st.container(key="phase-heading"):
                    st.text(shaped.phase_heading)
                with st.container(key="phase-prompt"):
                    st.text(shaped.phase.prompt)
            with st.container(key="phase-clock", width="content"):
                live_push.countdown(shaped.phase_deadline, key=f"projector-phase-clock-{shaped.phase_number}",
                                    look="metric", running=_("{clock} left in this phase"), up=_("Time is up for this phase."),
                                    color="#0f172a" if screen.theme == "light" else "#e2e8f0")
    count = shaped.tally
    if count is not None and count.marked:
        with st.container(key="tally", horizontal=True, vertical_alignment="center", gap="large"):
            with st.container(key="tally-label", width="content"):
                st.text(_("How we listened"))
            tally_field = screen.exercise.field(screen.exercise.tally)
            shown = {pairs.short_option(o): pairs.short_option(tally_field.option_label(o)) for o in tally_field.options}
            for i, (label, n) in enumerate(count.counts):
                with st.container(key=f"tally-count-{i}", width="content", horizontal=True, vertical_alignment="center"):
                    with st.container(key=f"tally-number-{i}", width="content"):
                        st.text(str(n))
                    st.text(shown.get(label, label))
            if count.waiting:
                with st.container(key="tally-waiting", width="content"):
                    st.text(_("{n} not marked yet").format(n=count.waiting))
    if not shaped.stories:
        if not shaped.board:
            with st.container(key="pairs-waiting"):
                st.text(_("Pairs appear here once the facilitator proposes them."))
            return
        page = room.wall_page(list(shaped.board), BOARD_PER_PAGE, screen.slot)
        screen.show_page(page)
        columns = st.columns(BOARD_PER_ROW, gap="medium")
        for i, (number, lines) in enumerate(page.items):
            with columns[i % BOARD_PER_ROW], st.container(border=True, key=f"board-pair-{number}"):
                with st.container(key=f"board-pair-head-{number}"):
                    st.text(_("Pair {n}").format(n=number))
                for role, who in lines:
                    st.text(f"{_(role)}: {who}")  # names are typed by people: never markdown
        return
    page = room.wall_page(shaped.stories, 1, screen.slot)
    screen.show_page(page)
    for story in page.items:
        with st.container(border=True, key=f"pair-{story.id}"):
            partner = story.answers.get(shaped.partner.name, "") if shaped.partner else ""
            with st.container(key=f"pair-head-{story.id}"):
                st.text(story.answers.get(screen.exercise.headline, ""))
            with st.container(key=f"byline-pair-{story.id}"):
                st.text(" & ".join(p for p in (story.author_name, partner) if p) if screen.workshop.show_names
                        else screen.line(story))
            a, b = st.columns(2, gap="large")
            for column, side, f in ((a, "a", shaped.left), (b, "b", shaped.right)):
                with column, st.container(key=f"pair-side-{side}-{story.id}"):
                    with st.container(key=f"pair-label-{side}-{story.id}"):
                        st.text(f.label)
                    st.text(story.answers.get(f.name, ""))
            # What else the pair said (what we would have offered, how they listened), under the two versions;
            # while a phase runs its band takes that room (the spotlight shows a story whole).
            rest = [f for f in shaped.others if story.answers.get(f.name)]
            if rest and shaped.phase is None:
                for column, f in zip(st.columns(len(rest), gap="large"), rest):
                    value = story.answers[f.name]
                    with column, st.container(key=f"pair-more-{f.name}-{story.id}"):
                        with st.container(key=f"pair-label-{f.name}-{story.id}"):
                            st.text(f.label)
                        st.text(pairs.short_option(f.option_label(value)) if f.name == screen.exercise.tally else str(value))
