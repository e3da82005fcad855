"""Benchmark address parsing (throughput, field accuracy) and plate gap detection for a whole city, in one run.

    .venv/bin/python scripts/bench_address.py
    .venv/bin/python scripts/bench_address.py --addresses 20000 --streets 5000 --seed 2010

Address parsing: a labelled set generated here, seeded, from component tables (Ezhou's districts and townships
and a sample of other provinces' cities and districts) written in varied styles: with or without province and
city, short or full names, full-width digits, 号/號, spaces, Chinese numerals, sub-number styles (-, 附, 号之一),
rooms with or without 室, floors sometimes written. A second labelled set comes from the
synthetic city's police dwellings (`liangshi.synth`), written in the same varied styles.
Throughput is single-core, in-process.

Gap detection: a city of N streets with ~100 plates each (odd/even sides, chainage, some gaps, duplicates,
wrong-side and misplaced plates) written as one CSV; timed are the baseline (decode and split the CSV rows
only), reading and normalising the rows into entries, the analysis alone, and the whole `plates gaps` path.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from liangshi.addresses.numbering import analyse_plates, read_plates_csv
from liangshi.addresses.parsing import ADDRESS_FIELDS, parse_address

# (province full, province short, city full, city short, district)
PLACES: list[tuple[str, str, str, str, str]] = [
    ("湖北省", "湖北", "鄂州市", "鄂州", "鄂城区"),
    ("湖北省", "湖北", "鄂州市", "鄂州", "华容区"),
    ("湖北省", "湖北", "鄂州市", "鄂州", "梁子湖区"),
    ("湖北省", "湖北", "武汉市", "武汉", "江岸区"),
    ("湖北省", "湖北", "武汉市", "武汉", "洪山区"),
    ("湖北省", "湖北", "黄石市", "黄石", "下陆区"),
    ("湖北省", "湖北", "黄冈市", "黄冈", "黄州区"),
    ("广西壮族自治区", "广西", "南宁市", "南宁", "青秀区"),
    ("广东省", "广东", "广州市", "广州", "天河区"),
    ("浙江省", "浙江", "杭州市", "杭州", "西湖区"),
    ("江苏省", "江苏", "南京市", "南京", "鼓楼区"),
    ("四川省", "四川", "成都市", "成都", "武侯区"),
    ("湖南省", "湖南", "长沙市", "长沙", "岳麓区"),
    ("河南省", "河南", "郑州市", "郑州", "金水区"),
    ("新疆维吾尔自治区", "新疆", "乌鲁木齐市", "乌鲁木齐", "天山区"),
    ("北京市", "北京", "北京市", "北京", "朝阳区"),
    ("上海市", "上海", "上海市", "上海", "浦东新区"),
]
EZHOU_TOWNSHIPS = {
    "鄂城区": ["凤凰街道", "古楼街道", "西山街道", "樊口街道", "泽林镇", "杜山镇", "花湖镇", "沙窝乡"],
    "华容区": ["华容镇", "葛店镇", "庙岭镇", "段店镇", "临江乡", "蒲团乡"],
    "梁子湖区": ["太和镇", "东沟镇", "沼山镇", "梁子镇", "涂家垴镇"],
}
OTHER_TOWNSHIPS = ["大智街道", "城关镇", "新华街道", "东湖街道", "红旗街道", "长江街道"]
ROAD_STEMS = [
    "滨湖南",
    "洋澜",
    "寿昌",
    "武昌",
    "文星",
    "南浦",
    "寒溪",
    "吴都中",
    "明塘",
    "樊川",
    "江滩",
    "新港",
]
ROAD_SUFFIXES = ["路", "路", "路", "大道", "街", "巷"]
COMMUNITY_STEMS = ["滨湖", "莲花", "古楼", "文星", "明塘", "寒溪", "洋澜", "官柳"]
VILLAGE_STEMS = ["王家", "李家", "刘湾", "龙王", "新河", "白沙"]
POIS = ["吴都花园", "明塘小区", "鄂州宾馆", "世纪广场", "江南名都", "滨湖家园"]
# District names that exist under more than one city of their province (江苏: 南京 and 徐州 鼓楼区).
AMBIGUOUS_DISTRICTS = {"鼓楼区"}
CN = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """1..99 in Chinese numerals (十二, 二十一)."""
    if n < 10:
        return CN[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else CN[tens]) + "十" + (CN[ones] if ones else "")


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isdigit() else c for c in text)


def make_address(rng: random.Random) -> tuple[str, dict[str, str | None]]:
    """One address as a department, hotel or citizen might write it, and its components."""
    prov, prov_short, city, city_short, district = rng.choice(PLACES)
    truth: dict[str, str | None] = dict.fromkeys(ADDRESS_FIELDS)
    parts: list[str] = []
    write_province = rng.random() < 0.6
    write_city = not write_province or rng.random() < 0.9
    municipality = prov == city
    if write_province:
        parts.append(prov if rng.random() < 0.6 else prov_short)
    if write_city and not (municipality and write_province):
        parts.append(city if rng.random() < 0.7 else city_short)
    truth["province"] = prov
    # the city is known when written, implied by a municipality or by the district (all unique here)
    truth["city"] = city if write_city or municipality else None
    if rng.random() < 0.85:
        parts.append(district)
        truth["district"] = district
        if district not in AMBIGUOUS_DISTRICTS:
            truth["city"] = city
    rural = district in EZHOU_TOWNSHIPS and rng.random() < 0.25
    if rng.random() < 0.6 or rural:
        township = rng.choice(EZHOU_TOWNSHIPS.get(district, OTHER_TOWNSHIPS))
        if rural:
            township = rng.choice([t for t in EZHOU_TOWNSHIPS[district] if t.endswith(("镇", "乡"))])
        parts.append(township)
        truth["township"] = township
    if rural:
        village = rng.choice(VILLAGE_STEMS) + "村"
        group = rng.randint(1, 12)
        parts += [village, f"{cn_number(group) if rng.random() < 0.4 else group}组"]
        truth["community"], truth["village_group"] = village, f"{group}组"
        number = rng.randint(1, 60)
        parts.append(f"{number}号")
        truth["number"] = str(number)
    else:
        if rng.random() < 0.3:
            community = rng.choice(COMMUNITY_STEMS) + "社区"
            parts.append(community)
            truth["community"] = community
        road = rng.choice(ROAD_STEMS) + rng.choice(ROAD_SUFFIXES)
        base = rng.randint(1, 399)
        style = rng.random()
        sub = rng.randint(1, 5)
        if style < 0.6:
            written, number = f"{base}", f"{base}"
        elif style < 0.75:
            written, number = f"{base}-{sub}", f"{base}-{sub}"
        elif style < 0.9:
            written, number = f"{base}附{sub}", f"{base}附{sub}"
        else:
            written, number = f"{base}号之{CN[sub]}", f"{base}-{sub}"
        if not written.endswith(CN[sub]):
            written += rng.choice(["号", "号", "号", "號"])
        parts += [road, written]
        truth["road"], truth["number"] = road, number
        if rng.random() < 0.2:
            poi = rng.choice(POIS)
            parts.append(poi)
            truth["poi"] = poi
        if rng.random() < 0.7:
            building, unit, floor, index = (
                rng.randint(1, 30),
                rng.randint(1, 6),
                rng.randint(1, 18),
                rng.randint(1, 4),
            )
            room = floor * 100 + index
            b = cn_number(building) if rng.random() < 0.2 else str(building)
            u = cn_number(unit) if rng.random() < 0.2 else str(unit)
            parts += [f"{b}{rng.choice(['栋', '幢', '号楼'])}", f"{u}单元"]
            truth["building"], truth["unit"] = str(building), str(unit)
            if rng.random() < 0.2:
                parts.append(f"{floor}{rng.choice(['楼', '层'])}")
                truth["floor"] = str(floor)
            parts.append(f"{room}{rng.choice(['室', '室', ''])}")
            truth["room"] = str(room)
    text = (" " if rng.random() < 0.2 else "").join(parts)
    if rng.random() < 0.3:
        text = fullwidth(text)
    return text, truth


def synth_labelled(n: int, seed: int) -> list[tuple[str, dict[str, str | None]]]:
    """Addresses of the synthetic city's police dwellings, written in varied styles, with their components."""
    import datetime as dt
    import tempfile

    from liangshi.addresses.rules import parse_plate_number, plate_key
    from liangshi.common.codes import ezhou_areas
    from liangshi.synth import write_city

    out = Path(tempfile.mkdtemp(prefix="bench-address-"))
    write_city(out, persons=max(5000, n // 2), seed=seed, today=dt.date(2026, 11, 27))
    names = {str(a["code"]): str(a["name"]) for a in ezhou_areas()}
    with (out / "police_areas.csv").open(encoding="utf-8") as fh:
        names |= {row["code"]: row["name"] for row in csv.DictReader(fh)}
    with (out / "police_dwellings.csv").open(encoding="utf-8") as fh:
        dwellings = list(csv.DictReader(fh))
    rng = random.Random(seed)
    labelled = []
    for row in rng.sample(dwellings, min(n, len(dwellings))):
        code = row["community_code"]
        district, township, community = names[code[:6]], names[code[:9]], names[code]
        truth: dict[str, str | None] = dict.fromkeys(ADDRESS_FIELDS)
        parts: list[str] = []
        if rng.random() < 0.5:
            parts.append(rng.choice(["湖北省", "湖北"]))
            truth["province"] = "湖北省"
        if rng.random() < 0.7:
            parts.append(rng.choice(["鄂州市", "鄂州"]))
            truth["province"], truth["city"] = "湖北省", "鄂州市"
        if rng.random() < 0.8:
            parts.append(district)
            # A district name is unique in the country: the parser knows its city and province.
            truth["district"], truth["province"], truth["city"] = district, "湖北省", "鄂州市"
        if rng.random() < 0.6:
            parts.append(township)
            truth["township"] = township
        if rng.random() < 0.5 or not row["street"]:
            parts.append(community)
            truth["community"] = community
        base, sub = parse_plate_number(row["number"])
        if row["street"]:
            parts.append(row["street"])
            truth["road"] = row["street"]
        parts.append(row["number"] if rng.random() < 0.7 else row["number"].replace("号", "") + "号")
        truth["number"] = (
            plate_key(base, sub) if "附" not in row["number"] else row["number"].replace("号", "")
        )
        if row["street"]:
            building = row["building"].rstrip("栋幢号楼")
            parts.append(building + rng.choice(["栋", "栋", "幢"]))
            truth["building"] = building
            if row["unit"]:
                parts.append(f"{row['unit']}单元")
                truth["unit"] = row["unit"]
            parts.append(row["room"] + rng.choice(["室", "室", ""]))
            truth["room"] = row["room"]
        text = (" " if rng.random() < 0.15 else "").join(parts)
        if rng.random() < 0.25:
            text = fullwidth(text)
        labelled.append((text, truth))
    return labelled


def bench_addresses(n: int, seed: int, source: str = "tables") -> dict[str, Any]:
    if source == "synth":
        labelled = synth_labelled(n, seed)
        n = len(labelled)
    else:
        rng = random.Random(seed)
        labelled = [make_address(rng) for _ in range(n)]
    parse_address("湖北省鄂州市")  # build the division index outside the timing
    start = time.perf_counter()
    results = [parse_address(text).to_json() for text, _ in labelled]
    elapsed = time.perf_counter() - start
    right = dict.fromkeys(ADDRESS_FIELDS, 0)
    exact = 0
    misses: list[dict[str, Any]] = []
    for (text, truth), got in zip(labelled, results, strict=True):
        ok = True
        for name in ADDRESS_FIELDS:
            if got[name] == truth[name]:
                right[name] += 1
            else:
                ok = False
        exact += ok
        if not ok and len(misses) < 5:
            wrong = {k: [truth[k], got[k]] for k in ADDRESS_FIELDS if truth[k] != got[k]}
            misses.append({"text": text, "expected_vs_got": wrong})
    return {
        "addresses": n,
        "seconds": round(elapsed, 3),
        "addresses_per_second": round(n / elapsed),
        "exact_match": round(exact / n, 4),
        "field_accuracy": {name: round(right[name] / n, 4) for name in ADDRESS_FIELDS},
        "examples_of_misses": misses,
    }


def make_city_csv(streets: int, seed: int) -> tuple[bytes, int]:
    """A city's plates as CSV bytes: ~100 plates per street with gaps, duplicates and misplaced plates."""
    rng = random.Random(seed)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["street", "number", "side", "chainage_m"])
    rows = 0
    for s in range(streets):
        street = f"街路{s:05d}路"
        count = rng.randint(90, 110)
        for n in range(1, count + 1):
            r = rng.random()
            if r < 0.03:
                continue  # a missing plate
            chainage = (n - 1) // 2 * 12.0 + rng.random() * 3
            if r < 0.04:
                chainage += 300  # out of order
            side = rng.choice(["", "单" if n % 2 else "双", "odd" if n % 2 else "even"])
            if r < 0.045:
                side = "双" if n % 2 else "单"  # wrong side
            number = str(n) if rng.random() < 0.8 else rng.choice([f"{n}号", fullwidth(str(n))])
            writer.writerow([street, number, side, f"{chainage:.1f}"])
            rows += 1
            if r < 0.06:
                writer.writerow([street, f"{n}-1", "", f"{chainage + 1:.1f}"])
                rows += 1
            if r > 0.99:
                writer.writerow([street, number, side, f"{chainage:.1f}"])  # a duplicate
                rows += 1
    return buffer.getvalue().encode("utf-8"), rows


def bench_gaps(streets: int, seed: int) -> dict[str, Any]:
    data, rows = make_city_csv(streets, seed)

    start = time.perf_counter()
    bare = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    baseline = time.perf_counter() - start

    start = time.perf_counter()
    entries, errors = read_plates_csv(data)
    read = time.perf_counter() - start
    assert not errors and len(entries) == rows == len(bare) - 1

    start = time.perf_counter()
    reports = analyse_plates(entries)
    analyse = time.perf_counter() - start

    start = time.perf_counter()
    entries2, _ = read_plates_csv(data)
    output = json.dumps({s: r.to_json() for s, r in analyse_plates(entries2).items()}, ensure_ascii=False)
    total = time.perf_counter() - start

    return {
        "streets": streets,
        "plates": rows,
        "csv_bytes": len(data),
        "baseline_csv_split_s": round(baseline, 3),
        "read_and_normalise_s": round(read, 3),
        "analysis_only_s": round(analyse, 3),
        "end_to_end_with_json_s": round(total, 3),
        "analysis_plates_per_second": round(rows / analyse),
        "defects_found": {
            "missing": sum(len(r.missing_odd) + len(r.missing_even) for r in reports.values()),
            "duplicates": sum(len(r.duplicates) for r in reports.values()),
            "parity_violations": sum(len(r.parity_violations) for r in reports.values()),
            "order_violations": sum(len(r.order_violations) for r in reports.values()),
        },
        "json_output_bytes": len(output.encode("utf-8")),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--addresses", type=int, default=20000)
    parser.add_argument("--streets", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=2010)
    args = parser.parse_args()
    result = {
        "python": sys.version.split()[0],
        "address_parsing_synthetic_city": bench_addresses(args.addresses, args.seed, "synth"),
        "address_parsing_other_provinces": bench_addresses(args.addresses, args.seed),
        "gap_detection": bench_gaps(args.streets, args.seed),
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
