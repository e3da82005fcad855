"""Ranked address matching: free text to the standard address it means, with candidates, confidence and reasons."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from liangshi.addresses.matching import road_likeness
from liangshi.addresses.models import Address, AddressVersion, StreetVersion
from liangshi.addresses.parsing import parse_address
from liangshi.addresses.rules import parse_plate_number, render_plate_number
from liangshi.addresses.service.core import _area_names, describe, describe_dwelling
from liangshi.areas.models import Area, AreaVersion
from liangshi.buildings.models import Building, BuildingVersion, Dwelling, DwellingVersion
from liangshi.errors import ValidationFailed
from liangshi.registry import Context, history


def _area_by_name(session: Session, ctx: Context, name: str | None, on: dt.date) -> list[Area]:
    if not name:
        return []
    av = AreaVersion
    return list(
        session.execute(
            select(Area)
            .join(av, and_(av.entity_id == Area.id, av.superseded_at.is_(None), history.valid_on(av, on)))
            .where(av.name == name, Area.path.startswith(ctx.actor.area_path))
        ).scalars()
    )


# The level reached, in the words of a standard address (a dwelling is reached at its room).
MATCH_LEVELS = {
    "area": "area",
    "street": "road",
    "plate": "plate",
    "building": "building",
    "unit": "unit",
    "floor": "floor",
    "dwelling": "room",
}
MAX_CANDIDATES = 5


def _street_names(session: Session, county: str | None) -> list[tuple[int, str, bool, str]]:
    """Every street name (current and former) of a county: (street id, name, current, numbering style).

    Cached per session: a batch matches thousands of addresses against the same county's streets."""
    cache: dict[str | None, list[tuple[int, str, bool, str]]] = session.info.setdefault("street_names", {})
    if county not in cache:
        sv = StreetVersion
        stmt = select(sv.entity_id, sv.name, sv.valid_to, sv.numbering_style).where(
            sv.superseded_at.is_(None)
        )
        if county is not None:
            stmt = stmt.where(sv.county_code == county)
        cache[county] = [
            (int(sid), name, valid_to is None, style) for sid, name, valid_to, style in session.execute(stmt)
        ]
    return cache[county]


def _similar_streets(
    session: Session, road: str, county: str | None
) -> tuple[list[tuple[int, float, str, str]], dict[int, tuple[str, str]]]:
    """Streets (current or former name) like the written road: (street id, score, kind, name), best first;
    and the current name and numbering style of each."""
    names = _street_names(session, county)
    best: dict[int, tuple[float, str, str]] = {}
    for sid, name, current, _ in names:
        likeness = road_likeness(road, name)
        if likeness is None:
            continue
        score, kind = likeness
        if not current:  # a former name of the street
            score, kind = round(score * 0.95, 3), f"former_name_{kind}" if kind != "exact" else "former_name"
        if sid not in best or best[sid][0] < score:
            best[sid] = (score, kind, name)
    ranked = sorted(((sid, *v) for sid, v in best.items()), key=lambda r: (-r[1], r[0]))[: MAX_CANDIDATES * 2]
    wanted = {r[0] for r in ranked}
    now = {sid: (name, style) for sid, name, current, style in names if current and sid in wanted}
    return ranked, now


