"""The set-based rules of the checks within the register (plates, buildings, addresses, dwellings, households,
persons, residences, rentals, stays): one statement per check over an area subtree, SQLite and PostgreSQL.

As in `checks.sql`, every statement takes ``:prefix`` (the area path of the scope, matched with LIKE) and returns
``object_id``, ``area_id``, ``county_code`` with the natural-key and evidence columns; dated rules take ``:today``
(see `checks.service.register._today` for how it is bound). Their definitions in words are in docs/checks.md.
The few spellings that differ between the databases are functions of the dialect name.
"""

from __future__ import annotations

from liangshi.checks.sql import _DOCS, _FIRST_DOC, _OPEN_RESIDENCE, DWELLINGS, PLATES, _cur, _first_number_of

ID_KINDS_SQL = "('resident_id', 'hmt_residence_permit', 'foreign_pr_card')"


def days_between(later: str, earlier: str, dialect: str) -> str:
    """SQL: whole days from `earlier` to `later` (dates)."""
    if dialect == "postgresql":
        return f"({later} - {earlier})"
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def today(dialect: str) -> str:
    """SQL: the bound ``:today`` as a date."""
    return "CAST(:today AS DATE)" if dialect == "postgresql" else ":today"


# Door plates that should exist (not retired), scoped; and the same over every area (a street crosses communities).
DOOR_PLATES = f"SELECT p.* FROM ({PLATES}) p WHERE p.plate_kind = 'door' AND p.status <> 'retired'"
_ALL_DOOR_PLATES = DOOR_PLATES.replace("WHERE ar.path LIKE :prefix", "WHERE 1 = 1")

# Two or more plates of one street (a village: of one community) in one community carrying the same number.
PLATE_DUPLICATE_NUMBER = f"""
SELECT MIN(p.object_id) AS object_id, MIN(p.area_id) AS area_id, MIN(p.county_code) AS county_code,
       p.community_code, p.street, MIN(p.style) AS style, p.base_number, p.sub_number, COUNT(*) AS plates
FROM ({DOOR_PLATES}) p
GROUP BY p.community_code, COALESCE(p.street_id, 0), p.street, p.base_number, p.sub_number
HAVING COUNT(*) > 1
"""

# 一号多址: one number of one street held by plates in two or more communities.
ONE_NUMBER_MANY_PLACES = f"""
WITH g AS (
  SELECT q.street_id, q.base_number, COALESCE(q.sub_number, 0) AS sub, COUNT(DISTINCT q.community_code) AS places
  FROM ({_ALL_DOOR_PLATES}) q WHERE q.street_id IS NOT NULL
  GROUP BY q.street_id, q.base_number, COALESCE(q.sub_number, 0)
  HAVING COUNT(DISTINCT q.community_code) > 1
)
SELECT p.*, g.places FROM ({DOOR_PLATES}) p
JOIN g ON g.street_id = p.street_id AND g.base_number = p.base_number AND g.sub = COALESCE(p.sub_number, 0)
"""

# 多号一址: two or more plates recorded at one point (equal to 1e-6 degrees, about 0.1 m: no two doors can be) with
# different numbers.
MANY_NUMBERS_ONE_PLACE = f"""
WITH pos AS (
  SELECT p.*, ROUND(p.lon * 1000000) AS gx, ROUND(p.lat * 1000000) AS gy
  FROM ({DOOR_PLATES}) p WHERE p.lon IS NOT NULL AND p.lat IS NOT NULL
),
g AS (
  SELECT gx, gy, COUNT(*) AS plates FROM pos GROUP BY gx, gy
  HAVING COUNT(*) > 1 AND (MIN(base_number) <> MAX(base_number)
                           OR MIN(COALESCE(sub_number, 0)) <> MAX(COALESCE(sub_number, 0)))
)
SELECT pos.*, g.plates FROM pos JOIN g ON g.gx = pos.gx AND g.gy = pos.gy
"""

_CURRENT_BUILDINGS = f"""
SELECT bd.id AS building_id, bd.address_id, bv.label FROM buildings bd
JOIN building_versions bv ON bv.entity_id = bd.id AND {_cur("bv")}
"""

_HOUSING_PLATES = """
SELECT DISTINCT community_code, COALESCE(street, '') AS street, base_number, COALESCE(sub_number, 0) AS sub
FROM check_source_records WHERE kind = 'dwellings' AND base_number IS NOT NULL
"""

