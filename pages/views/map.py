"""The journey map on the projector: the live map, the three latest stories beside it."""

import streamlit as st

from facilitation import journey_map
from pages.exercise_widgets import story_card
from pages.views import register


@register("map")
def map_view(screen, shaped) -> None:
    map_col, latest_col = st.columns([4, 1], gap="medium")
    with map_col:
        figure = journey_map.journey_figure(shaped.journey, theme=screen.theme, height=760,
                                            min_font_px=journey_map.ROOM_FONT_PX)
        st.plotly_chart(figure, width="stretch", theme=None, config={"displayModeBar": False}, key="projector-map")
    with latest_col, st.container(key="latest"):
        with st.container(key="latest-label"):
            st.text("Latest")
        for story in shaped.latest:
            story_card(screen.exercise, story, show_author=False, compact=True, byline=screen.line(story))
