"""The room's own language: UI strings from gettext catalogues, dates and numbers by babel.

    t = translator("de")           # gettext.GNUTranslations (English for "en" or an unknown code)
    t.gettext("Join")              # "Beitreten"
    languages()                    # {"en": "English", "de": "Deutsch", ...}

The languages are found in the folder `locale/`: every `<code>/LC_MESSAGES/story_relay.po`
is one (English is the source language and needs no file). The `.po` files are compiled in
memory when first used (babel.messages), so there are no `.mo` files to keep current and a
translator adds a language by adding one `.po` file (and, optionally, `[translations.<code>]`
tables in the exercise files). `locale/story_relay.pot` is the template, extracted with
`pybabel extract -F babel.cfg -o locale/story_relay.pot .`.
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
import re
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.messages import mofile, pofile

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "story_relay"
SOURCE_LANGUAGE = "en"
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")


def N_(message: str) -> str:
    """Marks an English message for `pybabel extract` where it is defined; it is translated where it is shown."""
    return message


def _catalogue_path(code: str, locale_dir: Path) -> Path:
    return locale_dir / code / "LC_MESSAGES" / f"{DOMAIN}.po"


def language_name(code: str) -> str:
    """A language's name in that language ("Deutsch"), capitalised; the code if babel does not know it."""
    try:
        name = Locale.parse(code).get_display_name(code) or code
    except (ValueError, UnknownLocaleError):
        return code
    return name[:1].upper() + name[1:]


def languages(locale_dir: Path | None = None) -> dict[str, str]:
    """Every language a workshop can have: English first, then each catalogue in `locale_dir` by code."""
    locale_dir = locale_dir or LOCALE_DIR
    found = {SOURCE_LANGUAGE: language_name(SOURCE_LANGUAGE)}
    if locale_dir.is_dir():
        for folder in sorted(locale_dir.iterdir()):
            if LANGUAGE_CODE.match(folder.name) and _catalogue_path(folder.name, locale_dir).is_file():
                found.setdefault(folder.name, language_name(folder.name))
    return found


def known_language(code: object, locale_dir: Path | None = None) -> str:
    """`code` if a workshop can have it, else English (a workshop whose catalogue was removed still opens)."""
    return code if isinstance(code, str) and code in languages(locale_dir) else SOURCE_LANGUAGE


def _compile(po_path: Path, mtime: float) -> gettext.GNUTranslations:
    with po_path.open("rb") as f:
        catalogue = pofile.read_po(f, domain=DOMAIN)
    buffer = io.BytesIO()
    mofile.write_mo(buffer, catalogue, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


_compiled = lru_cache(maxsize=32)(_compile)


def translator(code: str | None, locale_dir: Path | None = None) -> gettext.NullTranslations:
    """The translations for a workshop's language; English (the msgids themselves) when there are none."""
    locale_dir = locale_dir or LOCALE_DIR
    if not code or code == SOURCE_LANGUAGE or not LANGUAGE_CODE.match(code):
        return gettext.NullTranslations()
    path = _catalogue_path(code, locale_dir)
    if not path.is_file():
        return gettext.NullTranslations()
    # Keyed on the file's time, so an edited catalogue is read again without a restart.
    return _compiled(path, path.stat().st_mtime)


# Languages that write every noun with a capital letter: a label keeps its capital inside a sentence.
NOUNS_CAPITALISED = {"de", "lb"}


def inside_sentence(label: str, code: str | None) -> str:
    """A label ("Prospects close to signing") as it reads inside a sentence: "To prospects close to signing";
    in German its capital stays ("An Interessenten kurz vor dem Abschluss")."""
    if (code or SOURCE_LANGUAGE).split("_")[0] in NOUNS_CAPITALISED or label[1:2].isupper():
        return label
    return label[:1].lower() + label[1:]


def _babel_locale(code: str | None) -> str:
    if not code or code == SOURCE_LANGUAGE:
        return "en_GB"  # the app's English writes "2 December 2026" and a 24-hour clock
    try:
        return str(Locale.parse(code or SOURCE_LANGUAGE))
    except (ValueError, UnknownLocaleError):
        return SOURCE_LANGUAGE


def format_date(value: dt.date | dt.datetime, code: str | None, style: str = "long") -> str:
    """A date as the language writes it ("2. Dezember 2026", "2 décembre 2026")."""
    return babel_dates.format_date(value, format=style, locale=_babel_locale(code))


def format_datetime(value: dt.datetime, code: str | None, style: str = "medium") -> str:
    """A date and time as the language writes it."""
    return babel_dates.format_datetime(value, format=style, locale=_babel_locale(code))


def format_time(value: dt.datetime | dt.time, code: str | None, style: str = "short") -> str:
    """A time of day as the language writes it ("14:05", "2:05 PM")."""
    return babel_dates.format_time(value, format=style, locale=_babel_locale(code))


def format_number(value: int | float, code: str | None) -> str:
    """A number with the language's separators ("1.234", "1 234", "1,234"); one babel cannot write
    (infinite, not a number) as Python writes it."""
    try:
        return babel_numbers.format_decimal(value, locale=_babel_locale(code))
    except (ArithmeticError, ValueError, TypeError):
        return str(value)


def format_percent(value: float, code: str | None) -> str:
    """A share (0.42) as the language writes a percentage ("42 %", "42%")."""
    return babel_numbers.format_percent(value, locale=_babel_locale(code))