# An installed plate with no current building on it (one not yet installed is `plate.not_installed`); `named`
# says whether the housing department's file names dwellings at its number (then the register left the building
# out; else nothing stands there: 有号无址).
PLATE_WITHOUT_BUILDING = f"""
SELECT p.*, CASE WHEN n.base_number IS NULL THEN 0 ELSE 1 END AS named
FROM ({DOOR_PLATES}) p
LEFT JOIN (SELECT DISTINCT address_id FROM ({_CURRENT_BUILDINGS}) cb) b ON b.address_id = p.object_id
LEFT JOIN ({_HOUSING_PLATES}) n ON n.community_code = p.community_code AND n.street = p.street
  AND n.base_number = p.base_number AND n.sub = COALESCE(p.sub_number, 0)
WHERE b.address_id IS NULL AND p.status = 'installed'
"""

# A current building with its plate as the register holds it now (plate columns NULL where it has no current
# version), and how many of its dwellings have an open residence.
_BUILDINGS_ON_PLATES = f"""
SELECT cb.building_id AS object_id, a.area_id, a.county_code, ar.code AS community_code,
       COALESCE(sv.name, '') AS street, COALESCE(sv.numbering_style, 'dash') AS style,
       lastv.base_number, lastv.sub_number, av.status, cb.label AS building,
       COALESCE(inh.dwellings, 0) AS inhabited_dwellings
FROM ({_CURRENT_BUILDINGS}) cb
JOIN addresses a ON a.id = cb.address_id
JOIN areas ar ON ar.id = a.area_id
JOIN (SELECT x.entity_id, x.base_number, x.sub_number FROM address_versions x
      JOIN (SELECT entity_id, MAX(row_id) AS row_id FROM address_versions WHERE superseded_at IS NULL
            GROUP BY entity_id) m ON m.row_id = x.row_id) lastv ON lastv.entity_id = a.id
LEFT JOIN address_versions av ON av.entity_id = a.id AND {_cur("av")}
LEFT JOIN street_versions sv ON sv.entity_id = a.street_id AND {_cur("sv")}
LEFT JOIN (
  SELECT d.building_id, COUNT(DISTINCT d.id) AS dwellings FROM dwellings d
  JOIN ({_OPEN_RESIDENCE}) o ON o.dwelling_id = d.id GROUP BY d.building_id
) inh ON inh.building_id = cb.building_id
WHERE ar.path LIKE :prefix
"""

# A building on a plate that was retired or has no current version (a building on a plate not yet installed is
# `plate.not_installed`, found on the plate).
BUILDING_NO_INSTALLED_PLATE = f"""
SELECT b.* FROM ({_BUILDINGS_ON_PLATES}) b WHERE b.status IS NULL OR b.status = 'retired'
"""

# 有址无号: a building where people are registered living (an address in use) whose plate is not on the door.
ADDRESS_WITHOUT_PLATE = f"""
SELECT b.* FROM ({_BUILDINGS_ON_PLATES}) b
WHERE b.inhabited_dwellings > 0 AND (b.status IS NULL OR b.status <> 'installed')
"""

# 号址不一: the housing department's file puts a dwelling at a plate the register holds, while the register
# holds that dwelling (its building, unit and room, found exactly once on the street) at another number.
NUMBER_MISMATCH = f"""
WITH reg AS (SELECT w.*, COALESCE(CAST(w.unit AS VARCHAR(10)), '') AS unit_text FROM ({DWELLINGS}) w),
place AS (
  SELECT community_code, street, building, unit_text, room, MIN(base_number) AS base_number,
         MIN(COALESCE(sub_number, 0)) AS sub, MIN(sub_number) AS sub_number, MIN(style) AS style
  FROM reg GROUP BY community_code, street, building, unit_text, room HAVING COUNT(*) = 1
),
plates AS (SELECT DISTINCT community_code, street, base_number, COALESCE(sub_number, 0) AS sub FROM reg)
SELECT MIN(s.id) AS object_id, MIN(s.area_id) AS area_id, MIN(s.county_code) AS county_code,
       s.community_code, COALESCE(s.street, '') AS street, MIN(s.number) AS number_text, s.building,
       COALESCE(s.unit, '') AS unit, s.room, MIN(place.base_number) AS register_base,
       MIN(place.sub_number) AS register_sub, MIN(place.style) AS style, MIN(s.source) AS source,
       MIN(s.line) AS line
FROM check_source_records s
JOIN areas ar ON ar.id = s.area_id
JOIN plates p2 ON p2.community_code = s.community_code AND p2.street = COALESCE(s.street, '')
  AND p2.base_number = s.base_number AND p2.sub = COALESCE(s.sub_number, 0)
JOIN place ON place.community_code = s.community_code AND place.street = COALESCE(s.street, '')
  AND place.building = s.building AND place.unit_text = COALESCE(s.unit, '') AND place.room = s.room
WHERE s.kind = 'dwellings' AND ar.path LIKE :prefix AND s.base_number IS NOT NULL
  AND NOT (place.base_number = s.base_number AND place.sub = COALESCE(s.sub_number, 0))
GROUP BY s.community_code, COALESCE(s.street, ''), s.base_number, s.sub_number, s.building, COALESCE(s.unit, ''),
         s.room
"""

