"""Field accuracy and throughput on the public-writing set, with jionlp and cpca side by side on the divisions.

    .venv/bin/python scripts/bench_address_public.py [--repeat 20]

The set is ``tests/addresses/data/public_addresses.tsv`` (where each line came from is in its header). Our parser
is scored on all 13 fields; jionlp's ``parse_location`` (change2new=False, town_village=True) and cpca's
``transform`` only on province, city and district, the levels they read. Throughput is single-core, in process,
after one warm-up pass (jionlp and cpca load their dictionaries on first use).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.addresses.public_set import load  # noqa: E402

from liangshi.addresses.parsing import ADDRESS_FIELDS, parse_address  # noqa: E402

LEVELS = ("province", "city", "district")


def _ours(texts: list[str]) -> list[dict[str, Any]]:
    return [parse_address(t).to_json() for t in texts]


def _jionlp(texts: list[str]) -> list[dict[str, Any]]:
    import jionlp  # optional: only this benchmark uses it

    result = []
    for t in texts:
        r = jionlp.parse_location(t, town_village=True, change2new=False)
        result.append({"province": r.get("province"), "city": r.get("city"), "district": r.get("county")})
    return result


def _cpca(texts: list[str]) -> list[dict[str, Any]]:
    import cpca  # optional: only this benchmark uses it

    frame = cpca.transform(texts)
    return [
        {"province": row["省"] or None, "city": row["市"] or None, "district": row["区"] or None}
        for _, row in frame.iterrows()
    ]


def _score(
    got: list[dict[str, Any]], rows: list[tuple[str, str, dict[str, str | None]]], fields: tuple[str, ...]
):
    right = dict.fromkeys(fields, 0)
    whole = 0
    for g, (_, _, expected) in zip(got, rows, strict=True):
        ok = [g.get(f) == expected[f] for f in fields]
        for f, hit in zip(fields, ok, strict=True):
            right[f] += hit
        whole += all(ok)
    n = len(rows)
    return {f: right[f] / n for f in fields}, whole / n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    rows = load()
    texts = [t for _, t, _ in rows]
    print(f"set: {len(rows)} addresses, sources {sorted({s for s, _, _ in rows})}")
    baseline_start = time.perf_counter()
    for _ in range(args.repeat):
        for t in texts:
            t.strip()
    baseline = time.perf_counter() - baseline_start
    print(f"baseline (strip only): {len(texts) * args.repeat / baseline:,.0f} addresses/s")
    for name, run in (("liangshi", _ours), ("jionlp", _jionlp), ("cpca", _cpca)):
        try:
            got = run(texts)  # warm-up, and the answers scored
        except ImportError:
            print(f"{name}: not installed")
            continue
        start = time.perf_counter()
        for _ in range(args.repeat):
            run(texts)
        rate = len(texts) * args.repeat / (time.perf_counter() - start)
        levels, whole_levels = _score(got, rows, LEVELS)
        line = ", ".join(f"{f} {v:.1%}" for f, v in levels.items())
        print(f"{name}: {rate:,.0f} addresses/s; divisions: {line}; all three right {whole_levels:.1%}")
        if name == "liangshi":
            fields, whole = _score(got, rows, ADDRESS_FIELDS)
            mean = sum(fields.values()) / len(fields)
            print(
                f"  13 fields: mean {mean:.2%}, lowest {min(fields.values()):.1%}, wholly right {whole:.1%}"
            )
            print("  " + ", ".join(f"{f} {v:.1%}" for f, v in fields.items()))


if __name__ == "__main__":
    main()
