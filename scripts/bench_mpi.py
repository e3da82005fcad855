"""Benchmark the master person index: resolve 10,000 department records against a register of N persons.

    .venv/bin/python scripts/bench_mpi.py --db sqlite --persons 100000 --records 10000
    .venv/bin/python scripts/bench_mpi.py --db postgresql --persons 100000 --records 10000

Loads N persons (name, sex, birth date, phone for half of them, a resident ID, a dwelling and an open residence)
with bulk inserts that write the same rows the services write. Then builds a department batch: 70 % records of
register persons (a third exact copies, a third in traditional characters with the date written `1990年1月2日`
and no phone, a third without the ID number but with the phone), 30 % persons the register does not know.
Times, as a community police officer whose jurisdiction holds them all:

- the candidate query and the master records (bulk SQL),
- the engine alone (`linkage.api.match_against_master` on the same records and candidates): the baseline,
- the whole `mpi.service.resolve` in its own transaction (candidates, engine, new persons, source records,
  reviews, audit entries, commit),

and checks that every register person's id, version and current row are unchanged (must be 100 %), and how many
records of known persons joined the right person.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_lookup import fresh_database, load_people, make_ids

from liangshi.access import service as access
from liangshi.access.models import User
from liangshi.clock import Clock
from liangshi.common.idnumber import compute_check_char
from liangshi.db import make_engine, make_session_factory, session_scope
from liangshi.linkage import api as linkage
from liangshi.mpi import service as mpi
from liangshi.persons.models import Person, PersonVersion
from liangshi.registry import Context

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥建国建华志强永刚海燕海波晓东晓明文博子"
    "涵浩然欣怡梓萱宇轩一诺思远嘉怡雨涵佳琪天宇俊杰"
)
TRAD = str.maketrans(
    "刘陈杨黄赵吴郑梁谢韩冯邓叶苏吕卢钟谭陆贾韦邹龙顾龚万钱严伟丽军艳杰娟涛兰华红国志刚海晓东文博涵浩欣怡萱宇轩诺远嘉佳琪俊",
    "劉陳楊黃趙吳鄭梁謝韓馮鄧葉蘇呂盧鍾譚陸賈韋鄒龍顧龔萬錢嚴偉麗軍艷傑娟濤蘭華紅國志剛海曉東文博涵浩欣怡萱宇軒諾遠嘉佳琪俊",
)


def name_for(rng: random.Random) -> str:
    """A plausible Chinese name."""
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def load(url: str, n: int, seed: int) -> list[dict[str, Any]]:
    """Create the schema and N persons living in dwellings; returns their fields (with person_id)."""
    rng = random.Random(seed)
    ids = make_ids(n, rng)
    people = [
        {
            "id_number": num,
            "name": name_for(rng),
            "sex": "1" if int(num[16]) % 2 else "2",
            "birth": dt.date(int(num[6:10]), int(num[10:12]), int(num[12:14])),
            "phone": f"+86139{rng.randrange(10**8):08d}" if rng.random() < 0.5 else None,
        }
        for num in ids
    ]
    load_people(url, people)
    return people


def batch_of(
    people: list[dict[str, Any]], records: int, seed: int
) -> tuple[list[linkage.LinkRecord], dict[str, int]]:
    """The department batch and, for records of register persons, the person each one is."""
    rng = random.Random(seed + 2)
    known = rng.sample(people, int(records * 0.7))
    taken = {p["id_number"] for p in people}
    out: list[linkage.LinkRecord] = []
    truth: dict[str, int] = {}
    for i, p in enumerate(known):
        rid = f"k{i}"
        variant = i % 3
        if variant == 0:
            rec = linkage.LinkRecord(
                rid, "health", p["name"], p["sex"], p["birth"].isoformat(), p["id_number"], p["phone"]
            )
        elif variant == 1:
            b = p["birth"]
            rec = linkage.LinkRecord(
                rid,
                "health",
                p["name"].translate(TRAD),
                "男" if p["sex"] == "1" else "女",
                f"{b.year}年{b.month}月{b.day}日",
                p["id_number"],
                None,
            )
        else:
            rec = linkage.LinkRecord(
                rid, "health", p["name"], p["sex"], p["birth"].strftime("%Y%m%d"), None, p["phone"]
            )
        out.append(rec)
        truth[rid] = p["person_id"]
    n_new = records - len(known)
    made = 0
    while made < n_new:
        birth = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 80))
        first17 = f"420703{birth:%Y%m%d}{rng.randrange(1, 1000):03d}"
        number = first17 + compute_check_char(first17)
        if number in taken:
            continue
        taken.add(number)
        sex = "1" if int(number[16]) % 2 else "2"
        out.append(
            linkage.LinkRecord(f"n{made}", "health", name_for(rng), sex, birth.isoformat(), number, None)
        )
        made += 1
    rng.shuffle(out)
    return out, truth


def state(url: str) -> dict[int, tuple[int, int]]:
    """Every register person: id -> (version, current open row id)."""
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(Person.id, Person.version, PersonVersion.row_id)
            .join(PersonVersion, PersonVersion.entity_id == Person.id)
            .where(PersonVersion.superseded_at.is_(None), PersonVersion.valid_to.is_(None))
        ).all()
    engine.dispose()
    return {int(p): (int(v), int(r)) for p, v, r in rows}


def measure(url: str, people: list[dict[str, Any]], records: int, seed: int) -> dict[str, Any]:
    """Time the parts and the whole; check stability and accuracy."""
    batch, truth = batch_of(people, records, seed)
    before = state(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    clock = Clock()
    with session_scope(factory) as s:
        user = s.execute(select(User).where(User.username == "bench_police")).scalar_one()
        actor = access.actor_for(s, user)
    ctx = Context(actor=actor, now=clock.now(), today=clock.today(), purpose="bench")
    out: dict[str, Any] = {}
    with session_scope(factory) as s:
        norms = [mpi._normalise(r, ctx.today) for r in batch]
        t0 = time.perf_counter()
        ids = mpi.candidate_person_ids(s, ctx, norms)
        rows = mpi.master_rows(s, ids)
        master = mpi.master_records(rows.values())
        out["candidates"] = len(ids)
        out["candidates_and_master_rows_s"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    linkage.match_against_master(
        [mpi._link_record(n, "health") for n in norms], master, top=3, today=ctx.today
    )
    out["engine_only_s (baseline)"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    with session_scope(factory) as s:
        result = mpi.resolve(s, ctx, batch, source="health", batch_ref="bench-1")
    out["resolve_total_s"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    with session_scope(factory) as s:
        again = mpi.resolve(s, ctx, batch, source="health", batch_ref="bench-2")
    out["resend_same_batch_s"] = round(time.perf_counter() - t0, 2)
    engine.dispose()
    after = state(url)
    unchanged = sum(1 for p, v in before.items() if after.get(p) == v)
    by_status: dict[str, int] = {}
    for r in result:
        by_status[r.status] = by_status.get(r.status, 0) + 1
    right = sum(1 for r in result if r.record_id in truth and r.person_id == truth[r.record_id])
    wrong = sum(
        1
        for r in result
        if r.person_id is not None and r.record_id in truth and r.person_id != truth[r.record_id]
    )
    wrong_new = sum(1 for r in result if r.record_id not in truth and r.status == "linked")
    out.update(
        {
            "existing_ids_unchanged_pct": round(100.0 * unchanged / len(before), 3),
            "existing_persons": len(before),
            "persons_after": len(after),
            "statuses": by_status,
            "known_records": len(truth),
            "known_linked_to_right_person": right,
            "known_linked_to_wrong_person": wrong,
            "unknown_records_linked_to_someone": wrong_new,
            "resend_identical": again == result,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        }
    )
    return out


def main() -> None:
    """Parse arguments, load, measure, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pg-server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    with fresh_database(args.db, "mpi", args.persons, args.pg_server) as url:
        t0 = time.perf_counter()
        people = load(url, args.persons, args.seed)
        load_s = time.perf_counter() - t0
        figures = measure(url, people, args.records, args.seed)
    print(
        json.dumps(
            {
                "db": args.db,
                "persons": args.persons,
                "records": args.records,
                "load_s": round(load_s, 1),
                "cores": os.cpu_count(),
                **figures,
            },
            indent=2,
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
