"""Benchmark the server time of every web page kind a persona opens, at N persons, beside the bare SQL of each
page's main lookup.

    .venv/bin/python scripts/bench_pages.py --db postgresql --persons 1000000 --load-only   # build and keep
    .venv/bin/python scripts/bench_pages.py --db postgresql --persons 1000000 --reuse       # measure it
    .venv/bin/python scripts/bench_pages.py --db postgresql --persons 1000000 --drop        # drop it

Builds the city of scripts/bench_web.py (`bench_lookup.load` + `bench_web.enrich` + the KPI fold) in a database
named web17_bench_pages_<N> (PostgreSQL) or bench-out/pages-<N>.db (SQLite), kept for --reuse, and one user
of every role. Then, as tests/web/test_browser_crawl.py does, each persona (widest jurisdiction first) opens its
menu and one object page of each kind (a person, a dwelling, its building's grid, the collector's dwelling and
building pages, a street, an area and its map, a household, a venue, rentals, change sets, a search) and follows
links until every kind of page it reaches is rendered once (at most 40 per persona). The first persona that
reaches a kind requests it `--runs` times in process with the TestClient (the whole server: session, scope,
queries, masking, audit, template); the median is that kind's server time. Beside it, in the same run, the bare
SQL of the page's main lookup where one is named (`BARE`), also a median of `--runs`.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import bench_lookup
import bench_web

from liangshi.access import service as access
from liangshi.access.service import SYSTEM
from liangshi.clock import Clock
from liangshi.db import make_engine, make_session_factory, session_scope

PASSWORD = bench_lookup.PASSWORD
MAX_PAGES = 40
# (login, role, area, department): widest jurisdiction first, so a kind of page is timed at its largest scope.
USERS = [
    ("pages_city", "city_admin", "420700", None),
    ("pages_auditor", "auditor", "420700", None),
    ("pages_district", "district_admin", "420704", None),
    ("pages_housing", "housing_officer", "420704", None),
    ("pages_inspector", "inspector", "420704", None),
    ("pages_liaison", "department_liaison", "420704", "health"),
    ("pages_station", "station_admin", "420704001", None),
    ("pages_police", "community_police", "420704001001", None),
    ("pages_collector", "collector", "420704001001", None),
]
_NOT_FOLLOWED = re.compile(r"^/web/(logout|lang)\b|^/web/collect/(sw\.js|manifest\.webmanifest)$")
_DOWNLOAD = re.compile(r"\.(xlsx|pdf|csv|json|webmanifest|js)$")
_CURRENT_RESIDENCES = (
    "SELECT r.id, rv.category FROM residences r JOIN residence_versions rv ON rv.entity_id = r.id "
    "AND rv.superseded_at IS NULL"
)
# The bare SQL of a page kind's main lookup (:id is the page's object).
BARE: dict[str, str] = {
    "/web/": bench_web.BASELINE_SQL,
    "/web/dashboard": bench_web.BASELINE_SQL,
    "/web/persons/{id}": "SELECT * FROM person_versions WHERE entity_id = :id AND superseded_at IS NULL",
    "/web/dwellings/{id}": _CURRENT_RESIDENCES + " WHERE r.dwelling_id = :id",
    "/web/collect/dwellings/{id}": _CURRENT_RESIDENCES + " WHERE r.dwelling_id = :id",
    "/web/buildings/{id}/grid": _CURRENT_RESIDENCES
    + " JOIN dwellings d ON d.id = r.dwelling_id WHERE d.building_id = :id",
    "/web/collect/buildings/{id}": _CURRENT_RESIDENCES
    + " JOIN dwellings d ON d.id = r.dwelling_id WHERE d.building_id = :id",
    "/web/streets/{id}": "SELECT id FROM addresses WHERE street_id = :id",
    "/web/search": "SELECT entity_id FROM person_versions WHERE name = :q AND superseded_at IS NULL "
    "AND valid_to IS NULL ORDER BY entity_id LIMIT 100",
    "/web/rentals": "SELECT id FROM rentals ORDER BY id DESC LIMIT 50",
    "/web/changesets": "SELECT id FROM change_sets ORDER BY id DESC LIMIT 50",
}


def database(db: str, persons: int, pg_server: str, fresh: bool) -> str:
    """The URL of the benchmark database (emptied first when fresh)."""
    if db == "sqlite":
        path = Path("bench-out") / f"pages-{persons}.db"
        path.parent.mkdir(exist_ok=True)
        if fresh:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    import psycopg

    name = f"web17_bench_pages_{persons}"
    admin = psycopg.connect(pg_server, autocommit=True)
    if fresh:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    return pg_server.rsplit("/", 1)[0] + f"/{name}"


def build(url: str, persons: int, seed: int) -> dict[str, float | None]:
    """Load, enrich and fold as bench_web does; the seconds of each step."""
    t0 = time.perf_counter()
    bench_lookup.load(url, persons, seed)
    t1 = time.perf_counter()
    bench_web.enrich(url)
    t2 = time.perf_counter()
    fold_s = bench_web.fold(url)
    return {"load_s": round(t1 - t0, 1), "enrich_s": round(t2 - t1, 1), "fold_s": fold_s}


def users(url: str) -> None:
    """One user of every role (skipped when they exist)."""
    from sqlalchemy import select

    from liangshi.access.models import User

    factory = make_session_factory(make_engine(url))
    clock = Clock()
    with session_scope(factory) as s:
        have = set(s.execute(select(User.username)).scalars())
        for login, role, area, department in USERS:
            if login in have:
                continue
            access.create_user(
                s,
                username=login,
                display_name=login,
                password=PASSWORD,
                role=role,
                area_code=area,
                department=department,
                actor=SYSTEM,
                now=clock.now(),
            )


def kind_of(path: str) -> str:
    """A page's path with every number replaced, as the crawl names kinds of page."""
    return re.sub(r"/\d+", "/{id}", urlsplit(path).path)