def _plate_candidates(
    session: Session,
    on: dt.date,
    similar: tuple[list[tuple[int, float, str, str]], dict[int, tuple[str, str]]],
    number: str | None,
) -> list[dict[str, Any]]:
    """Ranked plate candidates on the similar streets: confidence and the reasons for each."""
    streets, now = similar
    if not streets:
        return []
    try:
        base, sub = parse_plate_number(number) if number else (None, None)
    except ValidationFailed:
        base, sub = None, None
    v = AddressVersion
    scores = {sid: (score, kind, name) for sid, score, kind, name in streets}
    rows: list[tuple[int, int, int, int, int | None]] = []
    if base is not None:
        rows = [
            (int(aid), int(area_id), int(sid or 0), int(b), None if s is None else int(s))
            for aid, area_id, sid, b, s in session.execute(
                select(Address.id, Address.area_id, Address.street_id, v.base_number, v.sub_number)
                .join(v, and_(v.entity_id == Address.id, v.superseded_at.is_(None), history.valid_on(v, on)))
                .where(Address.street_id.in_(list(scores)), v.base_number == base, v.status != "retired")
            ).all()
        ]
    candidates: list[dict[str, Any]] = []
    for aid, area_id, sid, plate_base, plate_sub in rows:
        street_score, kind, name = scores[sid]
        reasons = [f"street:{kind}={name}"]
        confidence = 0.8 * street_score
        if plate_sub == sub:
            reasons.append(f"number:{number}")
        else:
            confidence *= 0.6
            reasons.append("number:sub_number_differs")
        current_name, style = now.get(sid, (name, "dash"))
        standard = "".join(_area_names(session, area_id, on)) + current_name
        candidates.append(
            {
                "level": "plate",
                "address_id": aid,
                "street_id": sid,
                "standard": standard + render_plate_number(plate_base, plate_sub, style or "dash"),
                "confidence": round(confidence, 2),
                "reasons": reasons,
            }
        )
    found = {c["street_id"] for c in candidates}
    for sid, street_score, kind, name in streets:
        if sid not in found:
            reasons = [f"street:{kind}={name}"]
            if base is not None:
                reasons.append("number:not_found")
            candidates.append(
                {
                    "level": "road",
                    "address_id": None,
                    "street_id": sid,
                    "standard": now.get(sid, (name, ""))[0],
                    "confidence": round(0.5 * street_score, 2),
                    "reasons": reasons,
                }
            )
    candidates.sort(key=lambda c: (-c["confidence"], c["standard"], c["address_id"] or 0))
    return candidates[:MAX_CANDIDATES]


def match_address(session: Session, ctx: Context, text: str) -> dict[str, Any]:
    """Match free text to the standard address it means, with a confidence, the reasons and the
    ranked candidates (each with its own confidence and reasons)."""
    result = _match_address(session, ctx, text)
    likeness = result.pop("street_likeness", 1.0)
    if result["level"] not in (None, "area"):  # a street found by likeness, not by its name: less sure
        result["confidence"] = round(result["confidence"] * likeness, 2)
    result["match_level"] = MATCH_LEVELS.get(result["level"]) if result["level"] else None
    return result


def match_batch(session: Session, ctx: Context, texts: list[str]) -> list[dict[str, Any]]:
    """Each address matched, in order (a text past 300 characters is read from its start only)."""
    ctx.actor.ensure("address.read")
    return [match_address(session, ctx, text[:300]) for text in texts]


