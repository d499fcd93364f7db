"""The journey map: the live map with the latest stories beside it; in the report, the handoff
table (biggest gap first), the map as a picture and as a Word table, the biggest gaps story by
story, then every story by function. "handoffs" is its older report name."""

from __future__ import annotations

from dataclasses import dataclass

from .. import journey_map, room
from . import View, register


@dataclass(frozen=True)
class MapWall:
    journey: object         # journey_map.Journey of what the room may see
    latest: list            # the newest stories of this exercise, newest first


@register
class Map(View):
    name = "map"
    aliases = ("handoffs",)
    draws_map = True

    def shape(self, stories, exercise, *, snapshot, labelled, show_names):
        # Only what the room may see: exercises being collected blind stay off the map until revealed.
        seen = room.room_snapshot(snapshot)
        return MapWall(journey=journey_map.build_journey(seen, whole=seen), latest=list(reversed(stories))[:3])

    def report_section(self, w, ctx, ex, stories) -> None:
        from .. import report

        journey = ctx.journeys[ex.key]
        handoffs = journey_map.handoff_rows(journey)
        top = handoffs[:report.TOP_HANDOFFS]
        if not handoffs:
            w.paragraph("No story named a function it hands the customer to.")
        elif len(handoffs) > len(top):
            report._handoff_table(w, top, heading="The biggest gaps",
                                  caption=f"The {len(top)} handoffs with the biggest gap, of {len(handoffs):,}; "
                                          "all of them are listed after the map.")
        else:
            report._handoff_table(w, handoffs, heading="Handoffs, biggest gap first", caption="")
        report._map_sections(w, journey, ctx.pictures.get(ex.key), ctx.pending)
        if len(handoffs) > len(top):
            report._handoff_table(w, handoffs, heading="All handoffs, biggest gap first",
                                  caption=f"All {len(handoffs):,} handoffs.")
        report._gap_stories(w, ctx, journey)
        super().report_section(w, ctx, ex, stories)
