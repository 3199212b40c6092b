"""The columns of a table of cases, as ``casewatch list`` and the dashboard show them:
which hide first in a narrow terminal, and how the columns whose texts can be cut share
its width (issue 13, point 1). Pure functions, no I/O, no Textual."""

from __future__ import annotations

from collections.abc import Mapping

COLUMN_PRIORITY = (
    "receipt",
    "stage",
    "label",
    "client",
    "status",
    "changed",
    "form",
    "days",
    "due",
    "checked",
)
"""The columns of a case from the most to the least important, for ``casewatch list``
and the dashboard alike (each shows those it has): a narrow terminal hides the last
first; the receipt number and the stage always show; the label and the client hide
after the status (issue 13, point 1); the response due date is shown where there is
room."""

ALWAYS_SHOWN = 2
"""The first columns of :data:`COLUMN_PRIORITY` shown however narrow the terminal."""

CUT_MIN = 16
"""Characters a column of texts that can be cut keeps at least (``…`` included) before
columns are hidden: enough to tell "Garcia, Maria (…" from "Garcia, Jose (I…" (issue 13,
point 1)."""


def share_width(
    narrowest: Mapping[str, int], widest: Mapping[str, int | None], width: int, gap: int
) -> dict[str, int]:
    """The columns that fit in ``width`` characters, each with its width in characters.

    ``narrowest`` gives, in table order, each column's key (one of
    :data:`COLUMN_PRIORITY`) and its narrowest width; ``gap`` characters separate two
    columns. The least important columns are hidden first while the others, at their
    narrowest, do not fit; the first :data:`ALWAYS_SHOWN` stay, even past ``width``.
    Then the columns of ``widest`` (those whose texts can be cut) share what is left,
    each up to its widest (None: as wide as the room allows), the narrower first so
    that what one leaves goes to the next; the others keep their narrowest. The result
    is in table order. Raises ValueError for a key not in :data:`COLUMN_PRIORITY`."""
    unknown = set(narrowest) - set(COLUMN_PRIORITY)
    if unknown:
        raise ValueError(f"columns not in COLUMN_PRIORITY: {', '.join(sorted(unknown))}")
    shown = list(narrowest)

    def needed() -> int:
        return sum(narrowest[key] for key in shown) + gap * (len(shown) - 1)

    for key in reversed(COLUMN_PRIORITY[ALWAYS_SHOWN:]):
        if needed() <= width:
            break
        if key in shown:
            shown.remove(key)
    widths = {key: narrowest[key] for key in shown}
    spare = width - needed()
    growing = sorted(
        (key for key in shown if key in widest),
        key=lambda key: (widest[key] is None, widest[key] or 0),
    )
    for index, key in enumerate(growing):
        share = max(0, spare) // (len(growing) - index)
        most = widest[key]
        grown = narrowest[key] + share if most is None else min(most, narrowest[key] + share)
        spare -= grown - narrowest[key]
        widths[key] = grown
    return widths
