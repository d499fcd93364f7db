"""The projector's journey map in Chromium at 1920×1080 with a generated 200-story workshop.

The screenshot is kept in artifacts/screens/projector_map_200.png for a person to look at; the
test checks in the drawn SVG what would make the map unreadable from the back of the room:
labels lying on top of each other, and the gap colourbar's title touching its top tick label.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from facilitation.demo import create_demo_workshop
from streamlit_browser import open_page, projector_path

pytestmark = pytest.mark.browser

SCREENS = Path(__file__).resolve().parent.parent / "artifacts" / "screens"

# Boxes of the map's text: gap labels and dead-end boxes (annotations with text), lane and stage
# names (axis ticks) and the colourbar's title and ticks, in page pixels.
_BOXES_JS = """
(root) => {
  const box = (el, kind) => { const r = el.getBoundingClientRect();
    return {kind, text: el.textContent.trim(), x0: r.left, y0: r.top, x1: r.right, y1: r.bottom}; };
  const out = [];
  root.querySelectorAll('g.annotation').forEach(g => {
    const t = g.querySelector('g.annotation-text-g');
    if (t && g.textContent.trim()) out.push(box(t, 'annotation'));
  });
  root.querySelectorAll('g.xtick text, g.ytick text').forEach(t => out.push(box(t, 'tick')));
  root.querySelectorAll('g.colorbar g.ycbaxis text, g.colorbar .cbaxis text, g.colorbar text').forEach(
    t => out.push(box(t, 'colourbar')));
  return out;
}
"""


def _overlap(a: dict, b: dict, slack: float = 2.0) -> float:
    """Area in px² where two boxes overlap, after shrinking each by `slack` px on every side."""
    w = min(a["x1"], b["x1"]) - max(a["x0"], b["x0"]) - 2 * slack
    h = min(a["y1"], b["y1"]) - max(a["y0"], b["y0"]) - 2 * slack
    return max(0.0, w) * max(0.0, h)


def test_projector_map_with_200_stories_at_1920x1080(browser, app_server, app_store):
    workshop, _key = create_demo_workshop(app_store, participants=60, stories=200, seed=11)
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="en-GB")
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        open_page(page, app_server + projector_path(app_store, workshop))
        chart = page.locator(".st-key-projector-map .js-plotly-plot, .js-plotly-plot").first
        chart.wait_for(state="visible")
        page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot g.annotation').length > 20")
        page.wait_for_timeout(800)  # let Plotly finish its layout pass
        SCREENS.mkdir(parents=True, exist_ok=True)
        shot = SCREENS / "projector_map_200.png"
        page.screenshot(path=str(shot))
        assert shot.stat().st_size > 50_000

        size = chart.bounding_box()
        assert size["width"] >= 1200 and size["height"] >= 700  # the map fills most of the screen
        boxes = chart.evaluate(_BOXES_JS)
        labels = [b for b in boxes if b["kind"] == "annotation" and b["x1"] > b["x0"]]
        assert len(labels) >= 20  # gap numbers and dead-end boxes are drawn
        clashes = [(a["text"], b["text"]) for i, a in enumerate(labels) for b in labels[i + 1:] if _overlap(a, b) > 0]
        assert len(clashes) <= 2, f"labels on top of each other: {clashes}"
        ticks = [b for b in boxes if b["kind"] == "tick" and b["text"]]
        assert not [(a["text"], b["text"]) for i, a in enumerate(ticks) for b in ticks[i + 1:] if _overlap(a, b) > 0]

        bar = [b for b in boxes if b["kind"] == "colourbar" and b["text"]]
        (five,) = {b["text"]: b for b in bar if b["text"] == "5"}.values()
        (title,) = [b for b in labels if b["text"].startswith("Gap")]
        assert title["y1"] <= five["y0"], "the colourbar title runs into its top tick label"
    finally:
        context.close()
