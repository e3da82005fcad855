"""The set-based rule of each check: one SQL statement per check over an area subtree (SQLite and PostgreSQL).

Every statement takes ``:prefix`` (the area path of the scope, matched with LIKE) and returns rows with
``object_id``, ``area_id``, ``county_code`` and the natural-key and evidence columns that `checks.service` turns
into a finding. Current rows are those neither superseded nor ended (``superseded_at IS NULL AND valid_to IS
NULL``), the registry's definition of "as the register stands now".
"""

from __future__ import annotations


def _cur(alias: str) -> str:
    return f"{alias}.superseded_at IS NULL AND {alias}.valid_to IS NULL"


# A plate with its street and community (street empty for a village or village-group plate).
PLATES = f"""
SELECT a.id AS object_id, a.area_id, a.county_code, ar.code AS community_code, a.street_id,
       COALESCE(sv.name, '') AS street, COALESCE(sv.numbering_style, 'dash') AS style,
       sv.start_description, sv.bearing_deg,
       av.plate_kind, av.base_number, av.sub_number, av.status, av.lon, av.lat, av.chainage_m,
       av.side AS stored_side
FROM addresses a
JOIN address_versions av ON av.entity_id = a.id AND {_cur("av")}
JOIN areas ar ON ar.id = a.area_id
LEFT JOIN street_versions sv ON sv.entity_id = a.street_id AND {_cur("sv")}
WHERE ar.path LIKE :prefix
"""

# A dwelling with its natural keys (community, street, number, building, unit, room).
DWELLINGS = f"""
SELECT d.id AS object_id, d.area_id, d.county_code, ar.code AS community_code,
       COALESCE(sv.name, '') AS street, COALESCE(sv.numbering_style, 'dash') AS style,
       av.base_number, av.sub_number, bv.label AS building, dv.unit, dv.room, dv.use, dv.status
FROM dwellings d
JOIN dwelling_versions dv ON dv.entity_id = d.id AND {_cur("dv")}
JOIN buildings b ON b.id = d.building_id
JOIN building_versions bv ON bv.entity_id = b.id AND {_cur("bv")}
JOIN addresses a ON a.id = b.address_id
JOIN address_versions av ON av.entity_id = a.id AND {_cur("av")}
JOIN areas ar ON ar.id = a.area_id
LEFT JOIN street_versions sv ON sv.entity_id = a.street_id AND {_cur("sv")}
WHERE ar.path LIKE :prefix
"""

# An open residence: current, neither departed nor deregistered.
_OPEN_RESIDENCE = f"""
SELECT r.id AS residence_id, r.person_id, r.dwelling_id
FROM residences r
JOIN residence_versions rv ON rv.entity_id = r.id AND {_cur("rv")}
WHERE rv.departure_date IS NULL AND rv.deregistration_date IS NULL
"""

# A person's current documents.
_DOCS = f"""
SELECT doc.person_id, doc.id AS doc_id, docv.doc_type, docv.number, docv.number_idx
FROM documents doc
JOIN document_versions docv ON docv.entity_id = doc.id AND {_cur("docv")}
"""

PLATE_NOT_INSTALLED = f"""
SELECT p.* FROM ({PLATES}) p WHERE p.status IN ('planned', 'assigned', 'made')
"""

# Dwellings named in a department's file whose plate the register lacks (one finding per plate): the file's
# plates EXCEPT the register's, then the rows that name them.
PLATE_MISSING = f"""
WITH named AS (
  SELECT s.community_code, COALESCE(s.street, '') AS street, s.base_number, COALESCE(s.sub_number, 0) AS sub
  FROM check_source_records s JOIN areas ar ON ar.id = s.area_id
  WHERE s.kind = 'dwellings' AND ar.path LIKE :prefix AND s.base_number IS NOT NULL
  EXCEPT
  SELECT p.community_code, p.street, p.base_number, COALESCE(p.sub_number, 0) FROM ({PLATES}) p
)
SELECT MIN(s.id) AS object_id, MIN(s.area_id) AS area_id, MIN(s.county_code) AS county_code,
       s.community_code, COALESCE(s.street, '') AS street, s.base_number, s.sub_number,
       MIN(s.number) AS number_text, MIN(s.source) AS source, COUNT(*) AS dwellings, MIN(s.line) AS line
FROM named n
JOIN check_source_records s ON s.kind = 'dwellings' AND s.community_code = n.community_code
  AND s.base_number = n.base_number AND COALESCE(s.street, '') = n.street
  AND COALESCE(s.sub_number, 0) = n.sub
GROUP BY s.community_code, COALESCE(s.street, ''), s.base_number, s.sub_number
"""

