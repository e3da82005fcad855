"""The department extracts of one community: its rows appended to every open file, with the labelled defects
drawn as they are written and their ground truth beside them.

The steps run in a fixed order on the community's generator (places, people, venues), so the same seed writes
the same bytes.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable

import liangshi.synth.rules as R
from liangshi.checks.rules import ARRIVAL_LIMIT_WORKING_DAYS
from liangshi.residence.calendar import default_calendar, lateness
from liangshi.synth.generate.births import write_births
from liangshi.synth.generate.columns import Table, date_cell
from liangshi.synth.generate.community import Community, Dwelling, Household, Person, Plate
from liangshi.synth.generate.corrections import write_corrections
from liangshi.synth.generate.items import note_open, police_person_row
from liangshi.synth.generate.more import MorePlan, moved_to, plan, tenant_left
from liangshi.synth.generate.numbers import write_numbers
from liangshi.synth.generate.plan import region_label
from liangshi.venues.rules import FOREIGN_REPORT_LIMIT, is_foreign

__all__ = ["write_community"]


def write_community(c: Community) -> None:
    """Append the community's rows: its area and streets, plates and housing, people, venues and their guests."""
    more = plan(c) if c.city.rates.more else None
    _write_places(c, more)
    write_numbers(c, more)
    _write_people(c, more)
    write_births(c, more)
    write_corrections(c, more)
    _write_venues(c)


# -- places ---------------------------------------------------------------------------------------------------


def _write_places(c: Community, more: MorePlan | None) -> None:
    out = c.city.out
    f = out.files
    since = date_cell(R.PLACES_SINCE)
    area_row = [c.code, c.plan.name, c.plan.level, c.plan.township, since]
    f["police_areas"].write(area_row)
    f["civil_affairs_areas"].write(area_row)
    for s in c.streets:
        row = [c.district, s.name, s.suffix, s.style, R.start_description(*s.start), str(s.bearing), since]
        f["police_streets"].write(row)
        f["civil_affairs_streets"].write(row)
    out.bases["plate_not_installed"] += len(c.plates)
    out.bases["plate_missing"] += len(c.plates)
    street_plates = sum(len(s.plates) for s in c.streets)
    out.bases["plate_wrong_side"] += street_plates
    out.bases["plate_out_of_order"] += street_plates
    swapped = {id(a): b for a, b in c.out_of_order} | {id(b): a for a, b in c.out_of_order}
    for p in c.plates:
        key = _write_plate(c, p, swapped, more)
        _write_buildings(c, p, key, more)


def _write_plate(c: Community, p: Plate, swapped: dict[int, Plate], more: MorePlan | None) -> list[str]:
    """The plate's row (unless it is missing from the police extract) and its defects; returns its key."""
    f, t = c.city.out.files, c.city.out.truth
    key = [c.code, p.street_name(), p.number()]
    chainage = "" if p.chainage is None else f"{p.chainage:.1f}"
    lon, lat = p.lon, p.lat
    twin = more.point_of.get(id(p)) if more else None
    if twin is not None:  # 多号一址: recorded at its neighbour's point
        lon, lat = twin.lon, twin.lat
    if more is not None and id(p) in more.shared:
        t["many_numbers_one_place"].write([*key, *more.shared[id(p)]])
    if p.missing:
        t["plate_missing"].write([*key, "shop_or_office" if p.street else "vacant_house"])
    else:
        f["police_plates"].write(
            [*key, "door", p.status, f"{lon:.6f}", f"{lat:.6f}", chainage, date_cell(R.PLACES_SINCE)]
        )
    if p.status != "installed":
        t["plate_not_installed"].write([*key, p.status])
    if p.wrong_side:
        t["plate_wrong_side"].write([*key, p.side, chainage])
    if id(p) in swapped:
        t["plate_out_of_order"].write([*key, p.side, chainage, swapped[id(p)].number()])
    return key


def _write_buildings(c: Community, p: Plate, key: list[str], more: MorePlan | None) -> None:
    """The plate's buildings and dwellings: all of them in the housing department's file, the police's only
    where the plate is listed (and, of the stop-25 kinds, nothing at all on a plate left empty)."""
    f = c.city.out.files
    empty = more.empty.get(id(p)) if more else None
    if empty == "number_without_place":
        c.city.out.truth[empty].write([*key, "nothing_stands"])
        return
    if empty == "plate_no_building":
        c.city.out.truth[empty].write([*key, str(sum(len(b.dwellings) for b in p.buildings))])
    for b in p.buildings:
        lived_at = more is not None and any(id(d) in more.inhabited for d in b.dwellings)
        if lived_at and not p.missing and p.status != "installed":  # 有址无号: lived at, no plate on the door
            c.city.out.truth["address_no_plate"].write([*key, b.label, p.status])
        if not p.missing and empty is None:
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
                    date_cell(R.PLACES_SINCE),
                ]
            )
        for d in b.dwellings:
            _write_dwelling(c, d, listed=not p.missing and empty is None, more=more)


