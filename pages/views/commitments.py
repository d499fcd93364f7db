"""Commitments on the projector: a column per function pair (who → whom), two to a column."""

from pages.views import register


@register("commitments")
def commitments(screen, board) -> None:
    labelled = screen.labelled
    screen.grouped_wall(board, lambda pair: f"{pair[0] if pair[0] in labelled else 'Someone'} → {pair[1]}",
                        screen.first_name_only, per_column=2, columns_per_page=4)
