"""The synthetic city's files: their columns (as in docs/import-formats.md), the ground truth's, the defect
rates, and the open writers a run appends its rows to."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

__all__ = [
    "DEFECT_KINDS",
    "FILES",
    "HEADERS",
    "KIND_COLUMNS",
    "LATER_KINDS",
    "MORE_KINDS",
    "RULE_KINDS",
    "TRUTH_COLUMNS",
    "DefectRates",
    "Out",
    "Table",
    "date_cell",
]

# ---------------------------------------------------------------------------------------------------------
# Columns (English key, Chinese header) — the import kinds as in docs/import-formats.md
# ---------------------------------------------------------------------------------------------------------


def _cols(spec: str) -> tuple[tuple[str, str], ...]:
    return tuple((part.split(":")[0].strip(), part.split(":")[1].strip()) for part in spec.split(","))


_DWELLING_KEY = "community_code:社区代码, street:街路巷, number:门牌号, building:楼栋, unit:单元"
KIND_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    # Places carry since when they exist (valid_from), years before the residences, so past periods have them.
    "areas": _cols("code:代码, name:名称, level:级别, parent_code:上级代码, valid_from:起始日期"),
    "streets": _cols(
        "district_code:区县代码, name:名称, street_type:类型, numbering_style:编号样式, start_description:起点,"
        " bearing_deg:走向, valid_from:起始日期"
    ),
    "plates": _cols(
        "community_code:社区代码, street:街路巷, number:门牌号, plate_kind:门牌类型, status:状态, lon:经度,"
        " lat:纬度, chainage_m:里程, valid_from:起始日期"
    ),
    "buildings": _cols(
        "community_code:社区代码, street:街路巷, number:门牌号, building:楼栋, floors_above:地上层数,"
        " floors_below:地下层数, units:单元数, use:用途, structure:结构, year_built:建成年份, valid_from:起始日期"
    ),
    "dwellings": _cols(
        _DWELLING_KEY
        + ", floor:楼层, room:房号, use:用途, floor_area_m2:建筑面积, owner_name:产权人, status:状态,"
        " valid_from:起始日期"
    ),
    "persons": _cols(
        "id_number:证件号码, doc_type:证件类型, country:国籍, name:姓名, sex:性别, birth_date:出生日期,"
        " ethnicity:民族, hukou_region:户籍地区划, hukou_address:户籍地址, education:文化程度,"
        " marital_status:婚姻状况, occupation:职业, workplace:服务处所, phone:联系电话, community_code:管辖社区"
    ),
    "households": _cols(
        "household_number:户号, household_kind:户类型, community_code:社区代码, street:街路巷, number:门牌号,"
        " building:楼栋, unit:单元, room:房号, id_number:成员证件号码, doc_type:证件类型, relationship:与户主关系"
    ),
    "residences": _cols(
        "id_number:证件号码, doc_type:证件类型, " + _DWELLING_KEY + ", room:房号, category:居住类别,"
        " arrival_date:来住日期, registration_date:登记日期, intended_stay_until:拟住至, departure_date:离开日期,"
        " deregistration_date:注销日期, deregistration_reason:注销原因, destination:去向, stay_reason:暂住事由"
    ),
    # The leading columns of the import kinds rentals, venues and stays (an internet café's file says 上机时间 /
    # 下机时间 where a hotel's says 入住时间 / 退房时间; the importer takes both).
    "rentals": _cols(
        "landlord_id_number:出租人证件号码, " + _DWELLING_KEY + ", room:房号, lease_start:租赁起始日期,"
        " lease_end:租赁截止日期, monthly_rent:月租金, agreement_signed:签订治安责任书,"
        " tenant_id_numbers:承租人证件号码"
    ),
    "venues": _cols(
        "community_code:社区代码, street:街路巷, number:门牌号, venue_kind:场所类型, name:场所名称,"
        " licence_number:许可证号, status:营业状态"
    ),
    "hotel_stays": _cols(
        "venue:场所名称, community_code:社区代码, doc_type:证件类型, id_number:证件号码, name:姓名,"
        " check_in:入住时间, check_out:退房时间, reported_at:上报时间, country:国籍"
    ),
    "cafe_stays": _cols(
        "venue:场所名称, community_code:社区代码, doc_type:证件类型, id_number:证件号码, name:姓名,"
        " check_in:上机时间, check_out:下机时间, reported_at:上报时间, country:国籍"
    ),
    "justice_persons": _cols(
        "id_number:证件号码, name:姓名, sex:性别, birth_date:出生日期, community_code:管辖社区"
    ),
}

# File stem -> (import kind, header language); police first, in import order.
FILES: dict[str, tuple[str, str]] = {
    **{
        f"police_{kind}": (kind, "en")
        for kind in (
            "areas",
            "streets",
            "plates",
            "buildings",
            "dwellings",
            "persons",
            "households",
            "residences",
        )
    },
    "civil_affairs_areas": ("areas", "zh"),
    "civil_affairs_streets": ("streets", "zh"),
    "health_persons": ("persons", "zh"),
    "justice_persons": ("justice_persons", "zh"),
    "housing_dwellings": ("dwellings", "zh"),
    "housing_rentals": ("rentals", "zh"),
    "police_venues": ("venues", "en"),
    "venues_hotel_stays": ("hotel_stays", "zh"),
    "venues_cafe_stays": ("cafe_stays", "zh"),
}
HEADERS: dict[str, tuple[str, ...]] = {
    stem: tuple(en if lang == "en" else zh for en, zh in KIND_COLUMNS[kind])
    for stem, (kind, lang) in FILES.items()
}

_PLATE_KEY = ("community_code", "street", "number")
_DWELLING_COLS = ("community_code", "street", "number", "building", "unit", "room")
TRUTH_COLUMNS: dict[str, tuple[str, ...]] = {
    "plate_not_installed": (*_PLATE_KEY, "status"),
    "plate_missing": (*_PLATE_KEY, "reason"),
    "plate_wrong_side": (*_PLATE_KEY, "side", "chainage_m"),
    "plate_out_of_order": (*_PLATE_KEY, "side", "chainage_m", "swapped_with"),
    "duplicate_person": (
        "file",
        "id_number",
        "name",
        "true_doc_type",
        "true_id_number",
        "true_name",
        "error",
    ),
    "not_deregistered": ("doc_type", "id_number", "community_code", "departure_date"),
    "tenant_unregistered": ("doc_type", "id_number", *_DWELLING_COLS),
    "rental_no_agreement": (*_DWELLING_COLS, "landlord_id_number"),
    "vacant_recorded_occupied": _DWELLING_COLS,
}
DEFECT_KINDS: tuple[str, ...] = tuple(TRUTH_COLUMNS)

# The kinds added in stop 25 for the checks that had no truth (docs/checks.md). Planted only when asked for
# (`DefectRates.every_kind()`, `liangshi synth --more-kinds`), from a generator of their own, so a city written
# without them is byte for byte the city of before; their truth files are written only then.
MORE_KINDS: dict[str, tuple[str, ...]] = {
    # 有址无号, drawn: a building where people are registered living on a plate not installed (the planted
    # plate_not_installed plates that are lived at).
    "address_no_plate": (*_PLATE_KEY, "building", "status"),
    # 有号无址: an installed plate with nothing on it (no building in the police file, no dwelling in housing's).
    "number_without_place": (*_PLATE_KEY, "reason"),
    # An installed plate whose buildings the police file leaves out while the housing file names its dwellings.
    "plate_no_building": (*_PLATE_KEY, "dwellings_named"),
    # 号址不一: the housing file writes a dwelling at a neighbouring plate's number (`number` as it wrote it).
    "number_mismatch": (*_DWELLING_COLS, "register_number"),
    # 多号一址: a plate recorded at the point of its neighbour on the same side (both plates listed), and the
    # plates the geometry happened to put at one point (cause `coincident`).
    "many_numbers_one_place": (*_PLATE_KEY, "shares_point_with", "cause"),
    # An actual household in the police file without one of the members living with it.
    "household_member_missing": (*_DWELLING_COLS, "household_number", "left_out_id_number"),
    # A department record (health, justice) whose ID number fails its check: planted (a wrong check character)
    # and the duplicates written with a wrong or swapped digit.
    "id_invalid": ("file", "id_number", "name", "true_id_number", "error"),
    # A department record whose sound ID number disagrees with its sex or birth date: planted (the sex written
    # wrong) and the duplicates written with day and month swapped.
    "id_disagrees": ("file", "id_number", "name", "differs", "error"),
    # A renting household that left (its residences deregistered in the police file) while the housing file still
    # holds the rental open with them as its tenants: one row per tenant (`rental.departed_tenant`).
    "departed_tenant": ("doc_type", "id_number", *_DWELLING_COLS, "departure_date"),
    # A person living there (an open residence) lacking a main item (`person.main_items_missing`, stop 29): the
    # members household_member_missing leaves out (no relationship), and, at the rate main_items_missing (not in
    # `every_kind`, so the persons file of --more-kinds is that of before), an ethnicity or hukou place left blank.
    "main_items_missing": ("doc_type", "id_number", "missing"),
}

# The kinds of stop 29 (synth.generate.numbers, .items), each truth file written only when its own rate is asked
# for (`every_kind` asks for both), so a city of the stop-25 kinds has the truth files of before: a second record
# of a door's number in its community (legacy data), and a door on a street crossing into the next community
# registered there too (each plate with the other community).
LATER_KINDS: dict[str, tuple[str, ...]] = {
    "duplicate_number": (*_PLATE_KEY, "plates"),
    "one_number_many_places": (*_PLATE_KEY, "other_community"),
}

# Defects the generator does not plant at a rate but draws anyway, as a city has them: the truth of a dated rule
# broken by what was written (a stay left past its intended end, an arrival registered late, a lease run out while
# its tenants still live there, a foreign guest reported after 24 hours), as of the city's day. Their truth files
# sit in truth/ beside the planted kinds'.
RULE_KINDS: dict[str, tuple[str, ...]] = {
    "stay_expired": ("doc_type", "id_number", *_DWELLING_COLS, "intended_stay_until"),
    "registered_late": ("doc_type", "id_number", *_DWELLING_COLS, "arrival_date", "registration_date"),
    "lease_ended_open": (*_DWELLING_COLS, "lease_end"),
    "foreign_guest_late": ("venue", "doc_type", "id_number", "check_in", "reported_at"),
}


@dataclass(frozen=True)
class DefectRates:
    """Defect rates, each a fraction of its base (``CitySummary.defect_bases`` reports the base counts).

    - ``plate_not_installed``: of all plates (status left at planned/made);
    - ``plate_missing``: of all plates — only plates with no residents can be missing from the police extract
      (shop, office and vacant houses), the rate is applied to all plates through them;
    - ``plate_wrong_side`` / ``plate_out_of_order``: of street plates (wrong parity / swapped with the next
      plate on the same side, both plates labelled);
    - ``duplicate_person``: of the health and justice persons rows (the row carries a realistic error);
    - ``not_deregistered``: of departed floating persons (the register still shows them living there);
    - ``tenant_unregistered``: of renting households (their members are in the rentals only, not the police);
    - ``rental_no_agreement``: of rentals (agreement_signed = no);
    - ``vacant_recorded_occupied``: of vacant dwellings (the police extract says occupied).
    """

    plate_not_installed: float = 0.02
    plate_missing: float = 0.01
    plate_wrong_side: float = 0.01
    plate_out_of_order: float = 0.01
    duplicate_person: float = 0.03
    not_deregistered: float = 0.03
    tenant_unregistered: float = 0.03
    rental_no_agreement: float = 0.03
    vacant_recorded_occupied: float = 0.03
    # The kinds of stop 25 (MORE_KINDS), none unless asked for (`every_kind`): each a fraction of its base.
    # number_without_place, plate_no_building: of installed office plates; number_mismatch: of occupied
    # dwellings whose building, unit and room are unique on their street; many_numbers_one_place: of listed plates
    # (one pair per draw); household_member_missing: of actual households of two or more; id_invalid,
    # id_disagrees: of the health and justice rows written without an error; departed_tenant: of renting households
    # the police files hold (drawn from a generator of its own, ``Random(f"{seed}:{code}:departed_tenant")``).
    number_without_place: float = 0.0
    plate_no_building: float = 0.0
    number_mismatch: float = 0.0
    many_numbers_one_place: float = 0.0
    household_member_missing: float = 0.0
    id_invalid: float = 0.0
    id_disagrees: float = 0.0
    departed_tenant: float = 0.0
    # Stop 29: duplicate_number, one_number_many_places: of the plain plates (listed, installed, no other plate
    # kind; for 一号多址 the street plates of the district's previous community); main_items_missing: of the
    # Chinese residents over three with a resident ID written in the police persons file (ethnicity or hukou left
    # blank; not in `every_kind`, which leaves the persons file as before: scripts/bench_truth.py asks for it).
    duplicate_number: float = 0.0
    one_number_many_places: float = 0.0
    main_items_missing: float = 0.0
    # Not a defect: newborns in the health department's births file (synth.generate.births), of the women aged
    # 20 to 44 heading a household or a head's spouse; the file and truth/births.csv are written only then.
    births: float = 0.0
    # Stop 30, not a defect: community-correction cases in the justice department's file
    # (synth.generate.corrections), of the adults of 18 to 65 living there with a resident ID (a man's rate 1.6
    # times it, a woman's 0.4); the persons departed and the tenants unknown to the police files have rates of
    # their own there. The file and its truth files are written only then.
    corrections: float = 0.0

    @property
    def more(self) -> bool:
        """Whether any kind of stop 25 is asked for (its truth files are written then)."""
        return any(getattr(self, kind, 0.0) > 0 for kind in MORE_KINDS)

    @property
    def later(self) -> tuple[str, ...]:
        """The kinds of stop 29 asked for (their truth files are written then)."""
        return tuple(kind for kind in LATER_KINDS if getattr(self, kind) > 0)

    @classmethod
    def every_kind(cls) -> DefectRates:
        """The nine kinds at their rates and the kinds of stop 25 too."""
        return cls(
            number_without_place=0.2,
            plate_no_building=0.2,
            number_mismatch=0.02,
            many_numbers_one_place=0.02,
            household_member_missing=0.03,
            id_invalid=0.03,
            id_disagrees=0.03,
            departed_tenant=0.03,
            duplicate_number=0.01,
            one_number_many_places=0.03,
            births=0.01,
            corrections=0.001,
        )


# ---------------------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------------------


class Table:
    """One output file: a CSV writer (fixed ``\\n`` line ends, UTF-8) and optionally an XLSX sheet."""

    def __init__(self, path: Path, header: Sequence[str], xlsx: bool) -> None:
        self.path = path
        self.rows = 0
        self._fh: IO[str] = path.open("w", encoding="utf-8", newline="")
        self._csv = csv.writer(self._fh, lineterminator="\n")
        self._csv.writerow(header)
        self._wb: Any = None
        self._ws: Any = None
        if xlsx:
            # Imported here on purpose: openpyxl takes about half a second to import (it loads numpy), and only
            # a run that asks for XLSX files needs it.
            from openpyxl import Workbook

            self._wb = Workbook(write_only=True)
            self._ws = self._wb.create_sheet(path.stem[:31])
            self._ws.append(list(header))

    def write(self, row: Sequence[str]) -> None:
        self._csv.writerow(row)
        if self._ws is not None:
            self._ws.append(list(row))
        self.rows += 1

    def close(self) -> list[Path]:
        self._fh.close()
        if self._wb is None:
            return [self.path]
        xlsx_path = self.path.with_suffix(".xlsx")
        self._wb.save(xlsx_path)
        return [self.path, xlsx_path]


class Out:
    """All open tables of a run."""

    def __init__(self, out_dir: Path, xlsx: bool, more: bool = False, later: Sequence[str] = ()) -> None:
        (out_dir / "truth").mkdir(parents=True, exist_ok=True)
        self.files = {stem: Table(out_dir / f"{stem}.csv", HEADERS[stem], xlsx) for stem in FILES}
        kinds = TRUTH_COLUMNS | RULE_KINDS | (MORE_KINDS if more else {}) | {k: LATER_KINDS[k] for k in later}
        self.truth = {
            kind: Table(out_dir / "truth" / f"{kind}.csv", cols, False) for kind, cols in kinds.items()
        }
        self.bases = dict.fromkeys(DEFECT_KINDS + (tuple(MORE_KINDS) if more else ()) + tuple(later), 0)

    def close(self) -> list[Path]:
        paths: list[Path] = []
        for table in (*self.files.values(), *self.truth.values()):
            paths += table.close()
        return paths


def date_cell(value: dt.date | None) -> str:
    """A date as its file cell: ISO 8601, or empty."""
    return value.isoformat() if value else ""