# A dwelling recorded vacant or demolished with open residences (the status or the residences are wrong).
DWELLING_VACANT_WITH_RESIDENTS = f"""
SELECT w.*, n.open_residences
FROM ({DWELLINGS}) w
JOIN (SELECT o.dwelling_id, COUNT(*) AS open_residences FROM ({_OPEN_RESIDENCE}) o GROUP BY o.dwelling_id) n
  ON n.dwelling_id = w.object_id
WHERE w.status IN ('vacant', 'demolished')
"""

# An actual household at a dwelling whose members are not the persons living there: a member without an open
# residence at the household's dwelling, or (the dwelling's only household) a person living there outside it.
HOUSEHOLD_MEMBER_COUNT = f"""
WITH hh AS (
  SELECT h.id AS household_id, hv.dwelling_id, hv.household_number
  FROM households h JOIN household_versions hv ON hv.entity_id = h.id AND {_cur("hv")}
  WHERE h.household_kind = 'actual' AND hv.dwelling_id IS NOT NULL
),
mem AS (
  SELECT DISTINCT m.household_id, m.person_id FROM memberships m
  JOIN membership_versions mv ON mv.entity_id = m.id AND {_cur("mv")}
),
living AS (SELECT DISTINCT o.dwelling_id, o.person_id FROM ({_OPEN_RESIDENCE}) o),
per_h AS (
  SELECT hh.household_id, COUNT(mem.person_id) AS members, COUNT(l.person_id) AS living_members
  FROM hh LEFT JOIN mem ON mem.household_id = hh.household_id
  LEFT JOIN living l ON l.dwelling_id = hh.dwelling_id AND l.person_id = mem.person_id
  GROUP BY hh.household_id
),
in_some AS (SELECT DISTINCT hh.dwelling_id, mem.person_id FROM hh JOIN mem ON mem.household_id = hh.household_id),
outside AS (
  SELECT l.dwelling_id, COUNT(*) AS persons FROM living l
  JOIN (SELECT DISTINCT dwelling_id FROM hh) d ON d.dwelling_id = l.dwelling_id
  LEFT JOIN in_some x ON x.dwelling_id = l.dwelling_id AND x.person_id = l.person_id
  WHERE x.person_id IS NULL GROUP BY l.dwelling_id
),
households_at AS (SELECT dwelling_id, COUNT(*) AS households FROM hh GROUP BY dwelling_id)
SELECT w.*, hh.household_id, hh.household_number, ph.members, ph.living_members,
       COALESCE(os.persons, 0) AS living_outside, ha.households
FROM hh
JOIN per_h ph ON ph.household_id = hh.household_id
JOIN ({DWELLINGS}) w ON w.object_id = hh.dwelling_id
JOIN households_at ha ON ha.dwelling_id = hh.dwelling_id
LEFT JOIN outside os ON os.dwelling_id = hh.dwelling_id
WHERE ph.members <> ph.living_members OR (ha.households = 1 AND COALESCE(os.persons, 0) > 0)
"""


# Two register persons that are one: the same document number, or the same name (pinyin), birth date and sex with
# resident ID numbers one typo apart (one character different: two valid numbers always differ in at least two,
# their check characters too). The later person (higher id) is the finding. The numbers are sealed
# (docs/encryption.md): one number is one keyed-hash index entry (PERSON_SAME_NUMBER); the typo is counted on the
# opened numbers of the namesakes' resident IDs (PERSON_NAMESAKES, in `checks.service.register`).
PERSON_SAME_NUMBER = f"""
WITH docs AS ({_DOCS}),
same_number AS (
  SELECT doc_type, number_idx, MIN(person_id) AS first_person FROM docs
  GROUP BY doc_type, number_idx HAVING COUNT(DISTINCT person_id) > 1
)
SELECT d.person_id AS object_id, p.area_id, p.county_code, d.doc_type, d.number AS id_number,
       sn.first_person AS twin
FROM same_number sn JOIN docs d ON d.doc_type = sn.doc_type AND d.number_idx = sn.number_idx
JOIN persons p ON p.id = d.person_id JOIN areas ar ON ar.id = p.area_id
WHERE d.person_id <> sn.first_person AND ar.path LIKE :prefix
"""

