"""The synthetic city: deterministic, valid, realistic, with labelled defects and headers as documented."""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from liangshi.addresses.rules import parse_plate_number
from liangshi.common.codes import ezhou_areas, table
from liangshi.common.idnumber import check_id_number, is_known_region
from liangshi.common.phone import normalize_phone
from liangshi.common.text import clean_person_name
from liangshi.exchange import formats
from liangshi.residence.rules import check_dates, check_departure
from liangshi.synth import CitySummary, DefectRates, write_city
from liangshi.synth import rules as R
from liangshi.synth.generate import DEFECT_KINDS, FILES, HEADERS, RULE_KINDS, TRUTH_COLUMNS
from liangshi.venues.rules import is_foreign

TODAY = dt.date(2024, 6, 1)
DOCS = Path(__file__).resolve().parents[2] / "docs" / "import-formats.md"
POLICE_ORDER = ("areas", "streets", "plates", "buildings", "dwellings", "persons", "households", "residences")


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as fh:
        return next(csv.reader(fh))


def age(born: str) -> int:
    return R.age_on(dt.date.fromisoformat(born), TODAY)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("small")
    write_city(out, persons=2000, seed=7, today=TODAY)
    return out


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CitySummary]:
    out = tmp_path_factory.mktemp("big")
    summary = write_city(out, persons=20_000, seed=3, today=TODAY)
    return out, summary


# ---------------------------------------------------------------------------------------------------------
# Determinism
# ---------------------------------------------------------------------------------------------------------