def seeds(url: str) -> tuple[list[str], str]:
    """One object page of each kind that exists in the database, and a name to search for."""
    engine = make_engine(url)
    out = []
    with engine.connect() as c:

        def first(sql: str) -> Any:
            try:
                return c.execute(text(sql)).scalar()
            except Exception:  # a table the schema does not have
                c.rollback()
                return None

        person = first("SELECT MIN(person_id) FROM residences")
        dwelling = first(f"SELECT dwelling_id FROM residences WHERE person_id = {int(person or 0)}")
        building = first(f"SELECT building_id FROM dwellings WHERE id = {int(dwelling or 0)}")
        street = first("SELECT MIN(street_id) FROM addresses")
        area = first("SELECT MAX(id) FROM areas")
        household = first("SELECT MIN(id) FROM households")
        venue = first("SELECT MIN(id) FROM venues")
        campaign = first("SELECT MIN(id) FROM campaigns")
        change_set = first("SELECT MIN(id) FROM change_sets")
        name = first(f"SELECT name FROM person_versions WHERE entity_id = {int(person or 0)}") or "测试人员"
    engine.dispose()
    for template, value in [
        ("/web/persons/{}", person),
        ("/web/persons/{}/permits", person),
        ("/web/dwellings/{}", dwelling),
        ("/web/collect/dwellings/{}", dwelling),
        ("/web/buildings/{}/grid", building),
        ("/web/collect/buildings/{}", building),
        ("/web/streets/{}", street),
        ("/web/areas/{}", area),
        ("/web/areas/{}/map", area),
        ("/web/households/{}", household),
        ("/web/venues/{}", venue),
        ("/web/campaigns/{}", campaign),
        ("/web/changesets/{}", change_set),
    ]:
        if value is not None:
            out.append(template.format(value))
    return [*out, "/web/rentals", "/web/changesets", f"/web/search?q={name}"], str(name)


def _links(html: str) -> list[str]:
    found = []
    for href in re.findall(r'<a [^>]*href="([^"]+)"', html):
        parts = urlsplit(unescape(href))
        if (
            parts.scheme
            or parts.netloc
            or not parts.path.startswith("/web")
            or _NOT_FOLLOWED.search(parts.path)
        ):
            continue
        found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def _menu(html: str) -> list[str]:
    nav = html.split('<nav class="menu"', 1)[1].split("</nav>", 1)[0] if '<nav class="menu"' in html else ""
    return _links(nav)