def _write_dwelling(c: Community, d: Dwelling, *, listed: bool, more: MorePlan | None = None) -> None:
    out = c.city.out
    dkey = d.key(c.code)
    truth_row = [*dkey[:5], str(d.floor), dkey[5], d.use, f"{d.area:.1f}", d.owner, d.status]
    since = date_cell(R.PLACES_SINCE)
    elsewhere = moved_to(more, d)
    if elsewhere is not None:  # 号址不一: the housing file writes it at the neighbouring plate's number
        housing_row = list(truth_row)
        housing_row[2] = elsewhere.number()
        out.files["housing_dwellings"].write([*housing_row, since])
        out.truth["number_mismatch"].write([*dkey[:2], elsewhere.number(), *dkey[3:], dkey[2]])
    else:
        out.files["housing_dwellings"].write([*truth_row, since])
    if not listed:
        return
    status = d.status
    if d.status == "vacant" and d.use == "residential":
        out.bases["vacant_recorded_occupied"] += 1
        if c.rng.random() < c.city.rates.vacant_recorded_occupied:
            status = "occupied"
            out.truth["vacant_recorded_occupied"].write(dkey)
    d.police_status = status
    out.files["police_dwellings"].write([*truth_row[:-1], status, since])


# -- people ---------------------------------------------------------------------------------------------------


def _write_people(c: Community, more: MorePlan | None) -> None:
    out = c.city.out
    for h in c.households:
        d = h.dwelling
        assert d is not None, "housing is built with room for every household"
        dkey = d.key(c.code)
        if h.departed:
            out.bases["not_deregistered"] += len(h.members)
        if h.renting:
            _write_rental(c, h, d, dkey)
        for m in h.members:
            _write_member(c, h, m, dkey, more)
        if h.unregistered or (h.departed and not h.not_deregistered) or tenant_left(more, h):
            continue  # nobody of it lives there in the police files
        left_out = more.left_out.get(id(h)) if more else None
        if left_out is not None:  # the household's member count: one member living with it left out of it
            out.truth["household_member_missing"].write([*dkey, h.number, left_out.id_number])
        for m in h.members:
            if m is left_out:
                continue
            out.files["police_households"].write(
                [h.number, h.kind, *dkey, m.id_number, m.doc_type, m.relationship]
            )


def _write_rental(c: Community, h: Household, d: Dwelling, dkey: list[str]) -> None:
    """The housing department's rental of a renting household, signed or not."""
    out = c.city.out
    rng = c.rng
    out.bases["tenant_unregistered"] += 1
    out.bases["rental_no_agreement"] += 1
    landlord = c.landlords[id(d)]
    lease_start = h.arrival - dt.timedelta(days=rng.randint(0, 20))
    lease_end = lease_start + dt.timedelta(days=rng.choice((182, 365, 365, 730)))
    signed = rng.random() >= c.city.rates.rental_no_agreement
    out.files["housing_rentals"].write(
        [
            landlord.id_number,
            *dkey,
            date_cell(lease_start),
            date_cell(lease_end),
            str(rng.randrange(12, 50) * 50),
            "yes" if signed else "no",
            ";".join(m.id_number for m in h.members),
        ]
    )
    if not signed:
        out.truth["rental_no_agreement"].write([*dkey, landlord.id_number])
    # The rental enters the register when the police files hold its tenants, living there or (a departed tenant
    # still attached) deregistered since the lease began; the importer refuses it otherwise.
    in_register = not h.unregistered and (not h.departed or h.not_deregistered)
    if in_register and lease_end < c.today:
        out.truth["lease_ended_open"].write([*dkey, date_cell(lease_end)])


