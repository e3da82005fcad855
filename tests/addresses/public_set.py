"""The public-writing evaluation set in ``data/public_addresses.tsv``: loaded as (source, text, expected fields)."""

from __future__ import annotations

from pathlib import Path

from liangshi.addresses.parsing import ADDRESS_FIELDS

PATH = Path(__file__).parent / "data" / "public_addresses.tsv"
_KEYS = {
    "p": "province",
    "c": "city",
    "d": "district",
    "t": "township",
    "co": "community",
    "g": "village_group",
    "r": "road",
    "n": "number",
    "b": "building",
    "u": "unit",
    "f": "floor",
    "rm": "room",
    "poi": "poi",
}


def load() -> list[tuple[str, str, dict[str, str | None]]]:
    """Each line's source, text and the 13 expected fields (None where the label names nothing)."""
    rows: list[tuple[str, str, dict[str, str | None]]] = []
    for line in PATH.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        source, text, labels = line.split("\t")
        expected: dict[str, str | None] = dict.fromkeys(ADDRESS_FIELDS)
        for pair in labels.split():
            key, value = pair.split("=", 1)
            expected[_KEYS[key]] = value
        rows.append((source, text, expected))
    return rows
