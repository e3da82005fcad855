"""Draw the offline collection app's PNG icons (192 and 512 px) without an image library: a house on red.

Run: .venv/bin/python scripts/make_collect_icons.py (writes src/liangshi/web/static/icons/collect-*.png).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src" / "liangshi" / "web" / "static" / "icons"
RED, WHITE = (0xB3, 0x26, 0x1E), (0xFF, 0xFF, 0xFF)


def _pixel(x: float, y: float) -> tuple[int, int, int]:
    # Coordinates in the 512-unit box of collect.svg: roof triangle, walls, door.
    roof = 96 <= y <= 224 and abs(x - 256) <= (y - 96) * 160 / 128
    walls = 224 <= y <= 416 and 96 <= x <= 416
    door = 304 <= y <= 416 and 216 <= x <= 296
    window = (x - 256) ** 2 + (y - 236) ** 2 <= 36**2
    return WHITE if (roof or walls) and not door and not window else RED


def png(size: int) -> bytes:
    """The icon as PNG bytes."""
    scale = 512 / size
    rows = b"".join(
        b"\x00" + b"".join(bytes(_pixel((x + 0.5) * scale, (y + 0.5) * scale)) for x in range(size))
        for y in range(size)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    for n in (192, 512):
        (OUT / f"collect-{n}.png").write_bytes(png(n))
