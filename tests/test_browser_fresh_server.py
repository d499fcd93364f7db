"""After a restart, the first visit to any page still goes through app.py's navigation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from conftest import start_streamlit, stop_streamlit
from streamlit_browser import open_page

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("path", ["/console", "/projector?code=NOSUCH", "/participate?code=NOSUCH&p=x"])
def test_first_visit_after_start_uses_the_app_navigation(browser, tmp_path, path):
    proc, base_url = start_streamlit(__import__("conftest").ROOT / "app.py", tmp_path, tmp_path / "server.log")
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        open_page(page, base_url + path)
        # Legacy multipage mode would list every file of pages/ (common, exercise_widgets …) in a sidebar.
        expect(page.locator('[data-testid="stSidebarNav"]')).to_have_count(0)
        expect(page.get_by_text("exercise widgets", exact=True)).to_have_count(0)
        page.close()
    finally:
        stop_streamlit(proc)
