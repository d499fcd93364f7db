"""A story sent from a phone's browser straight to the server (POST /api/story), without a script run.

At a deadline a whole room presses Send within seconds. As a script run each Send waited in
Streamlit's queue of runs behind the rest of the room (seconds at 500 people on one process); as
a plain request it is checked and stored at once, and the phone says "Sent" as soon as the
answer comes. Its page is redrawn afterwards, paced by the push hub (`live_hub.redraw`), so
the projector's runs are not buried under 500 phone redraws.

The browser sends what the form shows: every text as typed, every choice as picked (pages/live.py
`send_by_post` reads them off the page). The same rules as the form's own Send apply
(workshops.submit_story: the live exercise, its timer and grace, every field's checks), and the
form's id is the story's idempotency key, so a retry, or the form's own Send pressed after it,
stores the story once. A refused story is kept as the draft, word for word; the phone then presses
the form's own Send, which checks again and shows each problem under its field.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from . import drafts, i18n, live_cache, workshops
from .exercises import library
from .store import Store
from .workshops import Clock

STORY_BODY_MAX_BYTES = 256_000  # every field of the longest form at its limit, with room for escapes


@dataclass(frozen=True)
class SendAnswer:
    """What /api/story answers: the HTTP status and the JSON body."""

    status: int
    ok: bool
    created: bool = False
    story_id: int | None = None
    workshop_id: int | None = None
    message: str = ""
    problems: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict:
        return {"ok": self.ok, "created": self.created, "story": self.story_id, "message": self.message,
                "problems": self.problems}


@dataclass(frozen=True)
class StoryPost:
    """A parsed POST /api/story body."""

    code: str
    token: str
    exercise_key: str
    form_id: str
    answers: dict
    session: str = ""  # the page's Streamlit session, to redraw it once the story is stored


def parse(body: bytes) -> StoryPost | SendAnswer:
    """The request body as a StoryPost, or the answer that refuses it (413 too long, 400 malformed)."""
    if len(body) > STORY_BODY_MAX_BYTES:
        return SendAnswer(413, False, message="Too long.")
    try:
        data = json.loads(body)
        code, token, exercise_key, form_id, answers = (
            data["code"], data["p"], data["exercise"], data["form"], data["answers"])
        session = data.get("session", "")
        if not all(isinstance(v, str) for v in (code, token, exercise_key, form_id, session)) or not isinstance(answers, dict):
            raise TypeError
        if not all(isinstance(k, str) and _answer_type_ok(v) for k, v in answers.items()):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        return SendAnswer(400, False, message="Malformed story.")
    return StoryPost(code, token, exercise_key, form_id, answers, session[:64])


def _answer_type_ok(value) -> bool:
    # What a form field holds as JSON: text, a choice, a scale point (int), a date (ISO text), or nothing.
    return value is None or isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def send_story(store: Store, post: StoryPost, clock: Clock = time.time) -> SendAnswer:
    """Check and store one story sent by a participant's browser; a refused one is kept as their draft."""
    workshop = live_cache.workshop_by_code(store, post.code)
    participant = live_cache.participant(store, workshop.id, post.token) if workshop else None
    if participant is None:
        return SendAnswer(403, False, message="Not a participant of this workshop.")
    _ = i18n.translator(workshop.language).gettext
    exercise = library().get(post.exercise_key)
    if exercise is None:
        return SendAnswer(404, False, workshop_id=workshop.id, message=_("This exercise no longer exists."))
    answers = {f.name: post.answers.get(f.name) for f in exercise.fields}
    result = take_story(store, participant, exercise.key, answers, post.form_id, clock)
    if result.ok:
        return SendAnswer(200, True, created=result.created, story_id=result.story.id, workshop_id=workshop.id,
                          message=_("Sent — thank you. You can add another below."))
    problems = {name: _(text) for name, text in result.problems.items()}
    return SendAnswer(422, False, workshop_id=workshop.id, message=" ".join(problems.values()), problems=problems)


def take_story(store: Store, participant: workshops.Participant, exercise_key: str, answers: dict, form_id: str,
               clock: Clock = time.time) -> workshops.SubmitResult:
    """Store a new story from a participant's form, by POST or by the form's own Send: a stored one is known
    at once to this process's cache of who has told a story (its page's redraw reads no room); a refused
    one keeps every word as the draft the form comes back with on any device."""
    result = workshops.submit_story(store, participant, exercise_key, answers, form_id, clock=clock)
    if result.ok:
        live_cache.told(store, participant.workshop_id, exercise_key, participant.id)
    else:
        drafts.save_draft(store, participant, exercise_key, answers, clock)
    return result
