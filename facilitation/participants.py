"""The facilitator's corrections to who is in the room: merge a duplicate into the person, or remove one.

A phone that opened the join link twice, or a person who joined from a laptop and a phone,
shows up twice in "In the room". Merging moves the duplicate's stories, dots and drafts to
the person kept (their own draft and their own dot on the same story win) and removes the
duplicate; removing is for someone who has sent nothing.
"""

from __future__ import annotations

import sqlalchemy as sa

from .store import Store, drafts, participants, stories, votes
from .workshops import WorkshopInputError, _bump


def _both_in(conn, workshop_id: int, *ids: int) -> None:
    found = conn.execute(sa.select(sa.func.count()).select_from(participants)
                         .where(participants.c.workshop_id == workshop_id, participants.c.id.in_(ids))).scalar_one()
    if found != len(set(ids)):
        raise WorkshopInputError({"participant": "That person is no longer in this workshop. Reload the console."})


def merge_participants(store: Store, workshop_id: int, keep_id: int, duplicate_id: int) -> int:
    """Move everything of `duplicate_id` to `keep_id` and remove the duplicate; returns stories moved."""
    if keep_id == duplicate_id:
        raise WorkshopInputError({"participant": "Choose two different people to merge."})
    with store.write() as conn:
        _both_in(conn, workshop_id, keep_id, duplicate_id)
        moved = conn.execute(sa.update(stories).where(stories.c.workshop_id == workshop_id,
                                                      stories.c.participant_id == duplicate_id)
                             .values(participant_id=keep_id)).rowcount
        kept_votes = sa.select(votes.c.story_id).where(votes.c.participant_id == keep_id).scalar_subquery()
        conn.execute(sa.delete(votes).where(votes.c.participant_id == duplicate_id, votes.c.story_id.in_(kept_votes)))
        conn.execute(sa.update(votes).where(votes.c.participant_id == duplicate_id).values(participant_id=keep_id))
        kept_drafts = sa.select(drafts.c.exercise_key).where(drafts.c.participant_id == keep_id).scalar_subquery()
        conn.execute(sa.delete(drafts).where(drafts.c.participant_id == duplicate_id,
                                             drafts.c.exercise_key.in_(kept_drafts)))
        conn.execute(sa.update(drafts).where(drafts.c.participant_id == duplicate_id).values(participant_id=keep_id))
        conn.execute(sa.delete(participants).where(participants.c.id == duplicate_id))
        _bump(conn, workshop_id)
    return moved


def remove_participant(store: Store, workshop_id: int, participant_id: int) -> None:
    """Remove someone who has sent no story (their dots and drafts go with them)."""
    with store.write() as conn:
        _both_in(conn, workshop_id, participant_id)
        told = conn.execute(sa.select(sa.func.count()).select_from(stories)
                            .where(stories.c.participant_id == participant_id)).scalar_one()
        if told:
            raise WorkshopInputError({"participant": f"This person has sent {told} "
                                      f"{'story' if told == 1 else 'stories'}: merge them into the right person "
                                      "instead, so nothing is lost."})
        conn.execute(sa.delete(votes).where(votes.c.participant_id == participant_id))
        conn.execute(sa.delete(drafts).where(drafts.c.participant_id == participant_id))
        conn.execute(sa.delete(participants).where(participants.c.id == participant_id))
        _bump(conn, workshop_id)
