"""Story bank on the projector: a column per function, each story under the practice it comes from
and over what the customer said afterwards, so the same habit in several functions is in sight."""

import streamlit as st

from pages.views import register
from pages.views.cards import draw_columns, pack

PER_COLUMN = 2
COLUMNS_PER_PAGE = 3


@register("story_bank")
def story_bank(screen, wall) -> None:
    from facilitation import i18n, room

    t = i18n.translator(screen.workshop.language)
    practice, said = wall.practice, wall.said_after

    def card(story) -> None:
        answers = story.answers if isinstance(story.answers, dict) else {}
        with st.container(border=True, key=f"story-{story.id}"):
            if practice is not None and answers.get(practice.name):
                with st.container(key=f"practice-{story.id}"):
                    st.text(t.gettext("Practice: {text}").format(text=answers[practice.name]))
            with st.container(key=f"headline-bank-{story.id}"):
                st.text(answers.get(screen.exercise.headline, ""))
            if said is not None and answers.get(said.name):
                with st.container(key=f"said-{story.id}"):
                    st.text(t.gettext("Afterwards: {text}").format(text=answers[said.name]))
            if by := screen.line(story):
                with st.container(key=f"byline-{story.id}"):
                    st.text(by)

    draw_columns(screen, pack(list(wall.groups.items()), lambda story: 1, PER_COLUMN),
                 lambda group: f"{t.gettext(group) if group == room.OTHER_FUNCTIONS else group} · " + t.ngettext(
                     "{n} practice", "{n} practices", len(wall.groups[group])).format(n=len(wall.groups[group])), card,
                 per_page=COLUMNS_PER_PAGE)
