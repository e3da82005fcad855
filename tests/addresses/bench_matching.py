"""Match throughput (not collected by default): `.venv/bin/pytest tests/addresses/bench_matching.py -s -q`.

Builds 40 streets of 10 plates in the test database, then times 400 exact, 400 homophone-typo and 400 unknown
addresses through `match_address` on one core; the baseline is `parse_address` alone on the same texts.
"""

from __future__ import annotations

import datetime as dt
import sys
import time

from liangshi.addresses import service as addresses
from liangshi.addresses.parsing import parse_address
from liangshi.addresses.schemas import AddressCreate, StreetCreate
from tests.conftest import INSIDE, World

NAMES = [f"{a}{b}路" for a in "安宝长丰和华建康乐明" for b in "平兴盛泰"]
TYPOS = {"平": "苹", "兴": "星", "盛": "胜", "泰": "太"}


def test_match_throughput(world: World) -> None:
    with world.session() as s:
        ctx = world.ctx(s)
        for name in NAMES:
            sid = addresses.create_street(
                s,
                ctx,
                StreetCreate(
                    area_id=world.area("420704"), name=name, street_type="路", valid_from=dt.date(2020, 1, 1)
                ),
            ).entity.id
            for n in range(1, 11):
                addresses.create_address(
                    s,
                    ctx,
                    AddressCreate(
                        area_id=world.area(INSIDE), street_id=int(sid), number=str(n), status="installed"
                    ),
                )
    sets = {
        "exact": [f"鄂州市鄂城区{name}{n}号" for name in NAMES for n in range(1, 11)],
        "homophone typo": [
            f"鄂州市鄂城区{name[0]}{TYPOS[name[1]]}路{n}号" for name in NAMES for n in range(1, 11)
        ],
        "unknown road": [f"鄂州市鄂城区火星{i}路{i}号" for i in range(400)],
    }
    parse_address("湖北省鄂州市")  # the division index is built once, outside the timings
    with world.session() as s:
        ctx = world.ctx(s, "police_liu")
        for label, texts in sets.items():
            start = time.perf_counter()
            for t in texts:
                parse_address(t)
            parse_rate = len(texts) / (time.perf_counter() - start)
            start = time.perf_counter()
            results = [addresses.match_address(s, ctx, t) for t in texts]
            rate = len(texts) / (time.perf_counter() - start)
            found = sum(r["address_id"] is not None for r in results) / len(texts)
            for t, r in zip(texts, results, strict=True):
                if r["address_id"] is None and label != "unknown road" and "-v" in sys.argv:
                    print(
                        "  not found:", t, r["reasons"], [c["reasons"] for c in r.get("candidates", [])[:2]]
                    )
            print(f"{label}: match {rate:,.0f}/s, parse alone {parse_rate:,.0f}/s, plate found {found:.0%}")
            assert found == (0.0 if label == "unknown road" else 1.0)
