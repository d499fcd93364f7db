"""Unsent answers kept on the server as a participant types, so a refresh or a lost phone loses nothing.

Two ways in: `save_draft` keeps the whole form when a field is left (a script run), and
`save_typed` keeps the one text field being typed, posted by the browser while the person types
(facilitation/routes.py, no script run). A story once sent takes its draft with it, in its own
transaction; `save_typed` refuses a form that has already been sent, so a save still on its way
when Send was pressed never brings the sent text back into the next, empty form.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import sqlalchemy as sa

from .exercises import library
from .store import Store, drafts, participants, stories, story_rounds
from .workshops import Clock, LiveExercise, Participant, _answers

DRAFT_MAX_CHARS = 200_000  # far above any field's limit: a draft keeps what was typed, checks come at Send
FORM_ID_MAX = 64  # the form's id is the story's idempotency key (workshops.submit_story)


def save_draft(store: Store, participant: Participant, exercise_key: str, answers: dict, clock: Clock = time.time) -> bool:
    """Keep what this participant has typed so far for one exercise; False if it could not be saved now."""
    kept = {k: v for k, v in answers.items() if v not in (None, "") and not (isinstance(v, str) and len(v) > DRAFT_MAX_CHARS)}
    try:
        with store.write() as conn:
            _put(conn, participant, exercise_key, kept, clock())
    except sa.exc.SQLAlchemyError:
        return False
    return True


def merge_draft(store: Store, participant: Participant, exercise_key: str, answers: dict,
                clock: Clock = time.time) -> bool:
    """Keep the answers of one part of a form (a round) in the draft, leaving the other fields' text as it is."""
    try:
        with store.write() as conn:
            row = conn.execute(sa.select(drafts.c.answers).where(drafts.c.participant_id == participant.id,
                                                                 drafts.c.exercise_key == exercise_key)).first()
            kept = dict(row.answers or {}) if row else {}
            for k, v in answers.items():
                if v in (None, "") or (isinstance(v, str) and len(v) > DRAFT_MAX_CHARS):
                    kept.pop(k, None)
                else:
                    kept[k] = v
            _put(conn, participant, exercise_key, kept, clock())
    except sa.exc.SQLAlchemyError:
        return False
    return True


def _put(conn, participant: Participant, exercise_key: str, answers: dict, now: float) -> None:
    updated = conn.execute(sa.update(drafts).where(drafts.c.participant_id == participant.id,
                                                   drafts.c.exercise_key == exercise_key)
                           .values(answers=answers, updated_at=now)).rowcount
    if not updated:
        conn.execute(sa.insert(drafts).values(workshop_id=participant.workshop_id, participant_id=participant.id,
                                              exercise_key=exercise_key, answers=answers, updated_at=now))


@dataclass(frozen=True)
class TypedResult:
    saved: bool
    status: int  # the HTTP status the route answers with
    message: str = ""


def save_typed(store: Store, participant: Participant, live: LiveExercise, exercise_key: str, form_id: str,
               field_name: str, text: str, clock: Clock = time.time) -> TypedResult:
    """Keep the text of one field as it is being typed, merged into this exercise's draft.

    Checked here, not trusted from the browser: the exercise is the live one and takes stories
    now, the field is one of its text fields, the text fits the field's limit, and the form has
    not been sent (a story with this form's id exists: nothing is saved).
    """
    exercise = library().get(exercise_key)
    if exercise is None or live.exercise is None or live.exercise.key != exercise_key or not live.accepting(clock()):
        return TypedResult(False, 409, "This exercise is not taking answers now.")
    field = next((f for f in exercise.fields if f.name == field_name), None)
    if field is None or not field.is_text:
        return TypedResult(False, 400, "No such text field in this exercise.")
    if not isinstance(text, str) or not isinstance(form_id, str) or not 0 < len(form_id) <= FORM_ID_MAX:
        return TypedResult(False, 400, "Malformed draft.")
    if len(text) > (field.max_chars or DRAFT_MAX_CHARS):
        return TypedResult(False, 413, f"Longer than this field's {field.max_chars} characters.")
    try:
        with store.write() as conn:
            # The same lock Send takes (workshops._store_story): either this save lands first and the story
            # takes it away, or the story is committed first and this save sees it.
            conn.execute(sa.select(participants.c.id).where(participants.c.id == participant.id).with_for_update())
            sent = conn.execute(sa.select(stories.c.id).where(stories.c.workshop_id == participant.workshop_id,
                                                              stories.c.idempotency_key == form_id)).first()
            if sent is None:  # a round of a paced exercise, sent as an addition to a story
                sent = conn.execute(sa.select(story_rounds.c.id).where(
                    story_rounds.c.workshop_id == participant.workshop_id,
                    story_rounds.c.idempotency_key == form_id)).first()
            if sent is not None:
                return TypedResult(False, 409, "This form was sent already.")
            row = conn.execute(sa.select(drafts.c.answers).where(drafts.c.participant_id == participant.id,
                                                                 drafts.c.exercise_key == exercise_key)).first()
            answers = dict(row.answers) if row else {}
            if text:
                answers[field_name] = text
            else:
                answers.pop(field_name, None)
            _put(conn, participant, exercise_key, answers, clock())
    except sa.exc.SQLAlchemyError:
        return TypedResult(False, 503, "Not saved yet: the server is busy.")
    return TypedResult(True, 200)


def load_draft(store: Store, participant: Participant, exercise_key: str) -> dict:
    """The draft for one exercise, or {}."""
    with store.read() as conn:
        row = conn.execute(sa.select(drafts.c.answers).where(drafts.c.participant_id == participant.id,
                                                             drafts.c.exercise_key == exercise_key)).first()
    return _answers(row.answers) if row else {}  # whatever was stored, something a form can show
