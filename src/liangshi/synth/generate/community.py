"""One community of the synthetic city: its people, their housing, and who lives where.

The objects are held only while that community is written. ``City`` is the state shared across communities
(issued ID numbers, street names per district, the open files).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field

import liangshi.synth.rules as R
from liangshi.addresses.rules import render_plate_number
from liangshi.synth.generate.columns import DefectRates, Out
from liangshi.synth.generate.plan import DISTRICT_CENTRES, CommunityPlan, fixed_centre, region_label

__all__ = ["Building", "City", "Community", "Dwelling", "Household", "Person", "Plate", "Street"]


@dataclass(eq=False, slots=True)
class Street:
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
    plates: list[Plate] = field(default_factory=list)


@dataclass(eq=False, slots=True)
class Plate:
    street: Street | None
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
    buildings: list[Building] = field(default_factory=list)

    def number(self) -> str:
        return render_plate_number(self.base, self.sub, self.street.style if self.street else "dash")

    def street_name(self) -> str:
        return self.street.name if self.street else ""


@dataclass(eq=False, slots=True)
class Building:
    plate: Plate
    label: str
    floors: int
    floors_below: int
    units: int | None
    use: str
    structure: str
    year: int
    dwellings: list[Dwelling] = field(default_factory=list)


@dataclass(eq=False, slots=True)
class Dwelling:
    building: Building
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
class Person:
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
class Household:
    number: str
    kind: str  # household kind: registered / actual
    category: str  # residence category of its members
    members: list[Person]
    arrival: dt.date
    departed: bool = False
    dwelling: Dwelling | None = None
    renting: bool = False
    unregistered: bool = False
    not_deregistered: bool = False


class City:
    """State shared across communities: issued ID numbers, street names per district, output."""

    def __init__(self, out: Out, seed: int, today: dt.date, rates: DefectRates) -> None:
        self.out = out
        self.seed = seed
        self.today = today
        self.rates = rates
        self.issued: set[int] = set()
        self.passports: set[str] = set()
        self.street_names: dict[str, set[str]] = {}
        self.street_index: dict[str, int] = {}
        # 一号多址 (synth.generate.numbers): per district, the last community written and its plain street plates.
        self.numbers_previous: dict[str, tuple[str, list[Plate]]] = {}

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


class Community:
    """One community's households, streets, plates and dwellings, drawn from its own ``Random``."""

    def __init__(self, city: City, plan: CommunityPlan) -> None:
        self.city = city
        self.plan = plan
        self.code = plan.code
        self.district = plan.code[:6]
        self.urban = plan.level == "community"
        self.rng = random.Random(f"{city.seed}:{plan.code}")
        self.today = city.today
        town_centre = fixed_centre(
            plan.township, 0.02 if plan.township[6] == "0" else 0.07, DISTRICT_CENTRES[self.district]
        )
        self.centre = fixed_centre(plan.code, 0.012, town_centre)
        self.households: list[Household] = []
        self.streets: list[Street] = []
        self.plates: list[Plate] = []
        self.dwellings: list[Dwelling] = []  # residential, in creation order
        self.out_of_order: list[tuple[Plate, Plate]] = []
        self.landlords: dict[int, Person] = {}

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
    ) -> Person:
        rng = self.rng
        born = R.birth_date_for_age(rng, age, self.today)
        job, place = R.occupation(rng, age, not self.urban)
        return Person(
            doc_type="resident_id",
            id_number=self.city.new_id(rng, region, born, sex),
            country="",
            name=R.person_name(rng, sex, surname),
            sex=sex,
            birth=born,
            ethnicity=ethnicity,
            hukou_region=region,
            hukou_address=region_label(region)
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

    def _family(self, kind: str, region: str) -> list[Person]:
        rng = self.rng
        spec = R.household_members(rng, kind)
        family = R.SURNAMES.pick(rng)
        head_sex = spec[0][1]
        spouse_present = any(rel == "10" for rel, _, _ in spec)
        ethnicity = R.ETHNICITIES.pick(rng)
        people: list[Person] = []
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

    def _overseas(self) -> list[Person]:
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
            Person(
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
            household = Household(number, kind, category, members, arrival)
            if category == "floating" and rng.random() < 0.12:
                household.departed = True
            self.households.append(household)

    # -- housing -----------------------------------------------------------------------------------------

    def _new_street(self) -> Street:
        rng = self.rng
        name, suffix = self.city.street_name(rng, self.district)
        start = R.offset(*self.centre, rng.randrange(360), rng.uniform(50, 500))
        street = Street(
            name,
            suffix,
            R.NUMBERING_STYLES.pick(rng),
            (round(start[0], 6), round(start[1], 6)),
            rng.randrange(360),
            chainage=rng.uniform(5, 20),
        )
        self.streets.append(street)
        return street

    def _street_plate(self, street: Street) -> Plate:
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
        plate = Plate(
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
        self, building: Building, unit: int | None, floor: int, room: str, use: str, area: float
    ) -> Dwelling:
        d = Dwelling(building, unit, floor, room, use, area)
        building.dwellings.append(d)
        if use == "residential":
            self.dwellings.append(d)
        else:
            d.status = "occupied" if self.rng.random() < 0.85 else "vacant"
            d.owner = R.person_name(self.rng, "1" if self.rng.random() < 0.6 else "2")
        return d

    def _compound(self, plate: Plate, remaining: int) -> None:
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
            building = Building(
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

    def _shop_plate(self, plate: Plate, office: bool) -> None:
        rng = self.rng
        if office:
            floors = rng.randint(3, 6)
            building = Building(plate, "1栋", floors, 0, None, "office", "钢混", rng.randint(1995, 2020))
            plate.buildings.append(building)
            for floor in range(1, floors + 1):
                for index in (1, 2):
                    self._dwelling(building, None, floor, str(floor * 100 + index), "office", 120.0)
            return
        building = Building(plate, "1栋", 2, 0, None, "commercial", "砖混", rng.randint(1985, 2015))
        plate.buildings.append(building)
        for index in range(1, rng.randint(1, 3) + 1):
            self._dwelling(building, None, 1, str(100 + index), "shop", rng.choice((30.0, 45.0, 60.0)))
        self._dwelling(building, None, 2, "201", "office", 80.0)

    def _village_house(self, number: int) -> None:
        rng = self.rng
        point = R.offset(*self.centre, rng.randrange(360), rng.uniform(0, 400))
        plate = Plate(None, number, None, "", round(point[0], 6), round(point[1], 6), None)
        self.plates.append(plate)
        building = Building(
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
            by_side: dict[str, list[Plate]] = {"left": [], "right": []}
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