PERSON_NAMESAKES = f"""
WITH cur AS (
  SELECT pv.entity_id, pv.name_pinyin, pv.birth_date, pv.sex FROM person_versions pv WHERE {_cur("pv")}
),
-- One pass over the current persons: the (name pinyin, birth date, sex) held more than once, then only their
-- members are paired (a common name alone fans out to thousands of persons).
shared AS (
  SELECT name_pinyin, birth_date, sex FROM cur
  WHERE name_pinyin IS NOT NULL AND birth_date IS NOT NULL AND sex IS NOT NULL
  GROUP BY name_pinyin, birth_date, sex HAVING COUNT(*) > 1
),
members AS (
  SELECT c.entity_id, c.name_pinyin, c.birth_date, c.sex FROM cur c
  JOIN shared g ON g.name_pinyin = c.name_pinyin AND g.birth_date = c.birth_date AND g.sex = c.sex
),
namesakes AS (
  SELECT pa.entity_id AS a, pb.entity_id AS b
  FROM members pa
  JOIN members pb ON pb.name_pinyin = pa.name_pinyin AND pb.birth_date = pa.birth_date
    AND pb.sex = pa.sex AND pb.entity_id > pa.entity_id
)
SELECT nb.b AS object_id, p.area_id, p.county_code, vb.doc_type, vb.number AS id_number, nb.a AS twin,
       va.number AS twin_number
FROM namesakes nb
JOIN documents da ON da.person_id = nb.a
JOIN document_versions va ON va.entity_id = da.id AND {_cur("va")} AND va.doc_type = 'resident_id'
JOIN documents db ON db.person_id = nb.b
JOIN document_versions vb ON vb.entity_id = db.id AND {_cur("vb")} AND vb.doc_type = 'resident_id'
  AND vb.number_idx <> va.number_idx
JOIN persons p ON p.id = nb.b JOIN areas ar ON ar.id = p.area_id
WHERE ar.path LIKE :prefix
"""


# Department records waiting twice in the person index's review queue: two records in review with one ID number,
# or with one name and birth date and ID numbers one typo apart. The later record is the finding. The numbers are
# sealed (docs/encryption.md): one number is one keyed-hash index entry (WAITING_SAME_NUMBER); the typo, one
# character apart, is counted on the opened numbers of the pairs with one name and birth date
# (WAITING_SAME_NAME_BIRTH, in `checks.service.register`).
_REVIEW_QUEUE = "SELECT * FROM person_source_records WHERE status = 'review' AND id_number IS NOT NULL"
_WAITING_RECORD = (
    "r2.id AS object_id, r2.area_id, r2.county_code, r2.source, r2.source_record_id, r2.id_number, r2.name"
)

WAITING_SAME_NUMBER = f"""
WITH q AS ({_REVIEW_QUEUE})
SELECT {_WAITING_RECORD}, r1.id AS twin, r1.id_number AS twin_number
FROM q r1 JOIN q r2 ON r2.id_number_idx = r1.id_number_idx AND r2.id > r1.id
JOIN areas ar ON ar.id = r2.area_id
WHERE ar.path LIKE :prefix
"""

WAITING_SAME_NAME_BIRTH = f"""
WITH q AS ({_REVIEW_QUEUE})
SELECT {_WAITING_RECORD}, r1.id AS twin, r1.id_number AS twin_number
FROM q r1 JOIN q r2 ON r2.name = r1.name AND r2.birth_date = r1.birth_date AND r2.id > r1.id
  AND r2.id_number_idx <> r1.id_number_idx
JOIN areas ar ON ar.id = r2.area_id
WHERE ar.path LIKE :prefix
"""


# Every current ID-number document (resident ID, permits, permanent residence card) of the scope with the
# person's sex and birth date: what is wrong with the (sealed) number is judged on the opened number
# (`checks.service.register._id_rows`).
ID_DOCUMENTS = f"""
SELECT doc.person_id AS object_id, p.area_id, p.county_code, docv.doc_type, docv.number AS id_number, pv.sex,
       pv.birth_date
FROM documents doc
JOIN document_versions docv ON docv.entity_id = doc.id AND {_cur("docv")}
JOIN persons p ON p.id = doc.person_id
JOIN areas ar ON ar.id = p.area_id
JOIN person_versions pv ON pv.entity_id = p.id AND {_cur("pv")}
WHERE docv.doc_type IN {ID_KINDS_SQL} AND ar.path LIKE :prefix
"""


