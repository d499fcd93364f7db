"""After the room: commitments that get done.

A commitment is a story of an exercise whose room view is "commitments" (One millimeter
forward). Its teller marks it done, partly done or dropped, with a line on what happened,
from their private participant link at any time after the workshop (no account). The latest
update is the commitment's status; a commitment nobody updated is still open.

    commitments(store, workshop_id)             # every visible commitment with its status
    set_status(store, participant, story_id, "done", "…")
    check_in(store, workshop_id)                # the 30-day check-in: by function pair, moved / open
    previous_open_commitments(store, workshop)  # the last linked workshop's open commitments
    commitment_ics(...), email_text(...), tracker_csv(...)

Workshops are linked only when the same facilitator can open them: the same facilitator key
(compared by its stored hash) and the same organisation. An organisation's name alone never
brings another workshop's commitments into a room.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable, Iterable
from urllib.parse import urlencode, urlsplit, urlunsplit

import icalendar
import sqlalchemy as sa

from . import i18n, input_rules, views
from .i18n import N_
from .exercises import Exercise, library
from .exports import spreadsheet_safe
from .store import Store, commitment_updates, opening_reviews, stories, workshops
from .trends import workshop_date
from .workshops import Participant, Story, Workshop, _bump, _stories_query, _story, _workshop

STATUSES = {"done": N_("Done"), "partly": N_("Partly done"), "dropped": N_("Dropped")}
OPEN = "open"
STATUS_LABELS = {OPEN: N_("Still open"), **STATUSES}
NOTE_MAX_CHARS = 300
CHECK_IN_DAYS = 30
Clock = Callable[[], float]


@dataclass(frozen=True)
class Commitment:
    """One commitment with what its teller said about it since."""

    story: Story
    exercise: Exercise
    action: str
    connects_to: str
    by_when: dt.date | None
    details: tuple[tuple[str, str], ...]  # (label, answer) of the other fields
    status: str = OPEN
    note: str = ""
    updated_at: float | None = None

    @property
    def id(self) -> int:
        return self.story.id

    @property
    def pair(self) -> tuple[str, str]:
        """(teller's function, the function it connects to)."""
        return self.story.function, self.connects_to

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def still_open(self) -> bool:
        """Open or partly done: what the next workshop reviews."""
        return self.status in (OPEN, "partly")


@dataclass(frozen=True)
class FollowThrough:
    made: int
    done: int
    partly: int
    dropped: int
    open: int

    def line(self, language: str | None = None) -> str:
        """'8 made · 3 done · 1 partly done · 1 dropped · 3 open' (in the workshop's `language`)."""
        _ = i18n.translator(language).gettext
        counts = {k: i18n.format_number(getattr(self, k), language) for k in ("made", "done", "partly", "dropped", "open")}
        return _("{made} made · {done} done · {partly} partly done · {dropped} dropped · {open} open").format(**counts)


@dataclass(frozen=True)
class StatusResult:
    ok: bool
    problems: dict[str, str]


@dataclass(frozen=True)
class CheckIn:
    """A past workshop's commitments, a month on."""

    workshop: Workshop
    commitments: list[Commitment]
    by_pair: dict[tuple[str, str], list[Commitment]]
    totals: FollowThrough
    days_since: int

    @property
    def moved(self) -> list[Commitment]:
        return [c for c in self.commitments if c.status in ("done", "partly")]

    @property
    def still_open(self) -> list[Commitment]:
        return [c for c in self.commitments if c.status == OPEN]


def commitment_exercises(lib: dict[str, Exercise] | None = None) -> dict[str, Exercise]:
    """The exercises whose stories are commitments."""
    lib = library() if lib is None else lib
    return {k: ex for k, ex in lib.items()
            if views.get(ex.room_view).collects_commitments or views.get(ex.report_view).collects_commitments}


def _date(value: object) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def as_commitment(story: Story, exercise: Exercise, update=None) -> Commitment:
    """A commitment from its story (and its latest update row, if any)."""
    a = story.answers
    date_field = next((f for f in exercise.fields if f.kind == "date"), None)
    skip = {exercise.headline, exercise.board_by, date_field.name if date_field else ""}
    # The field's name ("Serves"), not its question: these lines go into calendars and emails.
    details = tuple((f.name.replace("_", " ").capitalize(), str(a[f.name])) for f in exercise.fields
                    if f.name not in skip and a.get(f.name) not in (None, ""))
    return Commitment(
        story=story, exercise=exercise, action=str(a.get(exercise.headline, "")),
        connects_to=str(a.get(exercise.board_by, "")) if exercise.board_by else "",
        by_when=_date(a.get(date_field.name)) if date_field else None, details=details,
        status=update.status if update is not None else OPEN,
        note=update.note if update is not None else "",
        updated_at=update.created_at if update is not None else None,
    )


def _read_commitments(conn, workshop_id: int, participant_id: int | None = None) -> list[Commitment]:
    lib = commitment_exercises()
    if not lib:
        return []
    q = (_stories_query(workshop_id).where(stories.c.exercise_key.in_(list(lib)), stories.c.hidden == sa.false(),
                                           stories.c.builds_on.is_(None)))
    if participant_id is not None:
        q = q.where(stories.c.participant_id == participant_id)
    told = [_story(r) for r in conn.execute(q).all()]
    latest = {}
    for row in conn.execute(sa.select(commitment_updates).where(commitment_updates.c.workshop_id == workshop_id)
                            .order_by(commitment_updates.c.created_at, commitment_updates.c.id)):
        latest[row.story_id] = row
    return [as_commitment(s, lib[s.exercise_key], latest.get(s.id)) for s in told]


def commitments(store: Store, workshop_id: int, participant_id: int | None = None) -> list[Commitment]:
    """The workshop's visible commitments (one participant's, if given) in arrival order, with status."""
    with store.read() as conn:
        return _read_commitments(conn, workshop_id, participant_id)


def history(store: Store, story_id: int) -> list[tuple[float, str, str]]:
    """Every update of one commitment, oldest first: (time, status, note)."""
    with store.read() as conn:
        rows = conn.execute(sa.select(commitment_updates.c.created_at, commitment_updates.c.status,
                                      commitment_updates.c.note)
                            .where(commitment_updates.c.story_id == story_id)
                            .order_by(commitment_updates.c.created_at, commitment_updates.c.id)).all()
    return [(r.created_at, r.status, r.note) for r in rows]


def set_status(store: Store, participant: Participant, story_id: int, status: str, note: str = "",
               clock: Clock = time.time, gettext=lambda message: message) -> StatusResult:
    """The teller marks their own commitment done, partly done or dropped, with a line on what happened.

    Works whatever the workshop is doing (it is usually long over). Refuses a commitment that is
    not this participant's, an unknown status and a note that is too long; the note is stored as typed.
    """
    problems: dict[str, str] = {}
    if status not in STATUSES:
        problems["status"] = N_("Please choose done, partly done or dropped.")
    note = "" if note is None else str(note)
    if note.strip() and (p := input_rules.text_problem(note, max_chars=NOTE_MAX_CHARS, required=False,
                                                       what=N_("What happened"), gettext=gettext)):
        problems["note"] = p
    if problems:
        return StatusResult(False, problems)
    try:
        with store.write() as conn:
            row = conn.execute(sa.select(stories.c.id, stories.c.exercise_key, stories.c.builds_on, stories.c.hidden)
                               .where(stories.c.id == story_id, stories.c.participant_id == participant.id,
                                      stories.c.workshop_id == participant.workshop_id)).first()
            if row is None or row.builds_on is not None or row.exercise_key not in commitment_exercises():
                return StatusResult(False, {"_form": N_("You can only update your own commitments.")})
            conn.execute(sa.insert(commitment_updates).values(
                workshop_id=participant.workshop_id, story_id=story_id, participant_id=participant.id,
                status=status, note=note if note.strip() else "", created_at=clock()))
            _bump(conn, participant.workshop_id, "after")
    except sa.exc.OperationalError:
        return StatusResult(False, {"_form": N_("Not saved yet: the server is busy. Your note is still here; "
                                                "please press Save again in a moment.")})
    return StatusResult(True, {})


def follow_through(found: Iterable[Commitment]) -> FollowThrough:
    """Made, done, partly done, dropped and open, counted."""
    found = list(found)
    n = defaultdict(int)
    for c in found:
        n[c.status] += 1
    return FollowThrough(made=len(found), done=n["done"], partly=n["partly"], dropped=n["dropped"], open=n[OPEN])


def by_pair(found: Iterable[Commitment], functions: list[str]) -> dict[tuple[str, str], list[Commitment]]:
    """Commitments grouped by function pair, in the workshop's order of functions."""
    order = {f: i for i, f in enumerate(functions)}
    groups: dict[tuple[str, str], list[Commitment]] = defaultdict(list)
    for c in found:
        groups[c.pair].append(c)
    return dict(sorted(groups.items(), key=lambda kv: (order.get(kv[0][0], 99), order.get(kv[0][1], 99), kv[0])))


def check_in(store: Store, workshop_id: int, today: dt.date | None = None) -> CheckIn:
    """The check-in of a workshop: its commitments with status, by function pair, and the totals."""
    with store.read() as conn:
        w = _workshop(conn.execute(sa.select(workshops).where(workshops.c.id == workshop_id)).one())
        found = _read_commitments(conn, workshop_id)
    today = today or dt.date.today()
    return CheckIn(workshop=w, commitments=found, by_pair=by_pair(found, w.functions), totals=follow_through(found),
                   days_since=(today - workshop_date(w.held_on, w.created_at)).days)


def follow_through_by_workshop(store: Store, found: Iterable[Workshop]) -> list[dict]:
    """One row per workshop: date, title, made, done, partly done, dropped, open (oldest first)."""
    rows = []
    for w in sorted(found, key=lambda w: (workshop_date(w.held_on, w.created_at), w.id)):
        t = follow_through(commitments(store, w.id))
        rows.append({"date": workshop_date(w.held_on, w.created_at), "workshop": w.title, "made": t.made,
                     "done": t.done, "partly done": t.partly, "dropped": t.dropped, "open": t.open})
    return rows


# --- linked workshops: the same facilitator, the same organisation -----------------------------------

def _same_organisation(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


def linked_workshops(store: Store, workshop: Workshop) -> list[Workshop]:
    """This workshop and the others its facilitator can open (same key hash) of the same organisation,
    oldest first."""
    with store.read() as conn:
        key_hash = conn.execute(sa.select(workshops.c.facilitator_key_hash)
                                .where(workshops.c.id == workshop.id)).scalar_one_or_none()
        if key_hash is None:
            return []
        rows = conn.execute(sa.select(workshops).where(workshops.c.facilitator_key_hash == key_hash)).all()
    found = [_workshop(r) for r in rows if _same_organisation(r.organisation, workshop.organisation)]
    return sorted(found, key=lambda w: (workshop_date(w.held_on, w.created_at), w.created_at, w.id))


def previous_workshop(store: Store, workshop: Workshop) -> Workshop | None:
    """The latest linked workshop held before this one that has commitments, or None."""
    linked = linked_workshops(store, workshop)
    here = (workshop_date(workshop.held_on, workshop.created_at), workshop.created_at, workshop.id)
    earlier = [w for w in linked if w.id != workshop.id and
               (workshop_date(w.held_on, w.created_at), w.created_at, w.id) < here]
    for w in reversed(earlier):
        if commitments(store, w.id):
            return w
    return None


def previous_open_commitments(store: Store, workshop: Workshop) -> tuple[Workshop | None, list[Commitment]]:
    """The previous linked workshop and its commitments that are still open or partly done."""
    before = previous_workshop(store, workshop)
    if before is None:
        return None, []
    return before, [c for c in commitments(store, before.id) if c.still_open]


# --- "where we left off": the next workshop's opening agenda item ----------------------------------

@dataclass(frozen=True)
class OpeningReview:
    added_at: float
    shown_at: float | None
    ended_at: float | None

    def on_projector(self, live_item_opened_at: float | None) -> bool:
        """Shown and not ended, and no exercise opened since it was put up."""
        if self.shown_at is None or self.ended_at is not None:
            return False
        return live_item_opened_at is None or live_item_opened_at < self.shown_at


def opening_review(store: Store, workshop_id: int) -> OpeningReview | None:
    with store.read() as conn:
        row = conn.execute(sa.select(opening_reviews).where(opening_reviews.c.workshop_id == workshop_id)).first()
    return OpeningReview(row.added_at, row.shown_at, row.ended_at) if row else None


def _review_change(store: Store, workshop_id: int, **values) -> None:
    with store.write() as conn:
        found = conn.execute(sa.update(opening_reviews).where(opening_reviews.c.workshop_id == workshop_id)
                             .values(**values)).rowcount
        if not found:
            conn.execute(sa.insert(opening_reviews).values(workshop_id=workshop_id, **{"added_at": time.time(), **values}))
        _bump(conn, workshop_id, "live", "after")  # what the projector shows before the first exercise


def add_opening_review(store: Store, workshop_id: int, clock: Clock = time.time) -> None:
    """Put "where we left off" at the top of the agenda (the previous workshop's open commitments)."""
    _review_change(store, workshop_id, added_at=clock(), ended_at=None)


def show_opening_review(store: Store, workshop_id: int, clock: Clock = time.time) -> None:
    """Put the previous workshop's open commitments on the projector, until an exercise opens."""
    _review_change(store, workshop_id, shown_at=clock(), ended_at=None)


def end_opening_review(store: Store, workshop_id: int, clock: Clock = time.time) -> None:
    _review_change(store, workshop_id, ended_at=clock())


def remove_opening_review(store: Store, workshop_id: int) -> None:
    with store.write() as conn:
        conn.execute(sa.delete(opening_reviews).where(opening_reviews.c.workshop_id == workshop_id))
        _bump(conn, workshop_id, "live", "after")  # what the projector shows before the first exercise


# --- links, calendar, email, task tracker ------------------------------------------------------------

def page_url(base_url: str | None, page: str, **params: str) -> str:
    """The address of one of the app's pages on the server of `base_url` (any page's address)."""
    query = urlencode(params)
    if not base_url:
        return f"./{page}?{query}"
    parts = urlsplit(base_url)
    path = parts.path.rsplit("/", 1)[0] + "/" + page
    return urlunsplit((parts.scheme, parts.netloc, path, query, ""))


def participant_link(base_url: str | None, workshop: Workshop, participant: Participant) -> str:
    """The participant's private link: it opens "my commitments" after the workshop."""
    return page_url(base_url, "participate", code=workshop.code, p=participant.token)


def due_date(c: Commitment, workshop: Workshop) -> dt.date:
    """The commitment's date, or a month after the workshop when it has none."""
    return c.by_when or workshop_date(workshop.held_on, workshop.created_at) + dt.timedelta(days=CHECK_IN_DAYS)


def _description(c: Commitment, workshop: Workshop, link: str, _: Callable[[str], str] = N_) -> str:
    # English by default: the tracker's CSV is the facilitator's, its columns English
    lines = [c.action, ""]
    lines += [f"{label}: {value}" for label, value in c.details]
    if c.connects_to:
        lines.append(_("Connects {function} to {other}").format(function=c.story.function, other=c.connects_to))
    lines.append(_("From the workshop: {title}").format(title=workshop.title))
    if c.status != OPEN:
        lines.append(_("Status: {status}").format(status=_(c.status_label)) + (f" — {c.note}" if c.note else ""))
    if link:
        lines += ["", _("Mark it done, partly done or dropped: {link}").format(link=link)]
    return "\n".join(lines)


def commitment_ics(workshop: Workshop, found: Iterable[Commitment], link: Callable[[Commitment], str],
                   *, now: dt.datetime | None = None) -> bytes:
    """A calendar (.ics) with one all-day event per commitment on its date, a reminder the day
    before, and the link back in the description and URL (in the workshop's language; typed text as typed)."""
    _ = i18n.translator(workshop.language).gettext
    now = now or dt.datetime.now(dt.timezone.utc)
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Story Relay//commitments//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", _("Commitments · {title}").format(title=workshop.title))
    for c in found:
        url = link(c)
        event = icalendar.Event()
        event.add("uid", f"commitment-{workshop.code}-{c.id}@story-relay")
        event.add("dtstamp", now)
        day = due_date(c, workshop)
        event.add("dtstart", day)
        event.add("dtend", day + dt.timedelta(days=1))
        event.add("summary", _("Commitment: {action}").format(action=c.action))
        event.add("description", _description(c, workshop, url, _))
        if url.startswith(("http://", "https://")):
            event.add("url", url)
        event.add("transp", "TRANSPARENT")
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", _("Tomorrow: {action}").format(action=c.action))
        alarm.add("trigger", dt.timedelta(days=-1))
        event.add_component(alarm)
        cal.add_component(event)
    return cal.to_ical()


def email_text(workshop: Workshop, c: Commitment, link: str) -> str:
    """A follow-up email about one commitment, ready to paste (subject on the first line), in the
    workshop's language with its way of writing dates; what was typed stays as typed."""
    _ = i18n.translator(workshop.language).gettext
    day = i18n.format_date(due_date(c, workshop), workshop.language)
    lines = [_("Subject: My commitment from {title}: {action}").format(title=workshop.title, action=c.action), "",
             _("Hello,"), "",
             _("At {title} I committed to one small step, by {day}:").format(title=workshop.title, day=day), "",
             f"    {c.action}", ""]
    lines += [f"{label}: {value}" for label, value in c.details]
    if c.connects_to:
        lines.append(_("It connects {function} and {other}.").format(function=c.story.function, other=c.connects_to))
    if c.status != OPEN:
        lines += ["", _("Where it stands: {status}").format(status=_(c.status_label)) + (f" — {c.note}" if c.note else "")]
    if link:
        lines += ["", _("I keep it up to date here: {link}").format(link=link)]
    return "\n".join(lines)


TRACKER_COLUMNS = ["Title", "Description", "Due date", "Status", "Owner", "Owner's function", "Connects to",
                   "What happened", "Updated", "Workshop", "Link"]


def tracker_csv(workshop: Workshop, found: Iterable[Commitment], link: Callable[[Commitment], str]) -> bytes:
    """One row per commitment, in the columns task trackers import (Title, Description, Due date,
    Status …); UTF-8 with a BOM, cells made spreadsheet-safe. Owner names only when the workshop
    shows names."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(TRACKER_COLUMNS)
    for c in found:
        owner = (c.story.author_name or c.story.proxy_name or "") if workshop.show_names else ""
        updated = dt.datetime.fromtimestamp(c.updated_at, dt.timezone.utc).date().isoformat() if c.updated_at else ""
        row = [c.action, _description(c, workshop, ""), due_date(c, workshop).isoformat(), c.status_label, owner,
               c.story.function, c.connects_to, c.note, updated, workshop.title, link(c)]
        writer.writerow([spreadsheet_safe(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def after_the_room(has_commitments: bool, live_state: str, held_on: dt.date | None, created_at: float,
                   today: dt.date | None = None) -> bool:
    """Whether a participant's link opens on "my commitments": they made one, and the room is not
    taking stories now (the last exercise is locked), or the workshop's day is over."""
    if not has_commitments:
        return False
    today = today or dt.date.today()
    return live_state != "open" or workshop_date(held_on, created_at) < today