# Street door plates with their position, for the side (computed in Python per street: see service).
STREET_PLATES = f"""
SELECT p.* FROM ({PLATES}) p
WHERE p.street_id IS NOT NULL AND p.plate_kind = 'door' AND p.status <> 'retired'
"""

# Along a street, plates of one parity must rise with the chainage. The plates of every (street, parity) sequence
# that has an inversion (a plate with a higher number before one with a lower number), in chainage order; which
# of them are out of order is decided on the sequence (checks.rules.out_of_order). Runs over `p` (the sided
# plates, see checks.service._sided), leaving out the plates on the wrong side.
OUT_OF_ORDER_OVER_P = """
SELECT * FROM (
  SELECT q.*, MAX(q.inverted) OVER (PARTITION BY q.street_id, q.base_number % 2) AS sequence_inverted
  FROM (
    SELECT p.*,
      CASE WHEN MAX(p.base_number) OVER (
                  PARTITION BY p.street_id, p.base_number % 2 ORDER BY p.chainage_m, p.object_id
                  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) > p.base_number
           THEN 1 ELSE 0 END AS inverted
    FROM p
    WHERE p.chainage_m IS NOT NULL AND p.wrong = 0
  ) q
) r
WHERE r.sequence_inverted = 1
ORDER BY r.street_id, r.base_number % 2, r.chainage_m, r.object_id
"""

# A department's person record that is a register person written differently: a candidate holds its ID number,
# or its name and birth date, yet no register person agrees with it on all three. The department's numbers are
# sealed (docs/encryption.md), so SQL finds the candidates by name and birth date (PERSON_BY_NAME_BIRTH) and the
# holders of the numbers by a join of the keyed-hash indexes (SOURCE_HOLDERS); `checks.service.found` decides.
SOURCE_PERSONS = """
SELECT s.id AS object_id, s.area_id, s.county_code, s.source, s.line, s.doc_type, s.id_number, s.id_norm, s.name,
       s.birth_date
FROM check_source_records s JOIN areas ar ON ar.id = s.area_id
WHERE s.kind = 'persons' AND ar.path LIKE :prefix
"""

# The first register person with a department person record's name and birth date. A join, not a correlated
# subquery, so PostgreSQL can hash it.
PERSON_BY_NAME_BIRTH = f"""
SELECT s.id, MIN(pv.entity_id) AS person_id
FROM check_source_records s JOIN areas ar ON ar.id = s.area_id
JOIN person_versions pv ON {_cur("pv")} AND pv.name = s.name AND pv.birth_date = s.birth_date
WHERE s.kind = 'persons' AND ar.path LIKE :prefix
GROUP BY s.id
"""

# The register persons holding the number of a department file's record (of `:kind`) as a current document, with
# their name and birth date: a join of the two keyed-hash indexes (both computed under `document.number`).
SOURCE_HOLDERS = f"""
SELECT s.id AS record_id, doc.person_id, pv.name, pv.birth_date
FROM check_source_records s JOIN areas ar ON ar.id = s.area_id
JOIN document_versions docv ON docv.number_idx = s.id_norm_idx AND {_cur("docv")}
JOIN documents doc ON doc.id = docv.entity_id
LEFT JOIN person_versions pv ON pv.entity_id = doc.person_id AND {_cur("pv")}
WHERE s.kind = :kind AND ar.path LIKE :prefix
"""

# The housing department's status of each dwelling it names (one row per natural key).
_SOURCE_DWELLINGS = """
SELECT community_code, COALESCE(street, '') AS street, base_number, COALESCE(sub_number, 0) AS sub, building,
       COALESCE(unit, '') AS unit, room, MIN(status) AS status
FROM check_source_records WHERE kind = 'dwellings'
GROUP BY community_code, COALESCE(street, ''), base_number, COALESCE(sub_number, 0), building,
         COALESCE(unit, ''), room
"""

# Each register dwelling with the housing department's status of it (NULL where its file does not name it).
_DWELLINGS_WITH_SOURCE = f"""
SELECT w.*, src.status AS source_status
FROM ({DWELLINGS}) w
LEFT JOIN ({_SOURCE_DWELLINGS}) src
  ON src.community_code = w.community_code AND src.street = w.street AND src.base_number = w.base_number
 AND src.sub = COALESCE(w.sub_number, 0) AND src.building = w.building
 AND src.unit = COALESCE(CAST(w.unit AS VARCHAR(10)), '') AND src.room = w.room
"""