# A person living in the area (an open residence) with a main item (主项) missing: name, sex, birth date, ID
# document, and for a Chinese national ethnicity and hukou place; relationship to the household head (no
# current membership). The current address and the category are the residence's own.
MAIN_ITEMS_MISSING = f"""
SELECT * FROM (
  SELECT p.id AS object_id, p.area_id, p.county_code, fd.doc_type, fd.id_number, pv.name,
    CASE WHEN pv.name IS NULL OR TRIM(pv.name) = '' THEN 1 ELSE 0 END AS no_name,
    CASE WHEN pv.sex IN ('1', '2') THEN 0 ELSE 1 END AS no_sex,
    CASE WHEN pv.birth_date IS NULL THEN 1 ELSE 0 END AS no_birth_date,
    CASE WHEN fd.person_id IS NULL THEN 1 ELSE 0 END AS no_document,
    CASE WHEN pv.nationality = 'CHN' AND pv.ethnicity IS NULL THEN 1 ELSE 0 END AS no_ethnicity,
    CASE WHEN pv.nationality = 'CHN' AND COALESCE(fd.doc_type, '') <> 'hmt_residence_permit'
      AND pv.hukou_region IS NULL AND pv.hukou_address IS NULL THEN 1 ELSE 0 END AS no_hukou,
    CASE WHEN mem.person_id IS NULL THEN 1 ELSE 0 END AS no_relationship,
    w.community_code, w.street, w.style, w.base_number, w.sub_number, w.building, w.unit, w.room
  FROM (SELECT person_id, MIN(dwelling_id) AS dwelling_id FROM ({_OPEN_RESIDENCE}) r GROUP BY person_id) o
  JOIN persons p ON p.id = o.person_id
  JOIN areas ar ON ar.id = p.area_id
  JOIN person_versions pv ON pv.entity_id = p.id AND {_cur("pv")}
  LEFT JOIN ({_FIRST_DOC}) fd ON fd.person_id = p.id
  LEFT JOIN (SELECT DISTINCT m.person_id FROM memberships m
             JOIN membership_versions mv ON mv.entity_id = m.id AND {_cur("mv")}) mem ON mem.person_id = p.id
  LEFT JOIN ({DWELLINGS}) w ON w.object_id = o.dwelling_id
  WHERE ar.path LIKE :prefix
) x
WHERE x.no_name + x.no_sex + x.no_birth_date + x.no_document + x.no_ethnicity + x.no_hukou + x.no_relationship > 0
"""


def _open_residences_at(dialect: str, where: str) -> str:
    return f"""
SELECT r.id AS object_id, r.area_id, r.county_code, r.person_id, rv.category, rv.arrival_date,
       rv.registration_date, rv.intended_stay_until, fd.doc_type, fd.id_number,
       w.community_code, w.street, w.style, w.base_number, w.sub_number, w.building, w.unit, w.room
FROM residences r
JOIN residence_versions rv ON rv.entity_id = r.id AND {_cur("rv")}
JOIN ({DWELLINGS}) w ON w.object_id = r.dwelling_id
LEFT JOIN ({_FIRST_DOC}) fd ON fd.person_id = r.person_id
WHERE rv.departure_date IS NULL AND rv.deregistration_date IS NULL AND ({where})
"""


def stay_expired(dialect: str) -> str:
    """An open residence past its intended end (居住期满未续期、未注销)."""
    return _open_residences_at(dialect, f"rv.intended_stay_until < {today(dialect)}")


def registered_late_candidates(dialect: str) -> str:
    """Open floating residences registered, or still unregistered, more calendar days after the arrival than the
    limit in working days (a working-day count never exceeds the calendar one; the service decides exactly)."""
    days = days_between("rv.registration_date", "rv.arrival_date", dialect)
    late_now = days_between(today(dialect), "rv.arrival_date", dialect)
    return _open_residences_at(
        dialect,
        f"rv.category = 'floating' AND ((rv.registration_date IS NOT NULL AND {days} > :limit)"
        f" OR (rv.registration_date IS NULL AND {late_now} > :limit))",
    )


