"""Field accuracy of our parser on a third-party labelled set: the Chinese address corpus of Li and Lu,
"Neural Chinese Address Parsing" (NAACL 2019), github.com/leodotnet/neural-chinese-address-parsing, data/test.txt.

    .venv/bin/python scripts/bench_address_naacl.py PATH/TO/test.txt [--limit N]

The repository carries no licence, so the data is not committed: fetch it and pass the path. Each address is one
block of ``character label`` lines (BIO tags). Their labels map onto our fields: prov→province, city→city,
district→district, town→township, community→community, road→road, roadno→number, houseno→building,
cellno→unit, floorno→floor, roomno→room. A field is scored on the addresses whose label set has it (or whose
parse gives it when the label has none, which counts as a miss). Division names and roads compare as written;
numbers compare by their digits (our parser keeps 194 of 194栋). Province, city and district are scored only
where labelled (we infer a parent division the writer left out) and a short name matches its full name (浙江,
浙江省). Whole-address: every scored field right.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from liangshi.addresses.parsing import CN_NUM, chinese_number, parse_address  # noqa: E402

FIELDS = {
    "prov": "province",
    "city": "city",
    "district": "district",
    "town": "township",
    "community": "community",
    "road": "road",
    "roadno": "number",
    "houseno": "building",
    "cellno": "unit",
    "floorno": "floor",
    "roomno": "room",
    "zone": "zone",  # a development zone, scored as the township where none is labelled (see `read`)
}
SCORED = [f for f in FIELDS.values() if f != "zone"]
NUMBERS = {"number", "building", "unit", "floor", "room"}
DIVISIONS = {"province", "city", "district"}  # our parser infers these from the code table when not written


def read(path: Path, zones: bool = True) -> list[tuple[str, dict[str, str]]]:
    """The addresses of a BIO file: (text, {our field: labelled text}). With `zones`, a development zone
    (their `devZone`) is scored as our township where no township is labelled: GB/T 2260's statistical
    division codes list development zones among the township-level units, and the standard address has no
    separate level for them."""
    out: list[tuple[str, dict[str, str]]] = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        text, spans, current = "", {}, None
        for line in block.strip().splitlines():
            token, _, tag = line.rpartition(" ")
            text += token
            kind = tag[2:] if "-" in tag else None
            if kind == "devZone" and zones:
                kind = "zone"
            if tag.startswith("B-") or kind != current:
                current = kind
                if kind in FIELDS and FIELDS[kind] not in spans:
                    spans[FIELDS[kind]] = token
                    continue
                current = kind if kind in FIELDS and FIELDS[kind] not in spans else None
            elif kind in FIELDS:
                spans[FIELDS[kind]] += token
        if "zone" in spans:
            zone = spans.pop("zone")
            spans.setdefault("township", zone)
        if text:
            out.append((text, spans))
    return out


def _digits(value: str | None) -> str:
    """The digits of a number as written, Chinese numerals read (六楼 → 6, 第十二层 → 12)."""

    def read_numeral(m: re.Match[str]) -> str:
        value = chinese_number(m.group())
        return "" if value is None else str(value)

    text = re.sub(CN_NUM, read_numeral, value or "")
    return re.sub(r"\D", "", text)


def _same(field: str, want: str | None, got: str | None) -> bool:
    if field in NUMBERS:
        return _digits(want) == _digits(got)
    if field in DIVISIONS and want and got:  # 浙江 written, 浙江省 read: the same division
        return got.startswith(want) or want.startswith(got)
    return (want or "") == (got or "")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("path", type=Path)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument(
        "--others",
        action="store_true",
        help="also score jionlp and cpca on the levels they read (pip install cpca)",
    )
    ap.add_argument("--strict-zones", action="store_true", help="score a development zone as nothing of ours")
    args = ap.parse_args()
    rows = read(args.path, zones=not args.strict_zones)[: args.limit or None]
    start = time.perf_counter()
    for text, _ in rows:
        text.strip()
    baseline = time.perf_counter() - start
    # the division index and the gazetteer load once per process, untimed
    parse_address("浙江省杭州市西湖区西溪街道文三路1号")
    start = time.perf_counter()
    parsed = [parse_address(text).to_json() for text, _ in rows]
    seconds = time.perf_counter() - start
    right, seen, whole = Counter[str](), Counter[str](), 0
    for (_, want), got in zip(rows, parsed, strict=True):
        ok = True
        for field in SCORED:
            if field not in want and (not got.get(field) or field in DIVISIONS):
                continue
            seen[field] += 1
            if _same(field, want.get(field), got.get(field)):
                right[field] += 1
            else:
                ok = False
        whole += ok
    print(
        f"{len(rows)} addresses, {len(rows) / seconds:.0f} addresses/s"
        f" (baseline, strip only: {len(rows) / baseline:,.0f}/s)"
    )
    print(
        f"field accuracy {sum(right.values()) / max(1, sum(seen.values())):.3f}; whole {whole / len(rows):.3f}"
    )
    for field in SCORED:
        if seen[field]:
            print(f"  {field:10} {right[field] / seen[field]:.3f}  (n={seen[field]})")
    if args.others:
        ours = {f: (right[f], seen[f]) for f in ("province", "city", "district", "township")}
        print(f"  liangshi on the same levels: {_levels(ours)}")
        for name, run in (("jionlp", _jionlp), ("cpca", _cpca)):
            try:
                start = time.perf_counter()
                answers = run([text for text, _ in rows])
            except ImportError:
                print(f"  {name}: not installed")
                continue
            rate = len(rows) / (time.perf_counter() - start)
            print(f"  {name}: {rate:.0f} addresses/s; {_levels(_score_levels(rows, answers))}")


def _levels(scores: dict[str, tuple[int, int]]) -> str:
    return ", ".join(f"{f} {r / n:.3f} (n={n})" for f, (r, n) in scores.items() if n)


def _score_levels(
    rows: list[tuple[str, dict[str, str]]], answers: list[dict[str, str | None]]
) -> dict[str, tuple[int, int]]:
    """Right and seen per level, by the rules our parser is scored by (a level the label has, or the answer
    gives below the district)."""
    out: dict[str, tuple[int, int]] = {}
    for field in answers[0] if answers else ():
        r = n = 0
        for (_, want), got in zip(rows, answers, strict=True):
            if field not in want and (not got.get(field) or field in DIVISIONS):
                continue
            n += 1
            r += _same(field, want.get(field), got.get(field))
        out[field] = (r, n)
    return out


def _jionlp(texts: list[str]) -> list[dict[str, str | None]]:
    import jionlp  # optional: only the comparison uses it

    out = []
    for t in texts:
        r = jionlp.parse_location(t, town_village=True, change2new=False)
        out.append(
            {
                "province": r.get("province"),
                "city": r.get("city"),
                "district": r.get("county"),
                "township": r.get("town"),
            }
        )
    return out


def _cpca(texts: list[str]) -> list[dict[str, str | None]]:
    import cpca  # optional: only the comparison uses it

    frame = cpca.transform(texts)
    return [
        {"province": row["省"] or None, "city": row["市"] or None, "district": row["区"] or None}
        for _, row in frame.iterrows()
    ]


if __name__ == "__main__":
    main()
