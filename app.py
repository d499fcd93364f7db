"""Story Relay: the entry point builds the navigation by role and nothing else.

`streamlit run app.py` finds the `app` (st.App) below and serves it: Streamlit's pages plus the
routes in facilitation/routes.py. Streamlit then runs this same file as the page script, where
`__name__` is "__main__", and that run builds the navigation.
"""

import base64
from pathlib import Path

import streamlit as st

if __name__ != "__main__":
    from facilitation import routes

    routes.trust_forwarded_headers_only_from_configured_proxies()
    app = st.App(__file__, routes=routes.routes(st.get_option("server.baseUrlPath")), middleware=routes.middleware(),
                 lifespan=routes.lifespan)
else:
    # Made once per browser session, not per run: st.Page looks its file up on the disk when it is made, and
    # reading the icon file each run was a third of a phone's run when a room of 500 redraws at once. Never
    # shared between sessions: st.navigation marks on the page object which page this session may run.
    if "story_relay_pages" not in st.session_state:
        # A file of our own, inlined: a material or emoji icon makes the browser fetch it from an outside font host.
        favicon = "data:image/png;base64," + base64.b64encode(Path(__file__).with_name("assets").joinpath("favicon.png").read_bytes()).decode()
        st.session_state["story_relay_pages"] = favicon, {
            "Participant": [
                st.Page("pages/join.py", title="Join", icon=":material/login:", default=True),
                st.Page("pages/participate.py", title="Your answers", icon=":material/edit_note:", url_path="participate"),
            ],
            "Facilitator": [
                st.Page("pages/new.py", title="New workshop", icon=":material/add_circle:"),
                st.Page("pages/console.py", title="Console", icon=":material/tune:", url_path="console"),
                st.Page("pages/projector.py", title="Projector", icon=":material/present_to_all:", url_path="projector"),
                st.Page("pages/map.py", title="Journey map", icon=":material/route:"),
                st.Page("pages/report.py", title="Report", icon=":material/description:", url_path="report"),
                st.Page("pages/themes.py", title="Themes", icon=":material/hub:", url_path="themes"),
                st.Page("pages/check_in.py", title="Check-in", icon=":material/event_available:", url_path="check_in"),
            ],
        }
    favicon, pages = st.session_state["story_relay_pages"]
    st.set_page_config(page_title="Story Relay", page_icon=favicon, layout="wide")
    # Only a signed-in facilitator sees a menu; participants and the projector see one page.
    is_facilitator = bool(st.session_state.get("facilitator_code"))
    page = st.navigation(pages, position="top" if is_facilitator else "hidden")
    page.run()
