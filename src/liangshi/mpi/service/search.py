"""Forgiving search over the register (the master index): a name as it may have been typed, found through the
name's indexed search keys and judged with the linkage engine's normalisation."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.linkage.normalise import normalise_name
from liangshi.persons import rules as person_rules
from liangshi.persons import service as persons
from liangshi.persons.models import Document, DocumentVersion, Person, PersonVersion
from liangshi.registry import Context
from liangshi.sealed import tail_keys

# Match levels of the forgiving search, best first, with their rank (the linkage engine's level names).
MATCH_LEVELS = {
    "exact": 100,
    "simplified_equal": 95,
    "pinyin_equal": 90,
    "near_homophone": 80,
    "one_edit": 70,
    "prefix": 60,
}
# How many holders of one name are shown before the holders of the next names (the rest follow them).
NAMESAKES_FIRST = 4


def _match_level(candidate: str, written: str, query_norm: Any, query_key: str, latin: bool) -> str | None:
    """How a register name matches the query, by the linkage engine's normalisation, or None."""
    if candidate == written:
        return "exact"
    norm = normalise_name(candidate)
    if norm is None:
        return None
    if not latin and query_norm is not None and norm.simplified == query_norm.simplified:
        return "simplified_equal"
    key = person_rules.name_keys(candidate)[0]
    if key == query_key:
        return "pinyin_equal"
    if not latin and query_norm is not None and norm.dialect and norm.dialect == query_norm.dialect:
        return "near_homophone"
    if person_rules.within_one_edit(key, query_key):
        return "one_edit"
    if key.startswith(query_key) or candidate.startswith(written):
        return "prefix"
    return None


def suffix_holders(session: Session, suffix: str) -> list[int]:
    """The persons holding a current document whose number ends in `suffix` (3 to 6 characters). The numbers are
    sealed (docs/encryption.md): SQL finds the documents by the keyed hash of their last 4 characters (of a
    3-character suffix: the ten hashes of a digit before it), the opened numbers are then compared in full."""
    dv = DocumentVersion
    tail = suffix[-4:]
    tails = [tail] if len(tail) == 4 else [digit + tail for digit in "0123456789"]
    rows = session.execute(
        select(Document.person_id, dv.number)
        .join(dv, dv.entity_id == Document.id)
        .where(
            dv.number_tail4_idx.in_(tail_keys(session, dv.number, tails)),
            dv.superseded_at.is_(None),
            dv.valid_to.is_(None),
        )
    )
    return sorted({int(pid) for pid, number in rows if number.endswith(suffix)})