def _match_address(session: Session, ctx: Context, text: str) -> dict[str, Any]:
    ctx.actor.ensure("address.read")
    on = ctx.today
    parsed = parse_address(text)
    p = parsed.to_json()
    reasons: list[str] = []
    street_factor = 1.0
    result: dict[str, Any] = {
        "input": text,
        "parsed": p,
        "notes": parsed.notes,
        "candidates": [],
        "level": None,
        "area_id": None,
        "address_id": None,
        "building_id": None,
        "dwelling_id": None,
        "standard": None,
        "confidence": 0.0,
    }
    area = None
    for key in ("community", "township", "district"):
        found = _area_by_name(session, ctx, p[key], on)
        if len(found) == 1:
            area = found[0]
            reasons.append(f"area:{key}={p[key]}")
            break
    if area is not None:
        result.update(level="area", area_id=area.id, confidence=0.3)
    county = area.county_code if area is not None else None
    street_ids: list[int] = []
    if p["road"]:
        sv = StreetVersion
        stmt = select(sv.entity_id, sv.valid_to).where(sv.name == p["road"], sv.superseded_at.is_(None))
        if county is not None:
            stmt = stmt.where(sv.county_code == county)
        rows = session.execute(stmt).all()
        current = sorted({int(sid) for sid, valid_to in rows if valid_to is None})
        former = sorted({int(sid) for sid, valid_to in rows if valid_to is not None} - set(current))
        street_ids = current or former
        if current:
            reasons.append(f"street:{p['road']}")
        elif former:
            reasons.append(f"street:former_name={p['road']}")
        similar = _similar_streets(session, p["road"], county)
        result["candidates"] = _plate_candidates(session, on, similar, p["number"])
        if not street_ids and similar[0]:
            top = [s for s in similar[0] if s[1] == similar[0][0][1]]
            if len(top) == 1:  # one street clearly the likest: 花圆路 for 花园路
                sid, street_factor, kind, name = top[0]
                street_ids = [sid]
                reasons.append(f"street:{kind}={p['road']}→{name}")
        if len(street_ids) == 1:
            result.update(level="street", confidence=0.5 if current else 0.45, street_likeness=street_factor)
    if p["number"] is None or (p["road"] and len(street_ids) != 1) or (not p["road"] and area is None):
        result["reasons"] = reasons or ["nothing matched"]
        return result
    try:
        base, sub = parse_plate_number(p["number"])
    except ValidationFailed:
        result["reasons"] = [*reasons, "number:unreadable"]
        return result
    v = AddressVersion
    if street_ids:
        where: Any = Address.street_id == street_ids[0]
    else:
        assert area is not None  # a village plate: no road, so the area was required above
        where = and_(Address.street_id.is_(None), Address.area_id == area.id)
    plate_ids = list(
        session.execute(
            select(Address.id)
            .join(v, and_(v.entity_id == Address.id, v.superseded_at.is_(None), history.valid_on(v, on)))
            .where(
                where,
                v.base_number == base,
                v.sub_number.is_(None) if sub is None else v.sub_number == sub,
                v.status != "retired",
            )
        ).scalars()
    )
    if len(plate_ids) != 1:
        result["reasons"] = [*reasons, "number:not_found"]
        return result
    address_id = int(plate_ids[0])
    reasons.append(f"number:{p['number']}")
    result.update(
        level="plate",
        address_id=address_id,
        confidence=0.8,
        standard=describe(session, address_id, on)["text"],
    )
    if p["building"]:
        bv = BuildingVersion
        labels = {f"{p['building']}{s}" for s in ("栋", "幢", "号楼", "座", "")}
        bids = list(
            session.execute(
                select(Building.id)
                .join(
                    bv,
                    and_(bv.entity_id == Building.id, bv.superseded_at.is_(None), history.valid_on(bv, on)),
                )
                .where(Building.address_id == address_id, bv.label.in_(labels))
            ).scalars()
        )
        if len(bids) == 1:
            result.update(level="building", building_id=int(bids[0]), confidence=0.9)
            reasons.append(f"building:{p['building']}")
            if p["room"]:
                dv = DwellingVersion
                unit = int(p["unit"]) if p["unit"] and p["unit"].isdigit() else None
                dids = list(
                    session.execute(
                        select(Dwelling.id)
                        .join(
                            dv,
                            and_(
                                dv.entity_id == Dwelling.id,
                                dv.superseded_at.is_(None),
                                history.valid_on(dv, on),
                            ),
                        )
                        .where(
                            Dwelling.building_id == bids[0],
                            dv.room == p["room"],
                            dv.unit.is_(None) if unit is None else dv.unit == unit,
                        )
                    ).scalars()
                )
                if len(dids) == 1:
                    result.update(
                        level="dwelling",
                        dwelling_id=int(dids[0]),
                        confidence=1.0,
                        standard=describe_dwelling(session, int(dids[0]), on)["text"],
                    )
                    reasons.append(f"room:{p['room']}")
                else:
                    reasons.append("room:not_found")
            partial = _unit_and_floor(session, int(bids[0]), p, on) if result["level"] == "building" else None
            if partial is not None:
                level, why = partial
                result.update(level=level, confidence=0.95 if level == "floor" else 0.92)
                reasons.extend(why)
        else:
            reasons.append("building:not_found")
    if not p["road"] and area is not None:
        result["confidence"] = round(result["confidence"] - 0.05, 2)
    result["reasons"] = reasons
    return result


