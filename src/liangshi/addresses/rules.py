"""Door-plate rules: numbers as written, rendering by local style, the plate lifecycle."""

from __future__ import annotations

import math
import re
import unicodedata
from urllib.parse import parse_qsl, urlencode, urlsplit

from liangshi.common.lifecycle import Lifecycle
from liangshi.errors import ValidationFailed

STREET_TYPES = ("路", "街", "巷", "大道", "道", "大街", "胡同", "弄", "里", "村道", "湾", "组")
NUMBERING_STYLES: dict[str, str] = {"dash": "12-1", "fu": "12附1", "zhiyi": "12号之一", "jia": "甲12号"}
PLATE_KINDS: dict[str, tuple[str, str]] = {
    "door": ("门牌", "door plate"),
    "building": ("楼牌", "building plate"),
    "unit": ("单元牌", "entrance plate"),
    "dwelling": ("户牌", "dwelling plate"),
}

PLATE_STATUSES: dict[str, tuple[str, str]] = {
    "planned": ("已规划", "planned"),
    "assigned": ("已编号", "assigned"),
    "made": ("已制作", "made"),
    "installed": ("已安装", "installed"),
    "retired": ("已注销", "retired"),
}
# Plate lifecycle: status -> statuses it may move to (planned → assigned → made → installed → retired); the
# "action" is the status moved to, so the refusal names them `from` and `to`.
PLATE_LIFECYCLE = Lifecycle(
    label_zh="门牌",
    label_en="plate",
    statuses=PLATE_STATUSES,
    actions=PLATE_STATUSES,
    table={
        "planned": ("assigned", "retired"),
        "assigned": ("made", "retired"),
        "made": ("installed", "retired"),
        "installed": ("retired",),
        "retired": (),
    },
    code="plate.transition_invalid",
    message_zh="{label_zh}状态不能从“{status}”变为“{action}”",
    message_en="A {label_en} cannot go from {status!r} to {action!r}",
    status_key="from",
    action_key="to",
)

_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_STEMS = "甲乙丙丁戊己庚辛壬癸"
_PATTERNS = (
    re.compile(r"^(?P<base>\d{1,5})号?$"),
    re.compile(r"^(?P<base>\d{1,5})号?-(?P<sub>\d{1,3})号?$"),
    re.compile(r"^(?P<base>\d{1,5})号?附(?P<sub>\d{1,3})号?$"),
    re.compile(r"^(?P<base>\d{1,5})号之(?P<cn>[一二三四五六七八九十])$"),
    re.compile(r"^(?P<stem>[甲乙丙丁戊己庚辛壬癸])(?P<base>\d{1,5})号?$"),
)


def parse_plate_number(text: str, *, field: str = "number") -> tuple[int, int | None]:
    """Parse a plate number as written (`12`, `12号`, `12-1`, `16附1`, `12号之一`, `甲12号`) into base and sub."""
    value = unicodedata.normalize("NFKC", text).strip().replace("－", "-").replace("—", "-")
    for pattern in _PATTERNS:
        m = pattern.match(value)
        if not m:
            continue
        base = int(m.group("base"))
        groups = m.groupdict()
        if groups.get("sub"):
            sub: int | None = int(groups["sub"])
        elif groups.get("cn"):
            sub = _CN_DIGITS[groups["cn"]]
        elif groups.get("stem"):
            sub = _STEMS.index(groups["stem"]) + 1
        else:
            sub = None
        if base == 0 or sub == 0:
            break
        return base, sub
    raise ValidationFailed(
        "plate.number_invalid",
        f"门牌号“{text}”格式不正确",
        f"Malformed plate number {text!r}",
        {"field": field, "input": text},
    )


def render_plate_number(base: int, sub: int | None, style: str) -> str:
    """Write a plate number in the street's numbering style."""
    if sub is None:
        return f"{base}号"
    if style == "fu":
        return f"{base}附{sub}号"
    if style == "zhiyi":
        cn = "一二三四五六七八九十"
        return f"{base}号之{cn[sub - 1]}" if sub <= 10 else f"{base}-{sub}号"
    if style == "jia":
        return f"{_STEMS[sub - 1]}{base}号" if sub <= 10 else f"{base}-{sub}号"
    return f"{base}-{sub}号"


def ensure_plate_transition(current: str, new: str) -> None:
    """Refuse a plate status change the lifecycle does not allow (keeping the status is no change)."""
    if new != current:
        PLATE_LIFECYCLE.ensure(current, new, field="status")


def plate_key(base: int, sub: int | None) -> str:
    """The normalised, style-free form of a plate number: `12`, `12-1` (used in reports and as a key)."""
    return str(base) if sub is None else f"{base}-{sub}"


