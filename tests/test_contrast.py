"""Contrast of the palette (WCAG 2 ratio, 4.5:1 for text): the projector's dark and light stylesheets,
the journey map's colours in both themes, and the ink on every gap colour."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from facilitation import journey_map as jm

ASSETS = Path(__file__).resolve().parent.parent / "assets"


def luminance(colour: str) -> float:
    r, g, b = (c / 255 for c in jm._rgb(colour))
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_the_ratio_is_the_wcag_one():
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_map_text_reads_on_its_paper(theme):
    t = jm._THEMES[theme]
    for name in ("text", "muted", "dead"):
        assert contrast(t[name], t["paper"]) >= 4.5, (theme, name, t[name])


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_labels_on_every_gap_colour_read(theme):
    span = jm._THEMES[theme]["gap_span"]
    for tenth in range(10, 51):
        fill = jm._colour_at(span, tenth / 10)
        assert contrast(jm._ink_on(fill), fill) >= 4.5, (theme, tenth / 10, fill)


def _text_colours(css: str) -> list[tuple[str, str]]:
    """(selector, colour) of every text colour in a stylesheet (not backgrounds or borders)."""
    found = []
    for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", re.sub(r"/\*.*?\*/", "", css, flags=re.S)):
        for colour in re.findall(r"(?<![-\w])color:\s*(#[0-9a-fA-F]{6})", body):
            found.append((" ".join(selector.split()), colour))
    return found


@pytest.mark.parametrize("sheet, backgrounds", [
    ("projector.css", ("#0f172a", "#1e293b")),  # the dark wall and its story cards
    ("projector_light.css", ("#f8fafc", "#ffffff")),  # the light wall and its cards
])
def test_projector_text_reads_on_the_wall_and_the_cards(sheet, backgrounds):
    css = (ASSETS / sheet).read_text(encoding="utf-8")
    colours = _text_colours(css)
    assert colours, sheet
    weak = []
    for selector, colour in colours:
        on = ("#ffffff",) if "join" in selector else backgrounds  # the join panel is white on both
        weak += [f"{selector}: {colour} on {bg} is {contrast(colour, bg):.2f}:1"
                 for bg in on if contrast(colour, bg) < 4.5]
    assert not weak, "\n".join(weak)
