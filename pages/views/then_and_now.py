"""Then and now on the projector: each company story beside where it is happening again today,
three to a screen, newest first (the stories come from facilitation/views/then_and_now.py)."""

import streamlit as st

from facilitation import room
from pages.views import register

PER_PAGE = 3


@register("then_and_now")
def then_and_now(screen, stories) -> None:
    exercise = screen.exercise
    if not stories or len(exercise.then_and_now) != 2:
        with st.container(key="then-empty"):
            st.text("The company's stories appear here as they are sent.")
        return
    then_field, now_field = exercise.then_and_now
    page = room.wall_page(stories, PER_PAGE, screen.slot)
    screen.show_page(page)
    with st.container(key="then-labels", horizontal=True):
        for side, label in (("a", "The story we tell about ourselves"), ("b", "Where it is happening again today")):
            with st.container(key=f"then-label-{side}"):
                st.text(label)
    for story in page.items:
        with st.container(border=True, key=f"then-card-{story.id}"):
            a, b = st.columns(2, gap="large")
            with a, st.container(key=f"then-side-a-{story.id}"):
                st.text(str(story.answers.get(then_field, "")))
            with b, st.container(key=f"then-side-b-{story.id}"):
                st.text(str(story.answers.get(now_field, "")) or "—")
            if line := screen.line(story):
                with st.container(key=f"byline-then-{story.id}"):
                    st.text(line)
