"""A chunk of a file's rows, readable by row (a dict per row, made when asked) or by column (a list per key)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import overload

from liangshi.exchange import formats

Row = dict[str, str | None]


@dataclass(frozen=True)
class AreaRef:
    """An area as rows refer to it."""

    id: int
    county: str
    path: str
    level: str


class Chunk(Sequence[tuple[int, Row]]):
    """Rows of one chunk as (line, values by key), cells stripped and empty cells None.

    Loaders that look at rows one by one iterate it; the bulk loaders read whole columns with `column`, and only
    the rows they hand to per-row validation are ever turned into dicts.
    """

    def __init__(self, mapping: dict[int, str], rows: list[tuple[int, list[str]]]) -> None:
        self.mapping = mapping
        self.lines = [line for line, _ in rows]
        self._cells = [cells for _, cells in rows]
        self._columns: dict[str, list[str | None]] | None = None
        self._dicts: list[Row | None] = [None] * len(rows)

    def __len__(self) -> int:
        return len(self.lines)

    @overload
    def __getitem__(self, index: int) -> tuple[int, Row]: ...

    @overload
    def __getitem__(self, index: slice) -> list[tuple[int, Row]]: ...

    def __getitem__(self, index: int | slice) -> tuple[int, Row] | list[tuple[int, Row]]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        found = self._dicts[index]
        if found is None:
            found = formats.row_values(self.mapping, self._cells[index])
            self._dicts[index] = found
        return self.lines[index], found

    def __iter__(self) -> Iterator[tuple[int, Row]]:
        for i in range(len(self)):
            yield self[i]

    def column(self, key: str) -> list[str | None]:
        """One column's values, row by row (all None when the file has no such column)."""
        if self._columns is None:
            width = max(self.mapping, default=-1) + 1
            padded = [c if len(c) >= width else c + [""] * (width - len(c)) for c in self._cells]
            transposed = list(zip(*padded, strict=False)) if padded else []
            self._columns = {
                key: [v.strip() or None for v in transposed[i]] if transposed else []
                for i, key in self.mapping.items()
            }
        found = self._columns.get(key)
        return found if found is not None else [None] * len(self)
