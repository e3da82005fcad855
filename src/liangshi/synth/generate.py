"""The synthetic city: department extracts of a made-up Ezhou, with labelled defects and their ground truth.

``write_city`` generates the city community by community (each from its own ``Random(f"{seed}:{code}")``) and
appends rows to open CSV writers, so memory stays bounded whatever the size; only the set of issued ID numbers
(to keep them distinct) grows with the population. Same seed, persons and ``today`` give byte-identical CSV files.

Files (in ``out_dir``; column names exactly as in docs/import-formats.md, English headers for the police and
Chinese headers for the other departments):

- ``police_{areas,streets,plates,buildings,dwellings,persons,households,residences}.csv`` — import in this order;
- ``civil_affairs_{areas,streets}.csv``, ``health_persons.csv`` (children aged 0–3), ``justice_persons.csv``,
  ``housing_dwellings.csv``, ``housing_rentals.csv``;
- ``police_venues.csv`` (the hotels and internet cafés on their door plates), ``venues_hotel_stays.csv``,
  ``venues_cafe_stays.csv`` (their guests, naming the venue by community and name) — import these after the
  police files, in this order;
- ``truth/<defect>.csv`` — one file per defect kind with the keys of the affected objects.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from liangshi.addresses.rules import render_plate_number
from liangshi.common.codes import ezhou_areas
from liangshi.common.idnumber import region_name
from liangshi.synth import rules as R

__all__ = [
    "DEFECT_KINDS",
    "FILES",
    "HEADERS",
    "PERSONS_PER_COMMUNITY",
    "CitySummary",
    "DefectRates",
    "write_city",
]

PERSONS_PER_COMMUNITY = 3000

# ---------------------------------------------------------------------------------------------------------
# Columns (English key, Chinese header) — the import kinds as in docs/import-formats.md
# ---------------------------------------------------------------------------------------------------------


def _cols(spec: str) -> tuple[tuple[str, str], ...]:
    return tuple((part.split(":")[0].strip(), part.split(":")[1].strip()) for part in spec.split(","))


_DWELLING_KEY = "community_code:社区代码, street:街路巷, number:门牌号, building:楼栋, unit:单元"
KIND_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "areas": _cols("code:代码, name:名称, level:级别, parent_code:上级代码"),
    "streets": _cols(
        "district_code:区县代码, name:名称, street_type:类型, numbering_style:编号样式, start_description:起点,"
        " bearing_deg:走向"
    ),
    "plates": _cols(
        "community_code:社区代码, street:街路巷, number:门牌号, plate_kind:门牌类型, status:状态, lon:经度,"
        " lat:纬度, chainage_m:里程"
    ),
    "buildings": _cols(
        "community_code:社区代码, street:街路巷, number:门牌号, building:楼栋, floors_above:地上层数,"
        " floors_below:地下层数, units:单元数, use:用途, structure:结构, year_built:建成年份"
    ),
    "dwellings": _cols(
        _DWELLING_KEY
        + ", floor:楼层, room:房号, use:用途, floor_area_m2:建筑面积, owner_name:产权人, status:状态"
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
        " deregistration_date:注销日期, deregistration_reason:注销原因, destination:去向"
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


@dataclass(frozen=True)
class CitySummary:
    """What ``write_city`` wrote: rows per file (stem), defects per kind and their bases, and the paths."""

    out_dir: Path
    persons: int
    communities: int
    files: dict[str, int]
    defects: dict[str, int]
    defect_bases: dict[str, int]
    paths: tuple[Path, ...]


# ---------------------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------------------


class _Table:
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


class _Out:
    """All open tables of a run."""

    def __init__(self, out_dir: Path, xlsx: bool) -> None:
        (out_dir / "truth").mkdir(parents=True, exist_ok=True)
        self.files = {stem: _Table(out_dir / f"{stem}.csv", HEADERS[stem], xlsx) for stem in FILES}
        self.truth = {
            kind: _Table(out_dir / "truth" / f"{kind}.csv", cols, False)
            for kind, cols in TRUTH_COLUMNS.items()
        }
        self.bases = dict.fromkeys(DEFECT_KINDS, 0)

    def close(self) -> list[Path]:
        paths: list[Path] = []
        for table in (*self.files.values(), *self.truth.values()):
            paths += table.close()
        return paths


# ---------------------------------------------------------------------------------------------------------
# The objects of one community (held only while that community is written)
# ---------------------------------------------------------------------------------------------------------


@dataclass(eq=False, slots=True)
class _Street:
    name: str
    suffix: str
    style: str
    start: tuple[float, float]
    bearing: int
    chainage: float = 0.0
    next_number: dict[str, int] = field(default_factory=lambda: {"left": 1, "right": 2})
    last_base: dict[str, tuple[int, int] | None] = field(
        default_factory=lambda: {"left": None, "right": None}
    )
    plates: list[_Plate] = field(default_factory=list)


@dataclass(eq=False, slots=True)
class _Plate:
    street: _Street | None
    base: int
    sub: int | None
    side: str
    lon: float
    lat: float
    chainage: float | None
    wrong_side: bool = False
    status: str = "installed"
    missing: bool = False
    has_subs: bool = False
    buildings: list[_Building] = field(default_factory=list)

    def number(self) -> str:
        return render_plate_number(self.base, self.sub, self.street.style if self.street else "dash")

    def street_name(self) -> str:
        return self.street.name if self.street else ""


@dataclass(eq=False, slots=True)
class _Building:
    plate: _Plate
    label: str
    floors: int
    floors_below: int
    units: int | None
    use: str
    structure: str
    year: int
    dwellings: list[_Dwelling] = field(default_factory=list)


@dataclass(eq=False, slots=True)
class _Dwelling:
    building: _Building
    unit: int | None
    floor: int
    room: str
    use: str
    area: float
    owner: str = ""
    status: str = "vacant"  # the truth
    police_status: str = ""
    used: bool = False  # referenced by a household or residence row

    def key(self, code: str) -> list[str]:
        plate = self.building.plate
        unit = "" if self.unit is None else str(self.unit)
        return [code, plate.street_name(), plate.number(), self.building.label, unit, self.room]


@dataclass(eq=False, slots=True)
class _Person:
    doc_type: str
    id_number: str
    country: str
    name: str
    sex: str
    birth: dt.date
    ethnicity: str
    hukou_region: str
    hukou_address: str
    education: str
    marital: str
    occupation: str
    workplace: str
    phone: str
    relationship: str


@dataclass(eq=False, slots=True)
class _Household:
    number: str
    kind: str  # household kind: registered / actual
    category: str  # residence category of its members
    members: list[_Person]
    arrival: dt.date
    departed: bool = False
    dwelling: _Dwelling | None = None
    renting: bool = False
    unregistered: bool = False
    not_deregistered: bool = False


# ---------------------------------------------------------------------------------------------------------
# Planning the geography
# ---------------------------------------------------------------------------------------------------------

_DISTRICT_CENTRES = {"420704": (114.89, 30.39), "420703": (114.74, 30.53), "420702": (114.68, 30.10)}


@dataclass(frozen=True, slots=True)
class _CommunityPlan:
    code: str
    name: str
    level: str  # community / village
    township: str
    persons: int
    index: int


def _plan(persons: int) -> list[_CommunityPlan]:
    """Communities about 3,000 persons each; the first townships in gazetteer order get one each, then
    subdistricts (the urban core) weigh four times a town or township. Residents' committees 001–199 under
    subdistricts (and a town seat, 001, in towns with three or more communities), villages 200–399."""
    towns = [a for a in ezhou_areas() if a["level"] in ("subdistrict", "town", "township")]
    k = max(1, round(persons / PERSONS_PER_COMMUNITY))
    if k <= len(towns):
        counts = [1] * k + [0] * (len(towns) - k)
    else:
        weights = [4.0 if t["level"] == "subdistrict" else 1.0 for t in towns]
        extra = k - len(towns)
        shares = [extra * w / sum(weights) for w in weights]
        counts = [1 + int(s) for s in shares]
        order = sorted(range(len(towns)), key=lambda i: (-(shares[i] - int(shares[i])), i))
        for i in order[: k - sum(counts)]:
            counts[i] += 1
    plans: list[_CommunityPlan] = []
    index = 0
    for town, count in zip(towns, counts, strict=True):
        urban_n = village_n = 0
        for j in range(count):
            urban = town["level"] == "subdistrict" or (town["level"] == "town" and j == 0 and count >= 3)
            if urban:
                urban_n += 1
                code = f"{town['code']}{urban_n:03d}"
            else:
                code = f"{town['code']}{199 + village_n + 1:03d}"
                village_n += 1
            name = R.stem_name(R.COMMUNITY_STEMS, index) + ("社区" if urban else "村")
            plans.append(
                _CommunityPlan(code, name, "community" if urban else "village", str(town["code"]), 0, index)
            )
            index += 1
    base, rest = divmod(persons, len(plans))
    return [
        _CommunityPlan(p.code, p.name, p.level, p.township, base + (1 if i < rest else 0), p.index)
        for i, p in enumerate(plans)
    ]


def _centre(code: str, spread: float, parent: tuple[float, float]) -> tuple[float, float]:
    """A fixed point near the parent's centre (independent of the seed)."""
    rng = random.Random(f"geo:{code}")
    return parent[0] + rng.uniform(-spread, spread), parent[1] + rng.uniform(-spread, spread) * 0.8


