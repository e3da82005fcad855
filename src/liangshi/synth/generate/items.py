"""Main items missing (`person.main_items_missing`, issue 15, stop 29): persons living there (an open residence
in the police files) whose person row or household leaves a main item out.

The truth is written with the kinds of stop 25 (``columns.MORE_KINDS``). Blanks are planted only when asked for
(``DefectRates.main_items_missing``, which `every_kind` leaves at 0, so the persons file of ``--more-kinds`` is
the file of before; scripts/bench_truth.py asks for 0.5 %): a Chinese resident with a resident ID, older
than three (a younger child is in the health department's file too, whose feed would fill the item in), written
in the police persons file with the ethnicity, or the hukou place (region and address), left blank — half each,
drawn from a generator of the person's own (``Random(f"{seed}:items:{id_number}")``), so every other value of the
city is the same with or without it. The members a household row leaves out (``household_member_missing``, of
``synth.generate.more``) lack the relationship to the head whatever the rate; both are in the truth.
"""

from __future__ import annotations

import random

import liangshi.synth.rules as R
from liangshi.synth.generate.community import Community, Household, Person
from liangshi.synth.generate.more import MorePlan

__all__ = ["note_open", "police_person_row"]

# Positions in the police persons row (columns.KIND_COLUMNS["persons"]).
_ETHNICITY, _HUKOU_REGION, _HUKOU_ADDRESS = 6, 7, 8


def _blanked(c: Community, m: Person) -> str | None:
    """Which main item the person's police row leaves blank, if any."""
    rate = c.city.rates.main_items_missing
    if rate <= 0 or m.doc_type != "resident_id" or m.country not in ("", "CHN"):
        return None
    if R.age_on(m.birth, c.today) <= 3:
        return None  # the health department's file holds the child too, and its feed fills the item in
    x = random.Random(f"{c.city.seed}:items:{m.id_number}").random()
    if x < rate / 2:
        return "ethnicity"
    return "hukou" if x < rate else None


def police_person_row(c: Community, m: Person, row: list[str]) -> list[str]:
    """The police persons row of the member, with the item drawn left blank."""
    item = _blanked(c, m)
    if item is None:
        return row
    blank = list(row)
    if item == "ethnicity":
        blank[_ETHNICITY] = ""
    else:
        blank[_HUKOU_REGION] = blank[_HUKOU_ADDRESS] = ""
    return blank


def note_open(c: Community, h: Household, m: Person, more: MorePlan | None) -> None:
    """The truth of a member whose police residence stands open: the main items the files leave out of them."""
    if more is None:
        return
    missing = [item for item in (_blanked(c, m),) if item is not None]
    if more.left_out.get(id(h)) is m:
        missing.append("relationship")
    if missing:
        c.city.out.truth["main_items_missing"].write([m.doc_type, m.id_number, ";".join(missing)])
