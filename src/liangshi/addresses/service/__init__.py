"""Street and door-plate use cases: the face of the package (callers keep `from liangshi.addresses import service`).

`core` names streets and plates and describes them; `match` matches free text to a standard address; `plates`
makes QR door plates and their printable sheets."""

from liangshi.addresses.models import ADDRESS as ADDRESS
from liangshi.addresses.models import STREET as STREET
from liangshi.addresses.service.core import (
    address_check,
    change_address,
    change_street,
    create_address,
    create_street,
    describe,
    describe_dwelling,
    describe_dwellings,
    describe_many,
    geojson,
    installation_rate,
    plate_changes,
    plate_counts_by_area,
    plate_gaps,
    plate_installed,
    plates_due,
    plates_of,
    propose_for_street,
    quality,
    street_check,
    street_view,
)
from liangshi.addresses.service.match import (
    MATCH_LEVELS,
    MAX_CANDIDATES,
    match_address,
    match_batch,
    match_within_plate,
)
from liangshi.addresses.service.plates import (
    plate_by_code,
    plate_cards,
    plate_contact,
    plate_qr,
    plate_sheet,
    set_plate_contact,
    sheet_places,
)

__all__ = [
    "ADDRESS",
    "MATCH_LEVELS",
    "MAX_CANDIDATES",
    "STREET",
    "address_check",
    "change_address",
    "change_street",
    "create_address",
    "create_street",
    "describe",
    "describe_dwelling",
    "describe_dwellings",
    "describe_many",
    "geojson",
    "installation_rate",
    "match_address",
    "match_batch",
    "match_within_plate",
    "plate_by_code",
    "plate_cards",
    "plate_changes",
    "plate_contact",
    "plate_counts_by_area",
    "plate_gaps",
    "plate_installed",
    "plate_qr",
    "plate_sheet",
    "plates_due",
    "plates_of",
    "propose_for_street",
    "quality",
    "set_plate_contact",
    "sheet_places",
    "street_check",
    "street_view",
]