def _rentals(where: str) -> str:
    return f"""
SELECT w.*, rt.id AS rental_id, rv.lease_end, rv.lease_start,
       {_first_number_of("rv.landlord_person_id")} AS landlord_id_number
FROM rentals rt
JOIN rental_versions rv ON rv.entity_id = rt.id AND {_cur("rv")}
JOIN ({DWELLINGS}) w ON w.object_id = rt.dwelling_id
WHERE rv.status = 'open' AND ({where})
"""


def lease_ended_open(dialect: str) -> str:
    """An active rental whose lease ended before today."""
    return _rentals(f"rv.lease_end < {today(dialect)}")


# A tenant of an active rental who has no open residence at the rented dwelling (departed or never there).
DEPARTED_TENANT = f"""
SELECT w.*, rt.id AS rental_id, t.person_id, fd.doc_type, fd.id_number, t.residence_id
FROM rentals rt
JOIN rental_versions rv ON rv.entity_id = rt.id AND {_cur("rv")}
JOIN ({DWELLINGS}) w ON w.object_id = rt.dwelling_id
JOIN rental_tenants t ON t.rental_id = rt.id
JOIN rental_tenant_versions tv ON tv.entity_id = t.id AND {_cur("tv")}
LEFT JOIN ({_FIRST_DOC}) fd ON fd.person_id = t.person_id
LEFT JOIN (SELECT DISTINCT o.person_id, o.dwelling_id FROM ({_OPEN_RESIDENCE}) o) live
  ON live.person_id = t.person_id AND live.dwelling_id = rt.dwelling_id
WHERE rv.status = 'open' AND live.person_id IS NULL
"""

# A current community-correction case (not ended as of :today) whose person holds no open residence in the register
# (departed or deregistered): the case's community scopes it; `left_on`, the person's last departure or
# deregistration as the register records it.
CORRECTION_PERSON_DEPARTED = f"""
SELECT c.person_id AS object_id, c.area_id, ar.county_code, ar.code AS community_code, c.id AS case_id,
       c.department,
       (SELECT d.doc_type FROM ({_DOCS}) d WHERE d.doc_id = (
          SELECT MIN(y.doc_id) FROM ({_DOCS}) y WHERE y.person_id = c.person_id)) AS doc_type,
       {_first_number_of("c.person_id")} AS id_number,
       (SELECT MAX(COALESCE(rv.departure_date, rv.deregistration_date))
        FROM residences r JOIN residence_versions rv ON rv.entity_id = r.id AND rv.superseded_at IS NULL
        WHERE r.person_id = c.person_id) AS left_on
FROM correction_cases c
JOIN areas ar ON ar.id = c.area_id
WHERE c.superseded_at IS NULL AND (c.end_date IS NULL OR c.end_date >= :today) AND ar.path LIKE :prefix
  AND NOT EXISTS (
    SELECT 1 FROM residences r JOIN residence_versions rv ON rv.entity_id = r.id AND {_cur("rv")}
    WHERE r.person_id = c.person_id AND rv.departure_date IS NULL AND rv.deregistration_date IS NULL
  )
"""

# A foreign guest's stay that reached the register after the limit (the venue rule's `late_report`, set on receipt).
FOREIGN_GUEST_LATE = f"""
SELECT s.id AS object_id, s.area_id, s.county_code, vv.name AS venue, s.stay_ref, s.doc_type, s.doc_number,
       s.doc_country, s.check_in_at, s.received_at
FROM stays s
JOIN areas ar ON ar.id = s.area_id
JOIN venue_versions vv ON vv.entity_id = s.venue_id AND {_cur("vv")}
WHERE s."foreign" = TRUE AND s.late_report = TRUE AND ar.path LIKE :prefix
"""


# The ID-number documents of the department files held for checking (health, justice persons): the number as the
# file wrote it, with the sex and birth date it wrote; what is wrong is decided per row (checks.rules.id_problem,
# id_disagreement). Passports and other documents without a check character are left out. The numbers are sealed:
# the service opens them (and leaves out an empty one, which SQL cannot see in a ciphertext).
SOURCE_ID_NUMBERS = f"""
SELECT s.id AS object_id, s.area_id, s.county_code, s.source, s.line, s.doc_type, s.id_number, s.id_norm, s.sex,
       s.birth_date
FROM check_source_records s JOIN areas ar ON ar.id = s.area_id
WHERE s.kind = 'persons' AND s.id_norm IS NOT NULL AND ar.path LIKE :prefix
  AND COALESCE(s.doc_type, 'resident_id') IN {ID_KINDS_SQL}
"""