def match_within_plate(session: Session, address_id: int, text: str | None, on: dt.date) -> dict[str, Any]:
    """Match the detail written after a known plate (3栋1单元501) onto its buildings and dwellings: the level
    reached (`plate`, `building`, `room`) and the building and dwelling found. A dwelling's room is matched with
    its unit when one is written; one building on the plate is taken when none is written."""
    found: dict[str, Any] = {"level": "plate", "building_id": None, "dwelling_id": None}
    if not text:
        return found
    p = parse_address(text).to_json()
    bv, dv = BuildingVersion, DwellingVersion
    buildings = session.execute(
        select(Building.id, bv.label)
        .join(bv, and_(bv.entity_id == Building.id, bv.superseded_at.is_(None), history.valid_on(bv, on)))
        .where(Building.address_id == address_id)
    ).all()
    if p["building"]:
        labels = {f"{p['building']}{s}" for s in ("栋", "幢", "号楼", "座", "")}
        chosen = [int(bid) for bid, label in buildings if label in labels]
    else:
        chosen = [int(bid) for bid, _ in buildings] if len(buildings) == 1 else []
    if len(chosen) != 1:
        return found
    found.update(level="building", building_id=chosen[0])
    partial = _unit_and_floor(session, chosen[0], p, on)
    if partial is not None:
        found["level"] = partial[0]
    if not p["room"]:
        return found
    unit = int(p["unit"]) if p["unit"] and p["unit"].isdigit() else None
    dwellings = list(
        session.execute(
            select(Dwelling.id)
            .join(dv, and_(dv.entity_id == Dwelling.id, dv.superseded_at.is_(None), history.valid_on(dv, on)))
            .where(
                Dwelling.building_id == chosen[0],
                dv.room == p["room"],
                *([dv.unit == unit] if unit is not None else []),
            )
        ).scalars()
    )
    if len(dwellings) == 1:
        found.update(level="room", dwelling_id=int(dwellings[0]))
    return found


def _floor_written(p: dict[str, Any]) -> int | None:
    """The floor a written address names: its 楼/层, else the room number's leading digits (501 → 5, 1203 → 12)."""
    if p["floor"] and p["floor"].lstrip("-").isdigit():
        return int(p["floor"])
    room = p["room"] or ""
    return int(room[:-2]) if room.isdigit() and 3 <= len(room) <= 4 and int(room[:-2]) > 0 else None


def _unit_and_floor(
    session: Session, building_id: int, p: dict[str, Any], on: dt.date
) -> tuple[str, list[str]] | None:
    """How far below a building a written unit and floor reach when no one dwelling was found: `floor` when some
    dwelling of the building (of the written unit, if one is) lies on the floor written, `unit` when some dwelling
    lies in the unit written; None when neither is written or none of the building's dwellings has them."""
    unit = int(p["unit"]) if p["unit"] and p["unit"].isdigit() else None
    floor = _floor_written(p)
    if unit is None and floor is None:
        return None
    dv = DwellingVersion
    rows = session.execute(
        select(dv.unit, dv.floor)
        .join(Dwelling, Dwelling.id == dv.entity_id)
        .where(Dwelling.building_id == building_id, dv.superseded_at.is_(None), history.valid_on(dv, on))
    ).all()
    in_unit = [f for u, f in rows if unit is None or u == unit]
    if unit is not None and not in_unit:
        return None
    why = [f"unit:{unit}"] if unit is not None else []
    if floor is not None and floor in in_unit:
        return "floor", [*why, f"floor:{floor}"]
    return ("unit", why) if unit is not None else None
