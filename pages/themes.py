"""Common themes (facilitator): stories from different functions grouped on this server, to confirm,
rename, merge or split. Only confirmed themes reach the projector (its `view=themes`) and the report."""

import streamlit as st

from facilitation import live_cache, room, themes
from facilitation import workshops as W
from pages import after_widgets
from pages import live as live_push
from pages.common import LIVE_POLL_SECONDS, facilitator_params, projector_url, require_facilitator, store

workshop = require_facilitator()
revision = W.revision(store(), workshop.id)
found = themes.list_themes(store(), workshop.id)
by_topic = themes.topic_stories(store(), workshop.id)


def labelled_for(theme: themes.Theme) -> set[str]:
    return after_widgets.theme_labelled(workshop, theme, by_topic)


def quote(theme: themes.Theme, story) -> str:
    return after_widgets.theme_quote(theme, story)


@st.fragment(run_every=LIVE_POLL_SECONDS)
def follow_changes():
    live_push.follow(store(), workshop.id, "themes", topics={"after", "stories"}, revision=revision, page=True)
    if live_cache.revision(store(), workshop.id) > revision:
        st.rerun(scope="app")


follow_changes()


def act(action, *args) -> None:
    try:
        action(*args)
    except themes.ThemeInputError as exc:
        st.session_state["themes_problem"] = exc.message


def find() -> None:
    with st.spinner("Grouping the stories on this server…"):
        st.session_state["themes_note"] = themes.find_themes(store(), workshop.id)


head, links = st.columns([3, 2], vertical_alignment="bottom")
with head:
    st.title("Common themes")
    st.text(workshop.title)
with links:
    st.link_button("Confirmed themes on the projector ↗", projector_url(workshop) + "&view=themes",
                   icon=":material/present_to_all:", width="stretch")
    st.page_link("pages/console.py", label="Back to the console", icon=":material/tune:",
                 query_params=facilitator_params(workshop))
st.write("What customers say, what gets lost in handoffs and how teams keep customers, grouped across functions "
         "by a small model on this server (nothing leaves it). Confirm the themes the room should see; rename, "
         "merge or split the rest.")
n_stories = sum(len(v) for v in by_topic.values())
st.button("Find themes" if not found else "Group the unconfirmed stories again", type="primary" if not found else "secondary",
          icon=":material/hub:", on_click=find, disabled=n_stories < themes.MIN_THEME_STORIES,
          help="Confirmed themes stay as they are; suggestions are replaced.")
if note := st.session_state.pop("themes_note", ""):
    st.warning(note)
if problem := st.session_state.pop("themes_problem", None):
    st.error(problem)
if not found:
    st.caption(f"{room.counted(n_stories, 'story', 'stories')} to group so far." if n_stories else
               "Themes come from the Always be storytelling, Over the wall and Untold retention stories exercises.")
    st.stop()

methods = {t.method for t in found}
st.caption(f"{room.counted(len(found), 'theme')}, {sum(t.confirmed for t in found)} confirmed · grouped by "
           + (" and ".join(sorted("WordLlama (local model)" if m == "wordllama" else "TF-IDF (word overlap)" for m in methods))))

names = {t.id: t.label for t in found}
with st.expander("Merge themes", icon=":material/merge:"):
    picked = st.multiselect("Themes to merge (the first keeps its name)", list(names), format_func=names.get,
                            key=f"merge-{revision}")
    st.button("Merge", disabled=len(picked) < 2, on_click=act, args=(themes.merge_themes, store(), workshop.id, picked))

for t in found:
    labelled = labelled_for(t)
    with st.container(border=True, key=f"theme-{t.id}"):
        a, b = st.columns([4, 1.3], vertical_alignment="top")
        with a:
            st.text(("✓ " if t.confirmed else "") + t.label)
            st.caption(f"{t.topic_title} · {room.counted(len(t.stories), 'story', 'stories')} · "
                       + ("confirmed: on the projector and in the report" if t.confirmed else "suggestion"))
            st.text(t.heard_by_line(labelled))
            st.text(f"“{themes.shorten(quote(t, t.stories[0]), 160)}”")
        with b:
            if t.confirmed:
                st.button("Unconfirm", key=f"unconfirm-{t.id}", width="stretch",
                          on_click=act, args=(themes.confirm_theme, store(), workshop.id, t.id, False))
            else:
                st.button("Confirm", key=f"confirm-{t.id}", type="primary", width="stretch", icon=":material/check:",
                          on_click=act, args=(themes.confirm_theme, store(), workshop.id, t.id, True))
            st.button("Dismiss", key=f"dismiss-{t.id}", width="stretch", type="tertiary",
                      on_click=act, args=(themes.dismiss_theme, store(), workshop.id, t.id))
        with st.expander(f"Stories, rename, split ({len(t.stories)})"):
            moving = []
            for s in t.stories:
                line = room.byline(s, show_names=workshop.show_names, labelled=labelled)
                if st.checkbox("Move to a new theme", key=f"split-{t.id}-{s.id}-{revision}"):
                    moving.append(s.id)
                st.text(quote(t, s) + (f"\n— {line}" if line else ""))
            st.button("Split the ticked stories into a new theme", key=f"split-btn-{t.id}", disabled=not moving,
                      on_click=act, args=(themes.split_theme, store(), workshop.id, t.id, moving))
            new_name = st.text_input("New name", value=t.label, max_chars=themes.LABEL_MAX_CHARS, key=f"name-{t.id}-{revision}")
            st.button("Rename", key=f"rename-{t.id}", disabled=new_name == t.label,
                      on_click=act, args=(themes.rename_theme, store(), workshop.id, t.id, new_name))