def forgiving_search(
    session: Session, ctx: Context, text: str, *, limit: int = 20
) -> tuple[list[dict[str, Any]], int]:
    """Find persons by a name as it may have been typed: the exact name, traditional characters (OpenCC), a
    character of the same sound, Hubei's h/f, n/l, en/eng, in/ing mergers, a pinyin typo, the pinyin or initials,
    optionally with the last digits of an ID number beside it (`张伟 1234`). Ranked best first: each result is
    {snapshot, level, rank, id_suffix_matched}. Uses the name's indexed search keys (every variant is an
    equality or prefix lookup) and the linkage engine's normalisation; results are read in jurisdiction and
    audited like any search."""
    name, suffix = person_rules.query_parts(text)
    if not name:
        return [], 0
    latin = person_rules.search_key(name) is not None
    query_norm = None if latin else normalise_name(name)
    simplified = query_norm.simplified if query_norm is not None else name
    query_key = person_rules.search_key(name) if latin else person_rules.name_keys(simplified)[0]
    if not query_key:
        return [], 0
    keys = {query_key} | person_rules.one_edit_keys(query_key)
    likely = person_rules.likely_typo_keys(query_key)  # among the one-edit keys, the typos most often made
    if not latin:
        keys |= person_rules.dialect_keys(person_rules.syllables(simplified))
    v = PersonVersion
    # Two passes, so that loose prefix matches never crowd out the close ones: first the names and keys the
    # query may have been meant as (equality lookups), then, only when those leave room, the prefixes.
    close: list[Any] = [v.name.in_({name, simplified}), v.name_pinyin.in_(sorted(keys))]
    loose: list[Any] = [persons.key_prefix(session, v.name_pinyin, query_key)]
    if latin:
        loose.append(persons.key_prefix(session, v.name_initials, query_key))
    narrowing: list[Any] = []
    if suffix:
        narrowing.append(Person.id.in_(suffix_holders(session, suffix)))
    # Among many candidates the closest are read first: the name as typed or simplified, then its very pinyin,
    # then (among thousands of homophones at a city's scale) the names sharing more characters in place with the
    # query, so that 吴成强 is read before the hundreds of other wuchengqiang for 吴成墙; the id keeps it stable.
    closest = case(
        (v.name.in_({name, simplified}), 0),
        (v.name_pinyin == query_key, 1),
        else_=2,
    )
    # Namesakes (stop 29): the first NAMESAKES_FIRST holders of each name (of each pinyin key, for a query typed
    # in pinyin) come before any further holder, so that the 20 shown hold several names, not twenty holders of
    # the one name typed (吴成墙 typed for 吴成强 is itself a name; liyan typed for liyang is itself a key).
    # Among names equally close, the commoner comes first: a person looked for is more likely to carry it.
    # Both windows are over the candidates in the actor's jurisdiction only (the query's own WHERE).
    group = v.name_pinyin if latin else v.name
    holder = func.row_number().over(partition_by=group, order_by=Person.id)
    holders = func.count().over(partition_by=group)
    order: list[Any] = [case((holder <= NAMESAKES_FIRST, 0), else_=1), closest]
    if not latin:
        in_place = [
            case((func.substr(v.name, i + 1, 1) == ch, 1), else_=0) for i, ch in enumerate(simplified)
        ]
        order.append(sum(in_place[1:], in_place[0]).desc())
    if likely:
        order.append(case((v.name_pinyin.in_(sorted(likely)), 0), else_=1))
    order += [holders.desc(), group, Person.id]
    ranked: list[dict[str, Any]] = []
    seen: set[int] = set()
    total = 0
    for conditions in (close, loose):
        room = limit - len(ranked)
        if room <= 0:
            break
        where = [or_(*conditions), *narrowing]
        if seen:
            where.append(Person.id.not_in(seen))
        found = registry.search(
            session,
            ctx,
            persons.PERSON,
            where=where,
            offset=0,
            limit=max(room * 3, 30),
            order_by=order,
            count_in_page=True,  # the ranking's windows sort every candidate anyway: one scan, not two
        )
        total += found.total
        for snap in found.items:
            seen.add(snap.entity.id)
            level = _match_level(snap.row.name, name, query_norm, query_key, latin)
            if level is None and latin and (snap.row.name_initials or "").startswith(query_key):
                level = "prefix"
            if level is None:
                continue
            ranked.append(
                {
                    "snapshot": snap,
                    "level": level,
                    "rank": MATCH_LEVELS[level],
                    "id_suffix_matched": bool(suffix),
                }
            )

    # The first few holders of each name before any further one (as the query read them), then within a level
    # the names sharing more characters with the query in place (吴成墙: 吴成强 before 吴承强), then the likelier
    # typos among the one-edit keys (zhangwi: zhangwei before zhangyi); ties keep the
    # query's order (the commoner name first, then the name and the id), the sort being stable.
    def shared(candidate: str) -> int:
        return sum(a == b for a, b in zip(candidate, simplified, strict=False))

    held: dict[str, int] = {}
    for r in ranked:
        row = r["snapshot"].row
        key = row.name_pinyin if latin else row.name
        r["holder"] = held[key] = held.get(key, 0) + 1
    ranked.sort(
        key=lambda r: (
            r["holder"] > NAMESAKES_FIRST,
            -r["rank"],
            -shared(r["snapshot"].row.name),
            r["snapshot"].row.name_pinyin not in likely,
        )
    )
    for r in ranked:
        del r["holder"]
    total = max(total, len(ranked))
    return ranked[:limit], total