def _all_csv(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.csv"))}


def test_same_seed_gives_byte_identical_files(small: Path, tmp_path: Path) -> None:
    again = write_city(tmp_path, persons=2000, seed=7, today=TODAY)
    first, second = _all_csv(small), _all_csv(tmp_path)
    assert first.keys() == second.keys()
    assert len(first) == len(FILES) + len(DEFECT_KINDS) + len(RULE_KINDS)
    for name in first:
        assert first[name] == second[name], name
    assert b"\r\n" not in second["police_persons.csv"]
    assert again.persons == 2000


def test_other_seed_gives_another_city(small: Path, tmp_path: Path) -> None:
    write_city(tmp_path, persons=2000, seed=8, today=TODAY)
    assert (tmp_path / "police_persons.csv").read_bytes() != (small / "police_persons.csv").read_bytes()


def test_progress_and_summary(tmp_path: Path) -> None:
    seen: list[int] = []
    summary = write_city(tmp_path, persons=7000, seed=1, today=TODAY, progress=seen.append)
    assert summary.communities == 2 and seen == [3500, 7000]
    assert summary.files["police_persons"] == len(read(tmp_path / "police_persons.csv"))
    assert set(summary.defects) == set(DEFECT_KINDS) | set(RULE_KINDS)
    assert all(p.exists() for p in summary.paths)


# ---------------------------------------------------------------------------------------------------------
# Headers as documented
# ---------------------------------------------------------------------------------------------------------


def _documented_columns() -> dict[str, list[tuple[str, str]]]:
    kinds: dict[str, list[tuple[str, str]]] = {}
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\| `(\w+)` \| (.*) \|$", line)
        if m:
            cells = re.findall(r"`(\w+)` ([^,—]+?)(?:,|$| —)", m.group(2))
            kinds[m.group(1)] = [(en, zh.strip()) for en, zh in cells]
    return kinds


def test_headers_exactly_as_documented(small: Path) -> None:
    documented = _documented_columns()
    assert set(POLICE_ORDER) <= set(documented)
    for kind in POLICE_ORDER:
        assert header(small / f"police_{kind}.csv") == [en for en, _ in documented[kind]], kind
    for stem, kind in (
        ("civil_affairs_areas", "areas"),
        ("civil_affairs_streets", "streets"),
        ("health_persons", "persons"),
        ("housing_dwellings", "dwellings"),
    ):
        assert header(small / f"{stem}.csv") == [zh for _, zh in documented[kind]], stem
    assert header(small / "police_venues.csv") == [en for en, _ in documented["venues"]]
    stays_zh = [zh for _, zh in documented["stays"]]
    assert header(small / "venues_hotel_stays.csv") == stays_zh[:9]
    # An internet café's log says 上机时间 / 下机时间 for the check-in and check-out; the importer reads both.
    cafe = header(small / "venues_cafe_stays.csv")
    assert cafe == [*stays_zh[:5], "上机时间", "下机时间", *stays_zh[7:9]]
    assert sorted(formats.header_map("stays", cafe).values()) == sorted(
        en for en, _ in documented["stays"][:9]
    )
    persons_zh = dict(documented["persons"])
    assert header(small / "justice_persons.csv") == [
        persons_zh[k] for k in ("id_number", "name", "sex", "birth_date", "community_code")
    ]
    for stem in FILES:
        assert header(small / f"{stem}.csv") == list(HEADERS[stem])


# ---------------------------------------------------------------------------------------------------------
# Police extract: valid, consistent, importable in order
# ---------------------------------------------------------------------------------------------------------


def test_id_numbers_valid_consistent_and_distinct(big: tuple[Path, CitySummary]) -> None:
    out, _ = big
    persons = read(out / "police_persons.csv")
    keys = [(p["doc_type"], p["id_number"]) for p in persons]
    assert len(set(keys)) == len(keys)
    ids = [p for p in persons if p["doc_type"] in ("resident_id", "hmt_residence_permit")]
    assert len(ids) > 0.99 * len(persons)
    for p in ids:
        check = check_id_number(p["id_number"], today=TODAY)
        assert check.valid and check.normalized == p["id_number"], p
        assert check.birth_date == dt.date.fromisoformat(p["birth_date"])
        assert check.sex == {"1": "male", "2": "female"}[p["sex"]]
        if p["doc_type"] == "resident_id":
            assert p["id_number"][:6] == p["hukou_region"]
        else:
            assert check.kind == "hmt_permit"
    passports = [p for p in persons if p["doc_type"] == "passport"]
    assert all(len(p["country"]) == 3 for p in passports)
    # visitors in the venue logs never share a number with another person
    names: dict[str, str] = {p["id_number"]: p["name"] for p in persons}
    for stem in ("venues_hotel_stays", "venues_cafe_stays"):
        for row in read(out / f"{stem}.csv"):
            number, name = row["证件号码"], row["姓名"]
            assert names.setdefault(number, name) == name


def test_person_fields_are_valid(big: tuple[Path, CitySummary]) -> None:
    out, _ = big
    persons = read(out / "police_persons.csv")
    codes = {name: table(name) for name in ("ethnicity", "education", "marital_status")}
    for p in persons[:: max(1, len(persons) // 3000)]:
        assert clean_person_name(p["name"]) == p["name"]
        assert 2 <= len(p["name"]) <= 3 or p["doc_type"] == "passport"
        if p["phone"]:
            assert re.fullmatch(r"1[3-9]\d{9}", p["phone"]) and normalize_phone(p["phone"])
        for field, name in (
            ("ethnicity", "ethnicity"),
            ("education", "education"),
            ("marital_status", "marital_status"),
        ):
            assert not p[field] or p[field] in codes[name], (field, p[field])
        if p["hukou_region"]:
            assert is_known_region(p["hukou_region"])
    for code in R.OUTSIDE_COUNTIES.items:
        assert is_known_region(code), code


def test_age_shares_household_size_and_sex_ratio(big: tuple[Path, CitySummary]) -> None:
    out, _ = big
    persons = read(out / "police_persons.csv")
    ages = [age(p["birth_date"]) for p in persons]
    young = sum(a <= 14 for a in ages) / len(ages)
    old = sum(a >= 60 for a in ages) / len(ages)
    assert 0.13 <= young <= 0.23, young
    assert 0.14 <= old <= 0.24, old
    males = sum(p["sex"] == "1" for p in persons)
    assert 98 <= 100 * males / (len(persons) - males) <= 112
    sizes = Counter(r["household_number"] for r in read(out / "police_households.csv"))
    mean = sum(sizes.values()) / len(sizes)
    assert 2.3 <= mean <= 2.9, mean
    hukou = Counter(p["hukou_region"][:4] == "4207" for p in persons if p["doc_type"] == "resident_id")
    assert 0.72 <= hukou[True] / sum(hukou.values()) <= 0.88
    minorities = sum(p["ethnicity"] not in ("01", "") for p in persons) / len(persons)
    assert 0.005 <= minorities <= 0.03


def test_police_files_refer_only_to_rows_before_them(big: tuple[Path, CitySummary]) -> None:
    """The import order areas → … → residences never meets an unknown key or a duplicate key."""
    out, _ = big
    rows = {kind: read(out / f"police_{kind}.csv") for kind in POLICE_ORDER}
    gazetteer = {a["code"] for a in ezhou_areas()}
    areas = {a["code"] for a in rows["areas"]}
    assert all(
        a["parent_code"] in gazetteer and a["code"].startswith(a["parent_code"]) for a in rows["areas"]
    )
    assert all(len(code) == 12 for code in areas)
    for a in rows["areas"]:
        segment = int(a["code"][9:])
        assert (1 <= segment <= 199) if a["level"] == "community" else (200 <= segment <= 399)
    streets = [(s["district_code"], s["name"]) for s in rows["streets"]]
    assert len(set(streets)) == len(streets)
    plates = [(p["community_code"], p["street"], p["number"]) for p in rows["plates"]]
    assert len(set(plates)) == len(plates)
    for c, s, _ in plates:
        assert c in areas and (not s or (c[:6], s) in set(streets))
    buildings = [(b["community_code"], b["street"], b["number"], b["building"]) for b in rows["buildings"]]
    assert len(set(buildings)) == len(buildings) and set(b[:3] for b in buildings) <= set(plates)
    dkey = ("community_code", "street", "number", "building", "unit", "room")
    dwellings = [tuple(d[k] for k in dkey) for d in rows["dwellings"]]
    assert len(set(dwellings)) == len(dwellings) and {d[:4] for d in dwellings} <= set(buildings)
    dwelling_set = set(dwellings)
    persons = {(p["doc_type"], p["id_number"]) for p in rows["persons"]}
    heads: Counter[str] = Counter()
    member_of: Counter[tuple[str, str]] = Counter()
    for h in rows["households"]:
        assert tuple(h[k] for k in dkey) in dwelling_set
        assert (h["doc_type"], h["id_number"]) in persons
        member_of[(h["doc_type"], h["id_number"])] += 1
        heads[h["household_number"]] += h["relationship"] == "02"
        assert h["relationship"] in table("relationship")
    assert set(heads.values()) == {1}
    assert set(member_of.values()) == {1}
    open_residences: Counter[tuple[str, str]] = Counter()
    for r in rows["residences"]:
        assert tuple(r[k] for k in dkey) in dwelling_set
        assert (r["doc_type"], r["id_number"]) in persons
        arrival = dt.date.fromisoformat(r["arrival_date"])
        until = dt.date.fromisoformat(r["intended_stay_until"]) if r["intended_stay_until"] else None
        check_dates(
            arrival=arrival,
            registration=dt.date.fromisoformat(r["registration_date"]),
            intended_until=until,
            today=TODAY,
        )
        if r["departure_date"]:
            check_departure(
                arrival=arrival,
                departure=dt.date.fromisoformat(r["departure_date"]),
                deregistration=dt.date.fromisoformat(r["deregistration_date"]),
                today=TODAY,
            )
            assert r["deregistration_reason"] and r["destination"] and r["category"] == "floating"
        else:
            open_residences[(r["doc_type"], r["id_number"])] += 1
    assert set(open_residences.values()) == {1}
    categories = Counter(r["category"] for r in rows["residences"])
    assert categories["floating"] > 0.1 * len(rows["residences"]) and categories["overseas"] > 0
    assert categories["resident"] > categories["separated"] > 0


# ---------------------------------------------------------------------------------------------------------
# Door plates
# ---------------------------------------------------------------------------------------------------------


def _truth_keys(out: Path, kind: str) -> set[tuple[str, str, str]]:
    return {(r["community_code"], r["street"], r["number"]) for r in read(out / "truth" / f"{kind}.csv")}


def test_plate_parity_follows_the_side_and_numbers_rise(big: tuple[Path, CitySummary]) -> None:
    out, _ = big
    streets = {
        (s["district_code"], s["name"]): (
            R.parse_start_description(s["start_description"]),
            int(s["bearing_deg"]),
        )
        for s in read(out / "police_streets.csv")
    }
    wrong_side = _truth_keys(out, "plate_wrong_side")
    out_of_order = _truth_keys(out, "plate_out_of_order")
    checked = 0
    along: dict[tuple[str, str], list[tuple[float, int, int]]] = defaultdict(list)
    for p in read(out / "police_plates.csv"):
        key = (p["community_code"], p["street"], p["number"])
        if not p["street"]:
            assert not p["chainage_m"]
            continue
        start, bearing = streets[(p["community_code"][:6], p["street"])]
        side = R.side_of(start, bearing, (float(p["lon"]), float(p["lat"])))
        base, sub = parse_plate_number(p["number"])
        parity_ok = base % 2 == R.PARITY_OF_SIDE[side]
        assert parity_ok != (key in wrong_side), key
        checked += 1
        if key not in wrong_side and key not in out_of_order:
            along[(p["street"], side)].append((float(p["chainage_m"]), base, sub or 0))
    assert checked > 200
    for plates in along.values():
        numbers = [(base, sub) for _, base, sub in sorted(plates)]
        assert numbers == sorted(numbers)
    for key in out_of_order:
        assert key[1]
    # sub-numbers and reserved gaps exist
    numbers = [p["number"] for p in read(out / "police_plates.csv") if p["street"]]
    assert any(not n.rstrip("号").isdigit() for n in numbers)


def test_village_plates_have_no_street_and_one_house(big: tuple[Path, CitySummary]) -> None:
    out, _ = big
    villages = {a["code"] for a in read(out / "police_areas.csv") if a["level"] == "village"}
    assert villages
    for d in read(out / "police_dwellings.csv"):
        if d["community_code"] in villages:
            assert d["street"] == "" and d["unit"] == "" and d["room"] == "1" and d["building"] == "1栋"


# ---------------------------------------------------------------------------------------------------------
# Defects and their ground truth
# ---------------------------------------------------------------------------------------------------------


def test_truth_files_and_defect_counts_near_their_rates(big: tuple[Path, CitySummary]) -> None:
    out, summary = big
    rates = DefectRates()
    for kind in DEFECT_KINDS:
        path = out / "truth" / f"{kind}.csv"
        assert header(path) == list(TRUTH_COLUMNS[kind])
        count = len(read(path))
        assert count == summary.defects[kind]
        expected = getattr(rates, kind) * summary.defect_bases[kind]
        # households, pairs and eligible subsets make some defects clustered: allow a generous Poisson band
        assert abs(count - expected) <= 4 * math.sqrt(expected) * 2 + 3, (kind, count, expected)
        assert count > 0 or expected < 3, kind


def test_defects_are_where_the_truth_says(big: tuple[Path, CitySummary]) -> None:
    out, _ = big
    police_plates = {
        (p["community_code"], p["street"], p["number"]): p for p in read(out / "police_plates.csv")
    }
    for key in _truth_keys(out, "plate_missing"):
        assert key not in police_plates
    for r in read(out / "truth" / "plate_not_installed.csv"):
        key = (r["community_code"], r["street"], r["number"])
        assert key not in police_plates or police_plates[key]["status"] in ("planned", "made")
    police_ids = {p["id_number"] for p in read(out / "police_persons.csv")}
    tenants = read(out / "truth" / "tenant_unregistered.csv")
    rental_tenants = {t for r in read(out / "housing_rentals.csv") for t in r["承租人证件号码"].split(";")}
    for t in tenants:
        assert t["id_number"] not in police_ids and t["id_number"] in rental_tenants
    open_ids = {r["id_number"] for r in read(out / "police_residences.csv") if not r["departure_date"]}
    for r in read(out / "truth" / "not_deregistered.csv"):
        assert r["id_number"] in open_ids
    dkey = ("community_code", "street", "number", "building", "unit", "room")
    police_dw = {tuple(d[k] for k in dkey): d["status"] for d in read(out / "police_dwellings.csv")}
    for r in read(out / "truth" / "vacant_recorded_occupied.csv"):
        assert police_dw[tuple(r[k] for k in dkey)] == "occupied"
    no_agreement = {tuple(r[k] for k in dkey) for r in read(out / "truth" / "rental_no_agreement.csv")}
    zh = ("社区代码", "街路巷", "门牌号", "楼栋", "单元", "房号")
    for r in read(out / "housing_rentals.csv"):
        assert (r["签订治安责任书"] == "no") == (tuple(r[k] for k in zh) in no_agreement)


def test_duplicates_carry_realistic_errors(big: tuple[Path, CitySummary]) -> None:
    out, _ = big
    police = {p["id_number"]: p for p in read(out / "police_persons.csv")}
    duplicates = read(out / "truth" / "duplicate_person.csv")
    assert {d["file"] for d in duplicates} <= {"health_persons", "justice_persons"}
    for d in duplicates:
        true = d["true_id_number"]
        assert d["error"] in R.DUPLICATE_ERRORS
        if d["error"] in ("wrong_digit", "swapped_digits"):
            assert not check_id_number(d["id_number"], today=TODAY).valid
        elif d["error"] == "old_15_digit":
            assert check_id_number(d["id_number"], today=TODAY).normalized == true
        elif d["error"] in ("homophone_name", "traditional_name"):
            assert d["name"] != d["true_name"] and len(d["name"]) == len(d["true_name"])
        if true in police:
            assert police[true]["name"] == d["true_name"]
    health = read(out / "health_persons.csv")
    assert health and all(age(h["出生日期"]) <= 3 for h in health if h["出生日期"] and "-" in h["出生日期"])
    exact = sum(h["证件号码"] in police and h["姓名"] == police[h["证件号码"]]["name"] for h in health)
    assert exact > 0.9 * len(health)
    assert read(out / "justice_persons.csv")


def test_rentals_and_venue_stays(big: tuple[Path, CitySummary]) -> None:
    out, _ = big
    persons = {p["id_number"]: p for p in read(out / "police_persons.csv")}
    rentals = read(out / "housing_rentals.csv")
    urban_dwellings = [
        d for d in read(out / "housing_dwellings.csv") if d["街路巷"] and d["用途"] == "residential"
    ]
    assert 0.08 <= len(rentals) / len(urban_dwellings) <= 0.25
    for r in rentals:
        assert r["出租人证件号码"] in persons
        assert r["租赁起始日期"] < r["租赁截止日期"] and int(r["月租金"]) > 0
    plates = {(p["community_code"], p["street"], p["number"]) for p in read(out / "police_plates.csv")}
    venues = read(out / "police_venues.csv")
    urban = {a["code"] for a in read(out / "police_areas.csv") if a["level"] == "community"}
    assert {
        v["community_code"] for v in venues
    } == urban  # a hotel and an internet café in every urban community
    assert len({(v["community_code"], v["name"]) for v in venues}) == len(venues)
    for v in venues:
        assert (v["community_code"], v["street"], v["number"]) in plates and v["status"] == "open"
    kinds = {(v["community_code"], v["name"]): v["venue_kind"] for v in venues}
    midnight = dt.datetime.combine(TODAY, dt.time())
    for stem, kind in (("venues_hotel_stays", "hotel"), ("venues_cafe_stays", "cafe")):
        stays = read(out / f"{stem}.csv")
        assert stays
        on_time = 0
        for s in stays:
            assert kinds[(s["社区代码"], s["场所名称"])] == kind
            check_in = dt.datetime.fromisoformat(s[HEADERS[stem][5]])
            check_out = dt.datetime.fromisoformat(s[HEADERS[stem][6]])
            reported = dt.datetime.fromisoformat(s["上报时间"])
            assert dt.datetime.combine(TODAY - dt.timedelta(days=61), dt.time()) <= check_in < check_out
            assert check_out <= midnight and check_in <= reported <= midnight
            on_time += reported - check_in <= dt.timedelta(hours=24)
            assert (s["国籍"] != "") == (s["证件类型"] == "passport")
        assert 0.9 < on_time / len(stays) < 1.0


def test_rule_truth_is_every_row_breaking_the_dated_rules(big: tuple[Path, CitySummary]) -> None:
    """The drawn defects' truth files hold exactly the rows that break each dated rule as of the city's day."""
    out, summary = big
    for kind, cols in RULE_KINDS.items():
        assert header(out / "truth" / f"{kind}.csv") == list(cols)
        assert summary.defects[kind] == len(read(out / "truth" / f"{kind}.csv"))
    residences = read(out / "police_residences.csv")
    open_ones = [r for r in residences if not r["departure_date"]]
    expired = {
        (r["doc_type"], r["id_number"])
        for r in open_ones
        if r["intended_stay_until"] and dt.date.fromisoformat(r["intended_stay_until"]) < TODAY
    }
    truth = {(r["doc_type"], r["id_number"]) for r in read(out / "truth" / "stay_expired.csv")}
    assert truth == expired and expired
    late = {(r["doc_type"], r["id_number"]) for r in read(out / "truth" / "registered_late.csv")}
    floating = {(r["doc_type"], r["id_number"]): r for r in open_ones if r["category"] == "floating"}
    assert late and late <= set(floating)
    for key in late:  # at least 3 working days means at least 4 calendar days late
        r = floating[key]
        gap = dt.date.fromisoformat(r["registration_date"]) - dt.date.fromisoformat(r["arrival_date"])
        assert gap.days > 3, r
    rentals = read(out / "housing_rentals.csv")
    ended = {
        tuple(r[c] for c in ("社区代码", "街路巷", "门牌号", "楼栋", "单元", "房号")): r
        for r in rentals
        if dt.date.fromisoformat(r["租赁截止日期"]) < TODAY
    }
    lease_truth = read(out / "truth" / "lease_ended_open.csv")
    assert lease_truth
    for r in lease_truth:
        key = tuple(r[c] for c in ("community_code", "street", "number", "building", "unit", "room"))
        assert ended[key]["租赁截止日期"] == r["lease_end"]
    foreign_late = set()
    for stem in ("venues_hotel_stays", "venues_cafe_stays"):
        for s in read(out / f"{stem}.csv"):
            check_in = dt.datetime.fromisoformat(s[HEADERS[stem][5]])
            reported = dt.datetime.fromisoformat(s["上报时间"])
            if is_foreign(s["证件类型"], s["国籍"]) and reported - check_in > dt.timedelta(hours=24):
                foreign_late.add((s["场所名称"], s["证件类型"], s["证件号码"]))
    truth_f = {
        (r["venue"], r["doc_type"], r["id_number"]) for r in read(out / "truth" / "foreign_guest_late.csv")
    }
    assert truth_f == foreign_late


# ---------------------------------------------------------------------------------------------------------
# XLSX
# ---------------------------------------------------------------------------------------------------------


def test_xlsx_written_when_asked(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    write_city(tmp_path, persons=300, seed=2, today=TODAY, formats=("csv", "xlsx"))
    for stem in FILES:
        assert (tmp_path / f"{stem}.xlsx").exists(), stem
    book = openpyxl.load_workbook(tmp_path / "police_persons.xlsx", read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    with (tmp_path / "police_persons.csv").open(encoding="utf-8", newline="") as fh:
        csv_rows = list(csv.reader(fh))
    assert list(rows[0]) == csv_rows[0]
    assert len(rows) == len(csv_rows) == 301
    assert [("" if v is None else str(v)) for v in rows[1]] == csv_rows[1]


def test_csv_only_by_default(small: Path) -> None:
    assert not list(small.glob("*.xlsx"))
