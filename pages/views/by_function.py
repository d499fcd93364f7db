"""By function on the projector: a column per function, the terminology wall in the last column."""

import streamlit as st

from facilitation import room
from pages.views import register


@register("by_function")
def by_function(screen, shaped) -> None:
    labelled = screen.labelled
    glossary_col = screen.grouped_wall(shaped.groups, lambda f: f if f in labelled else room.OTHER_FUNCTIONS,
                                       screen.first_name_only, per_column=3, columns_per_page=4,
                                       extra_column=bool(shaped.glossary))
    if shaped.glossary:
        terms = room.wall_page(shaped.glossary, 5, screen.slot)
        screen.pages = max(screen.pages, terms.pages)
        with glossary_col:
            with st.container(key="glossary-label"):
                st.text("Terminology wall" + (f" ({terms.number}/{terms.pages})" if terms.pages > 1 else ""))
            # Plain text in our own rows: a dataframe's canvas is too small to read from the back.
            for i, (term, meaning, _function) in enumerate(terms.items):
                with st.container(key=f"glossary-row-{i}"):
                    with st.container(key=f"glossary-term-{i}"):
                        st.text(term)
                    st.text(meaning)
