"""Unsent answers kept on the server as a participant types, so a refresh or a lost phone loses nothing."""

from __future__ import annotations

import time

import sqlalchemy as sa

from .store import Store, drafts
from .workshops import Clock, Participant, _answers

DRAFT_MAX_CHARS = 200_000  # far above any field's limit: a draft keeps what was typed, checks come at Send


def save_draft(store: Store, participant: Participant, exercise_key: str, answers: dict, clock: Clock = time.time) -> bool:
    """Keep what this participant has typed so far for one exercise; False if it could not be saved now."""
    kept = {k: v for k, v in answers.items() if v not in (None, "") and not (isinstance(v, str) and len(v) > DRAFT_MAX_CHARS)}
    try:
        with store.write() as conn:
            updated = conn.execute(sa.update(drafts).where(drafts.c.participant_id == participant.id,
                                                           drafts.c.exercise_key == exercise_key)
                                   .values(answers=kept, updated_at=clock())).rowcount
            if not updated:
                conn.execute(sa.insert(drafts).values(workshop_id=participant.workshop_id, participant_id=participant.id,
                                                      exercise_key=exercise_key, answers=kept, updated_at=clock()))
    except sa.exc.SQLAlchemyError:
        return False
    return True


def load_draft(store: Store, participant: Participant, exercise_key: str) -> dict:
    """The draft for one exercise, or {}."""
    with store.read() as conn:
        row = conn.execute(sa.select(drafts.c.answers).where(drafts.c.participant_id == participant.id,
                                                             drafts.c.exercise_key == exercise_key)).first()
    return _answers(row.answers) if row else {}  # whatever was stored, something a form can show