def _write_member(c: Community, h: Household, m: Person, dkey: list[str], more: MorePlan | None) -> None:
    """One household member: the health department's (a young child), the police's person and residence, the
    justice department's now and then; a tenant left unregistered is in the ground truth instead."""
    out = c.city.out
    person_row = [
        m.id_number,
        m.doc_type,
        m.country,
        m.name,
        m.sex,
        date_cell(m.birth),
        m.ethnicity,
        m.hukou_region,
        m.hukou_address,
        m.education,
        m.marital,
        m.occupation,
        m.workplace,
        m.phone,
        c.code,
    ]
    if R.age_on(m.birth, c.today) <= 3:
        _write_health(c, person_row, m, more)
    if h.unregistered:
        out.truth["tenant_unregistered"].write([m.doc_type, m.id_number, *dkey])
        return
    out.files["police_persons"].write(police_person_row(c, m, person_row))
    if 18 <= R.age_on(m.birth, c.today) <= 65 and c.rng.random() < (0.005 if m.sex == "1" else 0.001):
        _write_justice(c, m, more)
    _write_residence(c, h, m, dkey, more)


# The reasons for stay of floating adults (code table stay_reason) and their shares, roughly as Hubei's floating
# population reports them: most come to work or trade; children come with their families (投亲靠友).
_STAY_REASONS = (
    ("01", 52),
    ("03", 14),
    ("04", 9),
    ("05", 6),
    ("06", 10),
    ("02", 3),
    ("07", 2),
    ("08", 2),
    ("99", 2),
)


def _stay_reason(c: Community, m: Person) -> str:
    """A floating person's reason for stay, drawn from a generator of its own seeded by the ID number, so that the
    city's other values (one random stream) are the same with or without this column."""
    if R.age_on(m.birth, c.today) < 16:
        return "06"
    codes, weights = zip(*_STAY_REASONS, strict=True)
    return str(random.Random(f"stay:{m.id_number}").choices(codes, weights)[0])


def _write_residence(c: Community, h: Household, m: Person, dkey: list[str], more: MorePlan | None) -> None:
    """The member's residence: arrival and registration, a floating or overseas person's intended stay, and a
    departure (deregistered, or left standing as a labelled defect; or deregistered while the housing file keeps
    the member a tenant there, a labelled defect too)."""
    rng = c.rng
    today = c.today
    arrival = max(h.arrival, m.birth)
    reg = min(today, arrival + dt.timedelta(days=rng.choice((0, 0, 0, 1, 2, 3, 5, 7, 12, 20, 45))))
    if h.category == "overseas":
        reg = min(today, arrival + dt.timedelta(days=rng.choice((0, 0, 1))))
    until = ""
    if h.category in ("floating", "overseas"):
        until = date_cell(arrival + dt.timedelta(days=rng.randint(180, 3 * 365)))
    departure = dereg = reason = destination = ""
    if h.departed:
        left = today - dt.timedelta(days=rng.randint(1, 730))
        left = max(left, min(today, arrival + dt.timedelta(days=30)))
        if h.not_deregistered:
            c.city.out.truth["not_deregistered"].write([m.doc_type, m.id_number, c.code, date_cell(left)])
        else:
            departure = date_cell(left)
            dereg = date_cell(min(today, left + dt.timedelta(days=rng.choice((0, 1, 2, 3, 7, 15)))))
            reason = rng.choice(("returned_home", "returned_home", "left_city", "moved_within_city"))
            destination = {
                "returned_home": region_label(m.hukou_region),
                "left_city": "湖北省武汉市",
                "moved_within_city": "湖北省鄂州市",
            }[reason]
    left_rental = tenant_left(more, h)
    if left_rental is not None and more is not None:
        # From the kind's own generator: the community's draws above are the same with or without it.
        gone = max(left_rental, arrival, reg)
        departure = date_cell(gone)
        dereg = date_cell(min(today, gone + dt.timedelta(days=more.tenant_rng.choice((0, 1, 2, 3, 7)))))
        reason = more.tenant_rng.choice(("returned_home", "left_city"))
        destination = region_label(m.hukou_region) if reason == "returned_home" else "湖北省武汉市"
        c.city.out.truth["departed_tenant"].write([m.doc_type, m.id_number, *dkey, departure])
    if not departure:
        _open_residence_truth(c, h, m, dkey, arrival=arrival, registered=reg, until=until)
        note_open(c, h, m, more)
    c.city.out.files["police_residences"].write(
        [
            m.id_number,
            m.doc_type,
            *dkey,
            h.category,
            date_cell(arrival),
            date_cell(reg),
            until,
            departure,
            dereg,
            reason,
            destination,
            _stay_reason(c, m) if h.category == "floating" else "",
        ]
    )


