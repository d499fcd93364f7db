"""The journey map on the projector: the live map, the three latest stories beside it (in a receivers'
round, one handoff from both ends and the latest answer)."""

import streamlit as st

from facilitation import i18n, journey_map
from pages.exercise_widgets import story_card
from pages.views import register


@register("map")
def map_view(screen, shaped) -> None:
    _ = i18n.translator(screen.workshop.language).gettext
    map_col, latest_col = st.columns([4, 1], gap="medium")
    with map_col:
        figure = journey_map.journey_figure(shaped.journey, theme=screen.theme, height=760,
                                            min_font_px=journey_map.ROOM_FONT_PX)
        st.plotly_chart(figure, width="stretch", theme=None, config={"displayModeBar": False}, key="projector-map")
        # Out of sight, for a screen reader (projector.css): the map as text.
        with st.container(key="map-in-words"):
            st.text("\n".join(journey_map.in_words(shaped.journey)))
    with latest_col, st.container(key="latest"):
        for i, h in enumerate(shaped.sides):  # one handoff from both ends: the sender's loss, the receiver's missing
            with st.container(key="sides-label"):
                st.text(_("Both sides"))
            with st.container(border=True, key=f"sides-{i}"):
                with st.container(key=f"sides-title-{i}"):
                    st.text(f"{h.from_function} → {h.to_function}")
                for part, who, texts in (("lost", _("{function}: lost").format(function=h.from_function), h.lost_texts),
                                         ("missing", _("{function}: missing").format(function=h.to_function),
                                          h.missing_texts)):
                    if texts:
                        with st.container(key=f"sides-{part}-label-{i}"):
                            st.text(who)
                        with st.container(key=f"sides-{part}-{i}"):
                            st.text(texts[0])
        with st.container(key="latest-label"):
            st.text(_("Latest"))
        for story in shaped.latest:
            story_card(screen.exercise, story, show_author=False, compact=True, byline=screen.line(story))