# A person's first current document (the lowest document id), type and number of that one document, for the
# natural key of a residence's person. Not MIN of each column: the type and the number could come from two
# documents, and the numbers are sealed (a MIN of ciphertexts would pick another document after a key rotation,
# changing the finding's keys and so its fingerprint). Opened by `checks.service.found.register_rows`.
_FIRST_DOC_ID = f"""
SELECT x.person_id, MIN(x.doc_id) AS doc_id FROM ({_DOCS}) x GROUP BY x.person_id
"""
_FIRST_DOC = f"""
SELECT d.person_id, d.doc_type, d.number AS id_number
FROM ({_DOCS}) d JOIN ({_FIRST_DOC_ID}) f ON f.doc_id = d.doc_id
"""


# The first current document's number of one person (a landlord), chosen as _FIRST_DOC chooses it.
def _first_number_of(person: str) -> str:
    return (
        f"(SELECT d.number FROM ({_DOCS}) d WHERE d.doc_id = "
        f"(SELECT MIN(y.doc_id) FROM ({_DOCS}) y WHERE y.person_id = {person}))"
    )


# An open residence at a dwelling recorded vacant or demolished, in the register or in the housing file. Joins,
# not correlated subqueries: the plan stays a few hash joins even before the tables are analysed.
DEPARTED_NOT_DEREGISTERED = f"""
SELECT o.residence_id AS object_id, r.area_id, r.county_code, o.person_id, fd.doc_type, fd.id_number,
       w.status AS dwelling_status, w.source_status, w.community_code, w.street, w.style, w.base_number,
       w.sub_number, w.building, w.unit, w.room
FROM ({_OPEN_RESIDENCE}) o
JOIN residences r ON r.id = o.residence_id
JOIN ({_DWELLINGS_WITH_SOURCE}) w ON w.object_id = o.dwelling_id
LEFT JOIN ({_FIRST_DOC}) fd ON fd.person_id = o.person_id
WHERE w.status IN ('vacant', 'demolished') OR w.source_status IN ('vacant', 'demolished')
"""

# The tenants in the housing department's rentals; those whose (sealed) ID number no register person holds are
# the finding (the holders found with SOURCE_HOLDERS).
SOURCE_TENANTS = """
SELECT s.id AS object_id, s.area_id, s.county_code, s.source, s.line, s.doc_type, s.id_number, s.id_norm,
       s.community_code, s.street, s.number, s.building, s.unit, s.room, s.landlord_id_number
FROM check_source_records s
JOIN areas ar ON ar.id = s.area_id
WHERE s.kind = 'rentals' AND s.id_norm IS NOT NULL AND ar.path LIKE :prefix
"""

# An active rental in the register without a signed agreement.
RENTAL_NO_AGREEMENT = f"""
SELECT w.*, rt.id AS rental_id,
       {_first_number_of("rv.landlord_person_id")} AS landlord_id_number
FROM rentals rt
JOIN rental_versions rv ON rv.entity_id = rt.id AND {_cur("rv")}
JOIN ({DWELLINGS}) w ON w.object_id = rt.dwelling_id
WHERE rv.status = 'open' AND rv.agreement_signed_on IS NULL
"""

# A rental in the housing department's file saying it is not signed (one finding per dwelling; the register's
# own rental of that dwelling, when there is one, is checked by RENTAL_NO_AGREEMENT instead).
# `landlord_row`: the first row naming a landlord, whose (sealed) number is read apart.
SOURCE_RENTAL_NO_AGREEMENT = """
SELECT MIN(s.id) AS object_id, MIN(s.area_id) AS area_id, MIN(s.county_code) AS county_code,
       s.community_code, COALESCE(s.street, '') AS street, s.base_number, s.sub_number,
       MIN(s.number) AS number_text, s.building, s.unit, s.room,
       MIN(CASE WHEN s.landlord_id_number IS NOT NULL THEN s.id END) AS landlord_row,
       MIN(s.source) AS source, MIN(s.line) AS line
FROM check_source_records s
JOIN areas ar ON ar.id = s.area_id
WHERE s.kind = 'rentals' AND s.agreement_signed = 'no' AND ar.path LIKE :prefix
GROUP BY s.community_code, COALESCE(s.street, ''), s.base_number, s.sub_number, s.building, s.unit, s.room
"""

# A residential dwelling recorded occupied with no open residence, or recorded vacant by the housing department.
VACANT_RECORDED_OCCUPIED = f"""
SELECT w.*, COALESCE(n.open_residences, 0) AS open_residences
FROM ({_DWELLINGS_WITH_SOURCE}) w
LEFT JOIN (SELECT o.dwelling_id, COUNT(*) AS open_residences FROM ({_OPEN_RESIDENCE}) o GROUP BY o.dwelling_id) n
  ON n.dwelling_id = w.object_id
WHERE w.status = 'occupied' AND w.use = 'residential'
  AND (n.open_residences IS NULL OR w.source_status = 'vacant')
"""