def _open_residence_truth(
    c: Community,
    h: Household,
    m: Person,
    dkey: list[str],
    *,
    arrival: dt.date,
    registered: dt.date,
    until: str,
) -> None:
    """The dated rules an open residence breaks as written, as of the city's day: a stay past its intended end,
    a floating arrival registered more working days after it than the limit."""
    t = c.city.out.truth
    if until and dt.date.fromisoformat(until) < c.today:
        t["stay_expired"].write([m.doc_type, m.id_number, *dkey, until])
    if (
        h.category == "floating"
        and lateness(arrival, registered, default_calendar()) > ARRIVAL_LIMIT_WORKING_DAYS
    ):
        t["registered_late"].write(
            [m.doc_type, m.id_number, *dkey, date_cell(arrival), date_cell(registered)]
        )


# -- other departments ----------------------------------------------------------------------------------------


def _error(c: Community, m: Person, allowed: Iterable[str]) -> tuple[str, str, str, str, str] | None:
    """(error, id_number, name, birth_date, sex) of a record with one realistic error, or None."""
    rng = c.rng
    kinds = list(allowed)
    rng.shuffle(kinds)
    for kind in kinds:
        number, name, born, sex = m.id_number, m.name, date_cell(m.birth), m.sex
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


def _write_health(c: Community, row: list[str], m: Person, more: MorePlan | None) -> None:
    out = c.city.out
    out.bases["duplicate_person"] += 1
    error = None
    if m.doc_type == "resident_id" and c.rng.random() < c.city.rates.duplicate_person:
        err = _error(c, m, (k for k in R.DUPLICATE_ERRORS if k != "old_15_digit"))
        if err is not None:
            kind, number, name, born, _ = err
            error = kind
            row = [number, *row[1:3], name, row[4], born, *row[6:]]
            if kind == "missing_fields":
                row[6] = row[9] = row[13] = ""  # ethnicity, education, phone
            out.truth["duplicate_person"].write(
                ["health_persons", number, name, m.doc_type, m.id_number, m.name, kind]
            )
    if more is not None:
        number, sex = _id_defects(c, more, "health_persons", m, row[0], row[3], error)
        row = [number, *row[1:4], sex, *row[5:]]
    out.files["health_persons"].write(row)


def _write_justice(c: Community, m: Person, more: MorePlan | None) -> None:
    out = c.city.out
    out.bases["duplicate_person"] += 1
    row = [m.id_number, m.name, m.sex, date_cell(m.birth), c.code]
    error = None
    if m.doc_type == "resident_id" and c.rng.random() < c.city.rates.duplicate_person:
        err = _error(c, m, R.DUPLICATE_ERRORS)
        if err is not None:
            kind, number, name, born, sex = err
            error = kind
            row = [number, name, sex, born, c.code]
            out.truth["duplicate_person"].write(
                ["justice_persons", number, name, m.doc_type, m.id_number, m.name, kind]
            )
    if more is not None:
        number, sex = _id_defects(c, more, "justice_persons", m, row[0], row[1], error)
        row = [number, row[1], sex, *row[3:]]
    out.files["justice_persons"].write(row)


def _id_defects(
    c: Community, more: MorePlan, file: str, m: Person, number: str, name: str, error: str | None
) -> tuple[str, str]:
    """The stop-25 ID kinds of a department row: the truth of a duplicate's error that breaks the number's check
    (a wrong or swapped digit) or disagrees with it (day and month swapped), and on a row written without an
    error, now and then a wrong check character or the sex written wrong. Returns the (number, sex) to write."""
    t = c.city.out.truth
    if error in ("wrong_digit", "swapped_digits"):
        t["id_invalid"].write([file, number, name, m.id_number, error])
    elif error == "swapped_day_month":
        t["id_disagrees"].write([file, number, name, "birth_date", error])
    if error is not None or m.doc_type != "resident_id":
        return number, m.sex
    rates = c.city.rates
    c.city.out.bases["id_invalid"] += 1
    c.city.out.bases["id_disagrees"] += 1
    x = more.rng.random()
    if x < rates.id_invalid:
        wrong = "10X98765432"[("10X98765432".index(m.id_number[17]) + more.rng.randint(1, 10)) % 11]
        bad = m.id_number[:17] + wrong
        t["id_invalid"].write([file, bad, name, m.id_number, "wrong_check_character"])
        # The same person written with another number: a duplicate of the register's person too.
        t["duplicate_person"].write(
            [file, bad, name, m.doc_type, m.id_number, m.name, "wrong_check_character"]
        )
        return bad, m.sex
    if x < rates.id_invalid + rates.id_disagrees:
        t["id_disagrees"].write([file, number, name, "sex", "sex_written_wrong"])
        return number, "2" if m.sex == "1" else "1"
    return number, m.sex


# -- venues ---------------------------------------------------------------------------------------------------