PLATE_SIDES: dict[str, str] = {
    "odd": "odd",
    "单": "odd",
    "单号": "odd",
    "even": "even",
    "双": "even",
    "双号": "even",
}


def parse_plate_side(text: str, *, field: str = "side") -> str | None:
    """Read a street side as written (`odd`/`even`/`单`/`双`); empty means unknown (None)."""
    value = unicodedata.normalize("NFKC", text).strip().lower()
    if not value:
        return None
    side = PLATE_SIDES.get(value)
    if side is None:
        raise ValidationFailed(
            "plate.side_invalid",
            f"门牌所在侧“{text}”无效：应为 odd/单 或 even/双",
            f"Invalid street side {text!r}: expected odd/单 or even/双",
            {"field": field, "input": text},
        )
    return side


# The side of the street a plate stands on, as stored (address_versions.side): the physical side seen from the
# street's start along its direction (left / right), or the numbering side a collector saw (odd / even: the side the
# odd or even numbers are on). Odd on one side, even on the other (DOMAIN.md, door-plate numbering).
STORED_SIDES: dict[str, str] = {
    **PLATE_SIDES,
    "left": "left",
    "l": "left",
    "左": "left",
    "左侧": "left",
    "right": "right",
    "r": "right",
    "右": "right",
    "右侧": "right",
}


def parse_stored_side(text: str | None, *, field: str = "side") -> str | None:
    """Read a plate's side as written (`left`/`左`, `right`/`右`, `odd`/`单`, `even`/`双`); empty is unknown."""
    value = unicodedata.normalize("NFKC", text or "").strip().lower()
    if not value:
        return None
    side = STORED_SIDES.get(value)
    if side is None:
        raise ValidationFailed(
            "plate.stored_side_invalid",
            f"门牌所在侧“{text}”无效：应为 left/左、right/右、odd/单 或 even/双",
            f"Invalid street side {text!r}: expected left/左, right/右, odd/单 or even/双",
            {"field": field, "input": text},
        )
    return side


def street_axis(
    start_description: str | None, bearing_deg: float | None
) -> tuple[float, float, float] | None:
    """A street's start (lon, lat) and bearing in degrees from its start description (`起点 lon,lat`, as the
    streets extract writes it) and bearing; None when the start is written in words or the bearing is unknown."""
    if not start_description or bearing_deg is None:
        return None
    try:
        lon, lat = (float(v) for v in start_description.split()[-1].split(","))
    except ValueError:
        return None
    if not (73 <= lon <= 136 and 3 <= lat <= 54):
        return None
    return lon, lat, float(bearing_deg)


def side_from_position(
    axis: tuple[float, float, float] | None, lon: float | None, lat: float | None
) -> str | None:
    """Which side (`left`/`right`) of a street, seen from its start along its bearing, a position lies on: the sign
    of the cross product of the street's direction with the offset (local metres east and north); None without
    an axis or a position, or exactly on the axis."""
    if axis is None or lon is None or lat is None:
        return None
    lon0, lat0, bearing = axis
    b = math.radians(bearing)
    east = (lon - lon0) * math.cos(math.radians(lat0))
    north = lat - lat0
    cross = math.sin(b) * north - math.cos(b) * east
    if cross == 0:
        return None
    return "left" if cross > 0 else "right"


# ---- QR door plates (二维码门牌) ----
# GB/T 39609-2020 lists what an address QR code may carry; this one carries the standard address code and the
# contact of the police station and the grid that answer for the plate, never a person, as a URL this server
# answers (`/q/<code>`): scanned by a collector it opens the place, by anyone else the self-declaration form.
QR_FIELDS = ("station", "grid")


def plate_qr_payload(base_url: str, code: str, station: str | None, grid: str | None) -> str:
    """The text a plate's QR code holds: `<base>/q/<code>` and the station's and grid's name and phone."""
    query = {k: v for k, v in zip(QR_FIELDS, (station, grid), strict=True) if v}
    url = f"{base_url.rstrip('/')}/q/{code}"
    return f"{url}?{urlencode(query)}" if query else url


def read_plate_qr(payload: str) -> dict[str, str]:
    """What a plate's QR text says: `code` and the contacts it carries (the inverse of `plate_qr_payload`)."""
    parts = urlsplit(payload)
    code = parts.path.rsplit("/q/", 1)[-1] if "/q/" in parts.path else ""
    fields = {k: v for k, v in parse_qsl(parts.query) if k in QR_FIELDS}
    return {"code": code, **fields}


def contact_text(name: str | None, phone: str | None) -> str | None:
    """One contact as the plate prints it: `name phone` (either may be missing)."""
    text = " ".join(p for p in (name, phone) if p)
    return text or None
