"""The HTTP side of the server: st.App serves our routes, and every response keeps its address to itself."""

from __future__ import annotations

import urllib.request

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from facilitation import routes


def test_every_response_carries_no_referrer_policy():
    app = Starlette(routes=routes.routes(), middleware=routes.middleware())
    response = TestClient(app).get("/api/health")
    assert response.status_code == 200
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.browser
def test_streamlit_run_app_py_serves_pages_and_routes(app_server):
    """`streamlit run app.py` serves st.App: the health route and the page both carry the header."""
    with urllib.request.urlopen(f"{app_server}/api/health", timeout=10) as response:
        assert response.status == 200
        assert response.headers["Referrer-Policy"] == "no-referrer"
    with urllib.request.urlopen(f"{app_server}/", timeout=10) as response:
        assert response.headers["Referrer-Policy"] == "no-referrer"