def _write_venues(c: Community) -> None:
    """Every urban community has a hotel (now and then two) and an internet café, with 60 days of guests."""
    if not c.urban:
        return
    rng = c.rng
    today = c.today
    f = c.city.out.files
    adults = [
        m for h in c.households if not h.departed for m in h.members if 18 <= R.age_on(m.birth, today) <= 70
    ]
    if not adults:
        return
    stem = c.plan.name.removesuffix("社区")
    # Where the venues are and when they reported each guest come from a generator of their own, so the
    # rest of the community is drawn exactly as before they were written.
    vrng = random.Random(f"{c.city.seed}:{c.code}:venues")
    listed = [p for p in c.plates if not p.missing]
    shops = [p for p in listed if any(b.use == "commercial" for b in p.buildings)] or listed
    for kind, suffixes, n_venues, per_day in (
        ("hotel", R.HOTEL_SUFFIXES, rng.choices((1, 2), (8, 2))[0], 5),
        ("cafe", R.CAFE_SUFFIXES, 1, 12),
    ):
        table = f["venues_hotel_stays" if kind == "hotel" else "venues_cafe_stays"]
        for v in range(n_venues):
            venue = f"{stem}{suffixes[(c.plan.index + v) % len(suffixes)]}"
            if v:
                venue = f"{venue}{v + 1}号店"
            plate = vrng.choice(shops)
            licence = f"{'鄂特旅' if kind == 'hotel' else '鄂网文'}{today.year}-{c.plan.index:03d}{v + 1}"
            f["police_venues"].write(
                [c.code, plate.street_name(), plate.number(), kind, venue, licence, "open"]
            )
            _write_stays(c, table, vrng, venue=venue, kind=kind, stays=60 * per_day, adults=adults)


def _write_stays(
    c: Community,
    table: Table,
    vrng: random.Random,
    *,
    venue: str,
    kind: str,
    stays: int,
    adults: list[Person],
) -> None:
    """The venue's guests over the last 60 days: check-ins drawn in that window, those still there left out."""
    rng = c.rng
    start = dt.datetime.combine(c.today - dt.timedelta(days=60), dt.time())
    midnight = dt.datetime.combine(c.today, dt.time())
    for _ in range(stays):
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
        if check_out > midnight:
            continue  # still there
        doc, number, name, country = _guest(c, adults, local=local)
        reported = min(midnight, check_in + _report_delay(vrng, kind))
        table.write(
            [
                venue,
                c.code,
                doc,
                number,
                name,
                f"{check_in:%Y-%m-%d %H:%M:%S}",
                f"{check_out:%Y-%m-%d %H:%M:%S}",
                f"{reported:%Y-%m-%d %H:%M:%S}",
                country,
            ]
        )
        if is_foreign(doc, country) and reported - check_in > FOREIGN_REPORT_LIMIT:
            c.city.out.truth["foreign_guest_late"].write(
                [venue, doc, number, f"{check_in:%Y-%m-%d %H:%M:%S}", f"{reported:%Y-%m-%d %H:%M:%S}"]
            )


def _guest(c: Community, adults: list[Person], *, local: bool) -> tuple[str, str, str, str]:
    """(doc_type, id_number, name, country) of a guest: a local adult, now and then a foreigner on a passport,
    else a visitor from another county."""
    rng = c.rng
    if local:
        m = rng.choice(adults)
        return m.doc_type, m.id_number, m.name, m.country
    if rng.random() < 0.03:
        number = c.city.new_passport(rng)
        country = R.FOREIGN_COUNTRIES.pick(rng)
        male, female, family = R.FOREIGN_NAMES[country]
        return "passport", number, f"{rng.choice(male + female)} {rng.choice(family)}", country
    sex = "1" if rng.random() < 0.6 else "2"
    born = R.birth_date_for_age(rng, rng.randint(18, 65), c.today)
    number = c.city.new_id(rng, R.OUTSIDE_COUNTIES.pick(rng), born, sex)
    return "resident_id", number, R.person_name(rng, sex), ""


def _report_delay(rng: random.Random, kind: str) -> dt.timedelta:
    """How long after the check-in the venue's system reported it: mostly at once, now and then hours later
    (the front desk typed it in at the end of a shift), rarely days later (the system was down)."""
    x = rng.random()
    if x < (0.93 if kind == "hotel" else 0.95):
        return dt.timedelta(seconds=rng.randint(5, 900 if kind == "hotel" else 120))
    if x < 0.97:
        return dt.timedelta(minutes=rng.randint(60, 12 * 60))
    return dt.timedelta(hours=rng.randint(25, 72))