def _bare(engine: Any, kind: str, path: str, name: str, runs: int) -> dict[str, Any] | None:
    sql = BARE.get(kind)
    if sql is None:
        return None
    ids = re.findall(r"/(\d+)", urlsplit(path).path)
    params = {"id": int(ids[0])} if ":id" in sql else {}
    if ":q" in sql:
        params["q"] = name
    times = []
    with engine.connect() as conn:  # closed before the next request (SQLite: no read lock held)
        for _ in range(runs):
            t0 = time.perf_counter()
            conn.execute(text(sql), params).fetchall()
            times.append(time.perf_counter() - t0)
            conn.rollback()
    return bench_web.summary(times)


def measure(url: str, runs: int) -> dict[str, Any]:
    """Crawl as every persona; the server time of every kind of page (and its bare SQL)."""
    from fastapi.testclient import TestClient

    from liangshi.config import Settings
    from liangshi.http.app import create_app

    engine = make_engine(url)
    seed_paths, name = seeds(url)
    pages: dict[str, Any] = {}
    app = create_app(Settings(database_url=url, totp_roles=""), engine=engine)
    with TestClient(app, follow_redirects=False) as client:
        for login, role, _area, _dept in USERS:
            client.cookies.clear()
            form = client.get("/web/login").text
            token = form.split('name="csrf_token" value="')[1].split('"')[0]
            r = client.post(
                "/web/login",
                data={"username": login, "password": PASSWORD, "csrf_token": token, "next": "/web/"},
            )
            assert r.status_code == 303, r.text[:300]
            home = client.get("/web/")
            queue = [*_menu(home.text), *seed_paths]
            rendered: set[str] = set()
            while queue and len(rendered) < MAX_PAGES:
                path = queue.pop(0)
                kind = kind_of(path)
                if kind in rendered or _DOWNLOAD.search(urlsplit(path).path):
                    continue
                rendered.add(kind)
                t0 = time.perf_counter()
                r = client.get(path)
                first = time.perf_counter() - t0
                if r.status_code != 200:
                    continue
                queue.extend(p for p in _links(r.text) if kind_of(p) not in rendered)
                if kind in pages:
                    pages[kind]["others_ms"][role] = round(first * 1000, 1)
                    continue
                times = [first]
                for _ in range(runs - 1):
                    t0 = time.perf_counter()
                    again = client.get(path)
                    times.append(time.perf_counter() - t0)
                    assert again.status_code == 200, (path, again.status_code)
                pages[kind] = {
                    "path": path,
                    "role": role,
                    **bench_web.summary(times),
                    "bare_sql": _bare(engine, kind, path, name, runs),
                    "others_ms": {},
                }
                bare = pages[kind]["bare_sql"]
                print(  # as it goes: a run cut short still leaves its figures
                    f"{kind} {role} {pages[kind]['median_ms']} ms"
                    + (f" (bare SQL {bare['median_ms']} ms)" if bare else ""),
                    file=sys.stderr,
                    flush=True,
                )
    engine.dispose()
    slowest = max(
        ([k, max([v["median_ms"], *v["others_ms"].values()])] for k, v in pages.items()), key=lambda kv: kv[1]
    )
    over = sorted(k for k, v in pages.items() if max([v["median_ms"], *v["others_ms"].values()]) > 300)
    return {"pages": pages, "kinds": len(pages), "slowest": slowest, "over_300_ms": over}


def main() -> None:
    """Parse arguments, build or reuse, measure, print JSON."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5, help="requests per page (median)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--load-only", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="measure the database a previous run kept")
    parser.add_argument("--drop", action="store_true", help="drop the kept database")
    parser.add_argument("--pg-server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    if args.drop:
        database(args.db, args.persons, args.pg_server, fresh=True)
        if args.db == "postgresql":
            import psycopg

            admin = psycopg.connect(args.pg_server, autocommit=True)
            admin.execute(f'DROP DATABASE IF EXISTS "web17_bench_pages_{args.persons}" WITH (FORCE)')
        return
    url = database(args.db, args.persons, args.pg_server, fresh=not args.reuse)
    built = {} if args.reuse else build(url, args.persons, args.seed)
    users(url)
    if args.load_only:
        print(json.dumps(built))
        return
    print(
        json.dumps(
            {"db": args.db, "persons": args.persons, "runs": args.runs, **built, **measure(url, args.runs)},
            indent=2,
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