@lru_cache(maxsize=512)
def _region_label(code: str) -> str:
    """Province + county name of a GB/T 2260 county code."""
    province = region_name(code[:2] + "0000") or ""
    county = region_name(code) or ""
    if code[2:4] != "00" and code[4:] != "00":
        city = region_name(code[:4] + "00") or ""
        if city and not city.endswith("辖区"):
            return province + city + county
    return province + county


# ---------------------------------------------------------------------------------------------------------
# One community
# ---------------------------------------------------------------------------------------------------------


def _d(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


class _City:
    """State shared across communities: issued ID numbers, street names per district, output."""

    def __init__(self, out: _Out, seed: int, today: dt.date, rates: DefectRates) -> None:
        self.out = out
        self.seed = seed
        self.today = today
        self.rates = rates
        self.issued: set[int] = set()
        self.passports: set[str] = set()
        self.street_names: dict[str, set[str]] = {}
        self.street_index: dict[str, int] = {}

    # -- identities ---------------------------------------------------------------------------------------

    def new_id(self, rng: random.Random, region: str, birth: dt.date, sex: str) -> str:
        """A fresh ID number (distinct from every one issued in this run)."""
        while True:
            number = R.id_number(region, birth, R.id_sequence(rng, sex))
            key = int(number[:17])
            if key not in self.issued:
                self.issued.add(key)
                return number

    def new_passport(self, rng: random.Random) -> str:
        while True:
            number = R.passport_number(rng)
            if number not in self.passports:
                self.passports.add(number)
                return number

    def street_name(self, rng: random.Random, district: str) -> tuple[str, str]:
        """A street name unique within the district: stem + suffix."""
        used = self.street_names.setdefault(district, set())
        while True:
            index = self.street_index.get(district, 0)
            self.street_index[district] = index + 1
            stem = R.stem_name(R.STREET_STEMS, (index * 37 + rng.randrange(7)) % (len(R.STREET_STEMS) * 11))
            suffix = R.STREET_SUFFIXES.pick(rng)
            if stem + suffix not in used:
                used.add(stem + suffix)
                return stem + suffix, suffix


class _Community:
    def __init__(self, city: _City, plan: _CommunityPlan) -> None:
        self.city = city
        self.plan = plan
        self.code = plan.code
        self.district = plan.code[:6]
        self.urban = plan.level == "community"
        self.rng = random.Random(f"{city.seed}:{plan.code}")
        self.today = city.today
        town_centre = _centre(
            plan.township, 0.02 if plan.township[6] == "0" else 0.07, _DISTRICT_CENTRES[self.district]
        )
        self.centre = _centre(plan.code, 0.012, town_centre)
        self.households: list[_Household] = []
        self.streets: list[_Street] = []
        self.plates: list[_Plate] = []
        self.dwellings: list[_Dwelling] = []  # residential, in creation order
        self.out_of_order: list[tuple[_Plate, _Plate]] = []
        self.landlords: dict[int, _Person] = {}

    # -- people -----------------------------------------------------------------------------------------

    def _person(
        self,
        rel: str,
        sex: str,
        age: int,
        *,
        surname: str | None,
        region: str,
        ethnicity: str,
        has_spouse: bool,
    ) -> _Person:
        rng = self.rng
        born = R.birth_date_for_age(rng, age, self.today)
        job, place = R.occupation(rng, age, not self.urban)
        return _Person(
            doc_type="resident_id",
            id_number=self.city.new_id(rng, region, born, sex),
            country="",
            name=R.person_name(rng, sex, surname),
            sex=sex,
            birth=born,
            ethnicity=ethnicity,
            hukou_region=region,
            hukou_address=_region_label(region)
            + R.COMMUNITY_STEMS[rng.randrange(len(R.COMMUNITY_STEMS))]
            + ("村" if rng.random() < 0.5 else "社区")
            + f"{rng.randint(1, 12)}组{rng.randint(1, 80)}号",
            education=R.education(rng, age, born.year),
            marital=R.marital_status(rng, age, rel, has_spouse),
            occupation=job,
            workplace=place,
            phone=R.mobile_phone(rng) if age >= 16 and rng.random() < 0.96 else "",
            relationship=rel,
        )

    def _family(self, kind: str, region: str) -> list[_Person]:
        rng = self.rng
        spec = R.household_members(rng, kind)
        family = R.SURNAMES.pick(rng)
        head_sex = spec[0][1]
        spouse_present = any(rel == "10" for rel, _, _ in spec)
        ethnicity = R.ETHNICITIES.pick(rng)
        people: list[_Person] = []
        # Children and the head's parents carry the father's surname: the head's, or the spouse's.
        kids_surname = family if head_sex == "1" or not spouse_present else R.SURNAMES.pick(rng)
        for rel, sex, age in spec:
            if rel == "02":
                surname: str | None = family
            elif rel in ("20", "30", "41", "42"):
                surname = kids_surname
            elif rel == "51":
                surname = family
            else:
                surname = None
            has_spouse = spouse_present and rel in ("02", "10")
            if kind == "three_gen_old" and rel in ("20", "38"):
                has_spouse = True
            eth = ethnicity if rel != "10" or rng.random() < 0.9 else "01"
            people.append(
                self._person(
                    rel, sex, age, surname=surname, region=region, ethnicity=eth, has_spouse=has_spouse
                )
            )
        return people

    def _overseas(self) -> list[_Person]:
        rng = self.rng
        sex = "1" if rng.random() < 0.6 else "2"
        age = rng.randint(22, 60)
        born = R.birth_date_for_age(rng, age, self.today)
        job, place = R.occupation(rng, age, False)
        if rng.random() < 0.5:
            country = R.FOREIGN_COUNTRIES.pick(rng)
            male, female, family = R.FOREIGN_NAMES[country]
            name = f"{rng.choice(male if sex == '1' else female)} {rng.choice(family)}"
            doc, number, eth, region = "passport", self.city.new_passport(rng), "", ""
        else:
            country, doc, eth = "", "hmt_residence_permit", "01"
            region = R.HMT_CODES.pick(rng)
            number = self.city.new_id(rng, region, born, sex)
            name = R.person_name(rng, sex)
        return [
            _Person(
                doc,
                number,
                country,
                name,
                sex,
                born,
                eth,
                "",
                "",
                R.education(rng, age, born.year),
                R.marital_status(rng, age, "02", False),
                job,
                place,
                R.mobile_phone(rng),
                "02",
            )
        ]

    def make_households(self) -> None:
        rng = self.rng
        target = self.plan.persons
        count = 0
        p_floating = 0.36 if self.urban else 0.17
        while count < target:
            number = f"{self.code}{len(self.households) + 1:04d}"
            x = rng.random()
            if x < 0.004:
                members = self._overseas()
                category, kind = "overseas", "actual"
                arrival = self.today - dt.timedelta(days=rng.randint(10, 3 * 365))
            elif x < 0.004 + p_floating:
                region = R.OUTSIDE_COUNTIES.pick(rng)
                members = self._family(R.FLOATING_HOUSEHOLDS.pick(rng), region)
                category, kind = "floating", "actual"
                arrival = self.today - dt.timedelta(days=rng.randint(10, 5 * 365))
            else:
                region = (
                    self.district
                    if rng.random() < 0.88
                    else rng.choice([c for c in R.EZHOU_COUNTIES if c != self.district])
                )
                members = self._family(R.LOCAL_HOUSEHOLDS.pick(rng), region)
                category = "resident" if region == self.district else "separated"
                kind = "registered"
                arrival = self.today - dt.timedelta(days=rng.randint(30, 30 * 365))
            if count + len(members) > target:
                members = members[: target - count]
            count += len(members)
            household = _Household(number, kind, category, members, arrival)
            if category == "floating" and rng.random() < 0.12:
                household.departed = True
            self.households.append(household)

    # -- housing -----------------------------------------------------------------------------------------

    def _new_street(self) -> _Street:
        rng = self.rng
        name, suffix = self.city.street_name(rng, self.district)
        start = R.offset(*self.centre, rng.randrange(360), rng.uniform(50, 500))
        street = _Street(
            name,
            suffix,
            R.NUMBERING_STYLES.pick(rng),
            (round(start[0], 6), round(start[1], 6)),
            rng.randrange(360),
            chainage=rng.uniform(5, 20),
        )
        self.streets.append(street)
        return street

    def _street_plate(self, street: _Street) -> _Plate:
        rng = self.rng
        street.chainage += rng.uniform(8, 35)
        side = "left" if rng.random() < 0.5 else "right"
        last = street.last_base[side]
        wrong = False
        if last is not None and rng.random() < 0.04:
            base, sub = last[0], last[1] + 1
            street.last_base[side] = (base, sub)
        else:
            if rng.random() < self.city.rates.plate_wrong_side:
                wrong = True
                other = "right" if side == "left" else "left"
                base = street.next_number[other]
                street.next_number[other] += 2
            else:
                if rng.random() < 0.05:  # a number reserved for vacant land
                    street.next_number[side] += 2
                base = street.next_number[side]
                street.next_number[side] += 2
                street.last_base[side] = (base, 0)
            sub = None
        if sub is not None:
            for plate in reversed(street.plates):
                if plate.base == base and plate.sub is None and plate.street is street:
                    plate.has_subs = True
                    break
        point = R.offset(*street.start, street.bearing, street.chainage)
        point = R.offset(*point, street.bearing + (-90 if side == "left" else 90), rng.uniform(8, 15))
        plate = _Plate(
            street,
            base,
            sub,
            side,
            round(point[0], 6),
            round(point[1], 6),
            round(street.chainage, 1),
            wrong_side=wrong,
        )
        street.plates.append(plate)
        self.plates.append(plate)
        return plate

    def _dwelling(
        self, building: _Building, unit: int | None, floor: int, room: str, use: str, area: float
    ) -> _Dwelling:
        d = _Dwelling(building, unit, floor, room, use, area)
        building.dwellings.append(d)
        if use == "residential":
            self.dwellings.append(d)
        else:
            d.status = "occupied" if self.rng.random() < 0.85 else "vacant"
            d.owner = R.person_name(self.rng, "1" if self.rng.random() < 0.6 else "2")
        return d

    def _compound(self, plate: _Plate, remaining: int) -> None:
        rng = self.rng
        small = rng.random() < 0.85  # an older walk-up on its own plate, else a gated compound
        n_buildings = 1 if small else rng.choice((1, 2, 2, 3, 4))
        for b in range(1, n_buildings + 1):
            if remaining <= 0:
                break
            if small:
                units, floors = rng.choice((1, 1, 2)), rng.choice((5, 6, 6, 7))
            else:
                units = rng.choices((1, 2, 3, 4), (20, 40, 25, 15))[0]
                floors = rng.choice((6, 7, 9, 11, 11, 12, 18, 18, 24, 26, 33))
            floors = max(5, min(floors, math.ceil(remaining * 1.05 / (units * 2))))
            high = floors > 7
            building = _Building(
                plate,
                f"{b}栋",
                floors,
                rng.choice((1, 2)) if high else 0,
                units,
                "residential",
                "钢混" if high else "砖混",
                rng.randint(2003, 2022) if high else rng.randint(1982, 2008),
            )
            plate.buildings.append(building)
            area = rng.choice((62.5, 75.0, 89.0, 96.5, 110.0, 125.0, 138.0))
            for unit in range(1, units + 1):
                for floor in range(1, floors + 1):
                    for index in (1, 2):
                        self._dwelling(
                            building,
                            unit,
                            floor,
                            str(floor * 100 + index),
                            "residential",
                            area + (3.5 if index == 2 else 0.0),
                        )
            remaining -= units * floors * 2

    def _shop_plate(self, plate: _Plate, office: bool) -> None:
        rng = self.rng
        if office:
            floors = rng.randint(3, 6)
            building = _Building(plate, "1栋", floors, 0, None, "office", "钢混", rng.randint(1995, 2020))
            plate.buildings.append(building)
            for floor in range(1, floors + 1):
                for index in (1, 2):
                    self._dwelling(building, None, floor, str(floor * 100 + index), "office", 120.0)
            return
        building = _Building(plate, "1栋", 2, 0, None, "commercial", "砖混", rng.randint(1985, 2015))
        plate.buildings.append(building)
        for index in range(1, rng.randint(1, 3) + 1):
            self._dwelling(building, None, 1, str(100 + index), "shop", rng.choice((30.0, 45.0, 60.0)))
        self._dwelling(building, None, 2, "201", "office", 80.0)

    def _village_house(self, number: int) -> None:
        rng = self.rng
        point = R.offset(*self.centre, rng.randrange(360), rng.uniform(0, 400))
        plate = _Plate(None, number, None, "", round(point[0], 6), round(point[1], 6), None)
        self.plates.append(plate)
        building = _Building(
            plate, "1栋", rng.choice((1, 2, 2, 3)), 0, None, "residential", "砖混", rng.randint(1985, 2020)
        )
        plate.buildings.append(building)
        self._dwelling(building, None, 1, "1", "residential", float(rng.choice((90, 120, 150, 180, 220))))

    def build_housing(self) -> None:
        rng = self.rng
        needed = len(self.households)
        if not self.urban:
            for number in range(1, math.ceil(needed * 1.1) + 1):
                self._village_house(number)
            return
        streets = [self._new_street() for _ in range(rng.randint(2, 6))]
        while len(self.dwellings) < needed * 1.08:
            plate = self._street_plate(rng.choice(streets))
            x = rng.random()
            if x < 0.45:
                self._compound(plate, math.ceil(needed * 1.08) - len(self.dwellings))
            else:
                self._shop_plate(plate, office=x > 0.88)
        for street in streets:  # numbers out of order: swap with the next plate on the same side
            by_side: dict[str, list[_Plate]] = {"left": [], "right": []}
            for plate in street.plates:
                if plate.sub is None and not plate.wrong_side and not plate.has_subs:
                    by_side[plate.side].append(plate)
            for side_plates in by_side.values():
                i = 0
                while i < len(side_plates) - 1:
                    if rng.random() < self.city.rates.plate_out_of_order / 2:
                        a, b = side_plates[i], side_plates[i + 1]
                        a.base, b.base = b.base, a.base
                        self.out_of_order.append((a, b))
                        i += 2
                    else:
                        i += 1

    # -- living -------------------------------------------------------------------------------------------

    def settle(self) -> None:
        """Households into dwellings; owners, renters, landlords, departures and defects."""
        rng = self.rng
        rates = self.city.rates
        order = list(self.dwellings)
        rng.shuffle(order)
        locals_ = [h for h in self.households if h.category in ("resident", "separated")]
        for household, dwelling in zip(self.households, order, strict=False):
            household.dwelling = dwelling
            dwelling.used = True
            head = household.members[0]
            if household.departed:
                dwelling.status = "vacant"
                dwelling.owner = R.person_name(rng, "1")
                household.not_deregistered = rng.random() < rates.not_deregistered
            elif household.category == "floating" and self.urban and rng.random() < 0.6:
                household.renting = True
                dwelling.status = "rented"
                landlord = rng.choice(locals_).members[0] if locals_ else head
                dwelling.owner = landlord.name
                self.landlords[id(dwelling)] = landlord
                household.unregistered = rng.random() < rates.tenant_unregistered
            else:
                dwelling.status = "occupied"
                dwelling.owner = head.name if household.kind == "registered" else R.person_name(rng, "1")
        for dwelling in self.dwellings:
            if not dwelling.used:
                dwelling.owner = R.person_name(rng, "1" if rng.random() < 0.6 else "2")
        # plates: missing from the police extract (only those nobody lives at) and not installed
        eligible = [p for p in self.plates if not any(d.used for b in p.buildings for d in b.dwellings)]
        p_missing = min(1.0, rates.plate_missing * len(self.plates) / len(eligible)) if eligible else 0.0
        for plate in eligible:
            plate.missing = rng.random() < p_missing
        for plate in self.plates:
            if rng.random() < rates.plate_not_installed:
                plate.status = rng.choice(("planned", "made"))

    # -- writing ------------------------------------------------------------------------------------------

    def write(self) -> None:
        out = self.city.out
        f, t = out.files, out.truth
        rng = self.rng
        code = self.code
        area_row = [code, self.plan.name, self.plan.level, self.plan.township]
        f["police_areas"].write(area_row)
        f["civil_affairs_areas"].write(area_row)
        for s in self.streets:
            row = [self.district, s.name, s.suffix, s.style, R.start_description(*s.start), str(s.bearing)]
            f["police_streets"].write(row)
            f["civil_affairs_streets"].write(row)
        out.bases["plate_not_installed"] += len(self.plates)
        out.bases["plate_missing"] += len(self.plates)
        street_plates = sum(len(s.plates) for s in self.streets)
        out.bases["plate_wrong_side"] += street_plates
        out.bases["plate_out_of_order"] += street_plates
        swapped = {id(a): b for a, b in self.out_of_order} | {id(b): a for a, b in self.out_of_order}
        for p in self.plates:
            number, street = p.number(), p.street_name()
            key = [code, street, number]
            chainage = "" if p.chainage is None else f"{p.chainage:.1f}"
            if p.missing:
                t["plate_missing"].write([*key, "shop_or_office" if p.street else "vacant_house"])
            else:
                f["police_plates"].write([*key, "door", p.status, f"{p.lon:.6f}", f"{p.lat:.6f}", chainage])
            if p.status != "installed":
                t["plate_not_installed"].write([*key, p.status])
            if p.wrong_side:
                t["plate_wrong_side"].write([*key, p.side, chainage])
            if id(p) in swapped:
                t["plate_out_of_order"].write([*key, p.side, chainage, swapped[id(p)].number()])
            for b in p.buildings:
                if not p.missing:
                    f["police_buildings"].write(
                        [
                            *key,
                            b.label,
                            str(b.floors),
                            str(b.floors_below),
                            "" if b.units is None else str(b.units),
                            b.use,
                            b.structure,
                            str(b.year),
                        ]
                    )
                for d in b.dwellings:
                    dkey = d.key(code)
                    truth_row = [*dkey[:5], str(d.floor), dkey[5], d.use, f"{d.area:.1f}", d.owner, d.status]
                    f["housing_dwellings"].write(truth_row)
                    if p.missing:
                        continue
                    status = d.status
                    if d.status == "vacant" and d.use == "residential":
                        out.bases["vacant_recorded_occupied"] += 1
                        if rng.random() < self.city.rates.vacant_recorded_occupied:
                            status = "occupied"
                            t["vacant_recorded_occupied"].write(dkey)
                    d.police_status = status
                    f["police_dwellings"].write([*truth_row[:-1], status])
        self._write_people()

    def _write_people(self) -> None:
        out = self.city.out
        f, t = out.files, out.truth
        rng = self.rng
        rates = self.city.rates
        today = self.today
        code = self.code
        for h in self.households:
            d = h.dwelling
            assert d is not None, "housing is built with room for every household"
            dkey = d.key(code)
            if h.departed:
                out.bases["not_deregistered"] += len(h.members)
            if h.renting:
                out.bases["tenant_unregistered"] += 1
                out.bases["rental_no_agreement"] += 1
                landlord = self.landlords[id(d)]
                lease_start = h.arrival - dt.timedelta(days=rng.randint(0, 20))
                lease_end = lease_start + dt.timedelta(days=rng.choice((182, 365, 365, 730)))
                signed = rng.random() >= rates.rental_no_agreement
                f["housing_rentals"].write(
                    [
                        landlord.id_number,
                        *dkey,
                        _d(lease_start),
                        _d(lease_end),
                        str(rng.randrange(12, 50) * 50),
                        "yes" if signed else "no",
                        ";".join(m.id_number for m in h.members),
                    ]
                )
                if not signed:
                    t["rental_no_agreement"].write([*dkey, landlord.id_number])
            for m in h.members:
                person_row = [
                    m.id_number,
                    m.doc_type,
                    m.country,
                    m.name,
                    m.sex,
                    _d(m.birth),
                    m.ethnicity,
                    m.hukou_region,
                    m.hukou_address,
                    m.education,
                    m.marital,
                    m.occupation,
                    m.workplace,
                    m.phone,
                    code,
                ]
                if age_years(m.birth, today) <= 3:
                    self._health(person_row, m)
                if h.unregistered:
                    t["tenant_unregistered"].write([m.doc_type, m.id_number, *dkey])
                    continue
                f["police_persons"].write(person_row)
                if 18 <= age_years(m.birth, today) <= 65 and rng.random() < (
                    0.005 if m.sex == "1" else 0.001
                ):
                    self._justice(m)
                arrival = max(h.arrival, m.birth)
                reg = min(
                    today, arrival + dt.timedelta(days=rng.choice((0, 0, 0, 1, 2, 3, 5, 7, 12, 20, 45)))
                )
                if h.category == "overseas":
                    reg = min(today, arrival + dt.timedelta(days=rng.choice((0, 0, 1))))
                until = ""
                if h.category in ("floating", "overseas"):
                    until = _d(arrival + dt.timedelta(days=rng.randint(180, 3 * 365)))
                departure = dereg = reason = destination = ""
                if h.departed:
                    left = today - dt.timedelta(days=rng.randint(1, 730))
                    left = max(left, min(today, arrival + dt.timedelta(days=30)))
                    if h.not_deregistered:
                        t["not_deregistered"].write([m.doc_type, m.id_number, code, _d(left)])
                    else:
                        departure = _d(left)
                        dereg = _d(min(today, left + dt.timedelta(days=rng.choice((0, 1, 2, 3, 7, 15)))))
                        reason = rng.choice(
                            ("returned_home", "returned_home", "left_city", "moved_within_city")
                        )
                        destination = {
                            "returned_home": _region_label(m.hukou_region),
                            "left_city": "湖北省武汉市",
                            "moved_within_city": "湖北省鄂州市",
                        }[reason]
                f["police_residences"].write(
                    [
                        m.id_number,
                        m.doc_type,
                        *dkey,
                        h.category,
                        _d(arrival),
                        _d(reg),
                        until,
                        departure,
                        dereg,
                        reason,
                        destination,
                    ]
                )
            if h.unregistered or (h.departed and not h.not_deregistered):
                continue
            for m in h.members:
                f["police_households"].write(
                    [h.number, h.kind, *dkey, m.id_number, m.doc_type, m.relationship]
                )
        self._venues()

    # -- other departments ---------------------------------------------------------------------------------

    def _error(self, m: _Person, allowed: Iterable[str]) -> tuple[str, str, str, str, str] | None:
        """(error, id_number, name, birth_date, sex) of a record with one realistic error, or None."""
        rng = self.rng
        kinds = list(allowed)
        rng.shuffle(kinds)
        for kind in kinds:
            number, name, born, sex = m.id_number, m.name, _d(m.birth), m.sex
            if kind == "homophone_name":
                name = R.misspell_name(rng, m.name, R.HOMOPHONES) or ""
            elif kind == "traditional_name":
                name = R.misspell_name(rng, m.name, R.TRADITIONAL) or ""
            elif kind == "wrong_digit":
                number = R.wrong_digit(rng, m.id_number)
            elif kind == "swapped_digits":
                number = R.swapped_digits(rng, m.id_number) or ""
            elif kind == "old_15_digit":
                number = R.old_15_digit(m.id_number) or ""
            elif kind == "missing_fields":
                born = ""
            elif kind == "swapped_day_month":
                born = R.swapped_day_month(m.birth) or ""
            if name and number and (born or kind == "missing_fields"):
                return kind, number, name, born, sex
        return None

    def _health(self, row: list[str], m: _Person) -> None:
        out = self.city.out
        out.bases["duplicate_person"] += 1
        if m.doc_type == "resident_id" and self.rng.random() < self.city.rates.duplicate_person:
            err = self._error(m, (k for k in R.DUPLICATE_ERRORS if k != "old_15_digit"))
            if err is not None:
                kind, number, name, born, _ = err
                row = [number, *row[1:3], name, row[4], born, *row[6:]]
                if kind == "missing_fields":
                    row[6] = row[9] = row[13] = ""  # ethnicity, education, phone
                out.truth["duplicate_person"].write(
                    ["health_persons", number, name, m.doc_type, m.id_number, m.name, kind]
                )
        out.files["health_persons"].write(row)

    def _justice(self, m: _Person) -> None:
        out = self.city.out
        out.bases["duplicate_person"] += 1
        row = [m.id_number, m.name, m.sex, _d(m.birth), self.code]
        if m.doc_type == "resident_id" and self.rng.random() < self.city.rates.duplicate_person:
            err = self._error(m, R.DUPLICATE_ERRORS)
            if err is not None:
                kind, number, name, born, sex = err
                row = [number, name, sex, born, self.code]
                out.truth["duplicate_person"].write(
                    ["justice_persons", number, name, m.doc_type, m.id_number, m.name, kind]
                )
        out.files["justice_persons"].write(row)

    def _venues(self) -> None:
        if not self.urban:
            return
        rng = self.rng
        today = self.today
        f = self.city.out.files
        adults = [
            m
            for h in self.households
            if not h.departed
            for m in h.members
            if 18 <= age_years(m.birth, today) <= 70
        ]
        if not adults:
            return
        stem = self.plan.name.removesuffix("社区")
        start = dt.datetime.combine(today - dt.timedelta(days=60), dt.time())
        midnight = dt.datetime.combine(today, dt.time())
        # Where the venues are and when they reported each guest come from a generator of their own, so the
        # rest of the community is drawn exactly as before they were written.
        vrng = random.Random(f"{self.city.seed}:{self.code}:venues")
        listed = [p for p in self.plates if not p.missing]
        shops = [p for p in listed if any(b.use == "commercial" for b in p.buildings)] or listed
        # Every urban community has a hotel (now and then two) and an internet café.
        for kind, suffixes, n_venues, per_day in (
            ("hotel", R.HOTEL_SUFFIXES, rng.choices((1, 2), (8, 2))[0], 5),
            ("cafe", R.CAFE_SUFFIXES, 1, 12),
        ):
            table = f["venues_hotel_stays" if kind == "hotel" else "venues_cafe_stays"]
            for v in range(n_venues):
                venue = f"{stem}{suffixes[(self.plan.index + v) % len(suffixes)]}"
                if v:
                    venue = f"{venue}{v + 1}号店"
                plate = vrng.choice(shops)
                licence = (
                    f"{'鄂特旅' if kind == 'hotel' else '鄂网文'}{today.year}-{self.plan.index:03d}{v + 1}"
                )
                f["police_venues"].write(
                    [self.code, plate.street_name(), plate.number(), kind, venue, licence, "open"]
                )
                for _ in range(60 * per_day):
                    check_in = start + dt.timedelta(seconds=rng.randrange(60 * 86400))
                    if kind == "hotel":
                        nights = rng.choice((1, 1, 1, 2, 2, 3))
                        check_out = dt.datetime.combine(
                            check_in.date() + dt.timedelta(days=nights),
                            dt.time(rng.randint(7, 13), rng.randrange(60)),
                        )
                        local = rng.random() < 0.25
                    else:
                        check_out = check_in + dt.timedelta(minutes=rng.randint(30, 8 * 60))
                        local = rng.random() < 0.9
                    if check_out > dt.datetime.combine(today, dt.time()):
                        continue  # still there
                    country = ""
                    if local:
                        m = rng.choice(adults)
                        doc, number, name, country = m.doc_type, m.id_number, m.name, m.country
                    elif rng.random() < 0.03:
                        doc, number = "passport", self.city.new_passport(rng)
                        country = R.FOREIGN_COUNTRIES.pick(rng)
                        male, female, family = R.FOREIGN_NAMES[country]
                        name = f"{rng.choice(male + female)} {rng.choice(family)}"
                    else:
                        sex = "1" if rng.random() < 0.6 else "2"
                        born = R.birth_date_for_age(rng, rng.randint(18, 65), today)
                        doc = "resident_id"
                        number = self.city.new_id(rng, R.OUTSIDE_COUNTIES.pick(rng), born, sex)
                        name = R.person_name(rng, sex)
                    table.write(
                        [
                            venue,
                            self.code,
                            doc,
                            number,
                            name,
                            f"{check_in:%Y-%m-%d %H:%M:%S}",
                            f"{check_out:%Y-%m-%d %H:%M:%S}",
                            f"{min(midnight, check_in + _report_delay(vrng, kind)):%Y-%m-%d %H:%M:%S}",
                            country,
                        ]
                    )


def _report_delay(rng: random.Random, kind: str) -> dt.timedelta:
    """How long after the check-in the venue's system reported it: mostly at once, now and then hours later
    (the front desk typed it in at the end of a shift), rarely days later (the system was down)."""
    x = rng.random()
    if x < (0.93 if kind == "hotel" else 0.95):
        return dt.timedelta(seconds=rng.randint(5, 900 if kind == "hotel" else 120))
    if x < 0.97:
        return dt.timedelta(minutes=rng.randint(60, 12 * 60))
    return dt.timedelta(hours=rng.randint(25, 72))


def age_years(born: dt.date, today: dt.date) -> int:
    """Completed years on ``today``."""
    return R.age_on(born, today)


# ---------------------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------------------


def write_city(
    out_dir: Path,
    *,
    persons: int,
    seed: int,
    today: dt.date,
    rates: DefectRates = DefectRates(),
    formats: Sequence[str] = ("csv",),
    progress: Callable[[int], None] | None = None,
) -> CitySummary:
    """Generate a synthetic Ezhou of ``persons`` persons and write its department extracts and ground truth."""
    if persons < 1:
        raise ValueError("persons must be at least 1")
    unknown = set(formats) - {"csv", "xlsx"}
    if unknown:
        raise ValueError(f"unknown formats: {sorted(unknown)}")
    out_dir = Path(out_dir)
    out = _Out(out_dir, "xlsx" in formats)
    city = _City(out, seed, today, rates)
    plans = _plan(persons)
    done = 0
    try:
        for plan in plans:
            community = _Community(city, plan)
            community.make_households()
            community.build_housing()
            community.settle()
            community.write()
            done += plan.persons
            if progress is not None:
                progress(done)
    finally:
        paths = out.close()
    return CitySummary(
        out_dir=out_dir,
        persons=persons,
        communities=len(plans),
        files={stem: table.rows for stem, table in out.files.items()},
        defects={kind: table.rows for kind, table in out.truth.items()},
        defect_bases=dict(out.bases),
        paths=tuple(paths),
    )
