"""The columns of each import kind, their Chinese names, and how cells become values."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from liangshi.clock import CHINA_TZ
from liangshi.common import codes
from liangshi.errors import ValidationFailed


@dataclass(frozen=True)
class Column:
    """One column: English key, Chinese header, whether a value is required, other Chinese headers it goes by."""

    key: str
    zh: str
    required: bool = False
    aliases: tuple[str, ...] = ()


def _cols(spec: str) -> tuple[Column, ...]:
    """`key:中文` per column, `!` after a required key, `|别名` after the header for another accepted header."""
    out = []
    for part in spec.split(","):
        key, names = part.strip().split(":")
        zh, *aliases = names.split("|")
        required = key.endswith("!")
        out.append(Column(key.rstrip("!"), zh, required, tuple(aliases)))
    return tuple(out)


_DWELLING_KEY = (
    "community_code!:社区代码, street:街路巷, number!:门牌号, building!:楼栋, unit:单元, room!:房号"
)
KINDS: dict[str, tuple[Column, ...]] = {
    # Places may say since when they exist (valid_from 起始日期, not after the import day); without it, from the
    # import day.
    "areas": _cols("code!:代码, name!:名称, level!:级别, parent_code!:上级代码, valid_from:起始日期"),
    "streets": _cols(
        "district_code!:区县代码, name!:名称, street_type!:类型, numbering_style:编号样式, start_description:起点,"
        " bearing_deg:走向, valid_from:起始日期"
    ),
    "plates": _cols(
        "community_code!:社区代码, street:街路巷, number!:门牌号, plate_kind:门牌类型, status:状态, lon:经度,"
        " lat:纬度, chainage_m:里程, side:所在侧, valid_from:起始日期"
    ),
    "buildings": _cols(
        "community_code!:社区代码, street:街路巷, number!:门牌号, building!:楼栋, floors_above:地上层数,"
        " floors_below:地下层数, units:单元数, use:用途, structure:结构, year_built:建成年份, valid_from:起始日期"
    ),
    "dwellings": _cols(
        _DWELLING_KEY.replace(", unit:单元", ", unit:单元, floor:楼层")
        + ", use:用途, floor_area_m2:建筑面积, owner_name:产权人, status:状态, valid_from:起始日期"
    ),
    "persons": _cols(
        "id_number:证件号码, doc_type:证件类型, country:国籍, name!:姓名, sex!:性别, birth_date:出生日期,"
        " ethnicity:民族, hukou_region:户籍地区划, hukou_address:户籍地址, education:文化程度,"
        " marital_status:婚姻状况, occupation:职业, workplace:服务处所, phone:联系电话, community_code!:管辖社区"
    ),
    "households": _cols(
        "household_number!:户号, household_kind:户类型, community_code!:社区代码, street:街路巷, number:门牌号,"
        " building:楼栋, unit:单元, room:房号, id_number!:成员证件号码, doc_type:证件类型, relationship!:与户主关系"
    ),
    "residences": _cols(
        "id_number!:证件号码, doc_type:证件类型, "
        + _DWELLING_KEY
        + ", category!:居住类别, arrival_date!:来住日期,"
        " registration_date:登记日期, intended_stay_until:拟住至, departure_date:离开日期,"
        " deregistration_date:注销日期, deregistration_reason:注销原因, destination:去向, stay_reason:暂住事由"
    ),
    "rentals": _cols(
        "landlord_id_number!:出租人证件号码, "
        + _DWELLING_KEY
        + ", lease_start!:租赁起始日期, lease_end:租赁截止日期, monthly_rent:月租金,"
        " agreement_signed:签订治安责任书, tenant_id_numbers:承租人证件号码, use:出租用途, rooms:出租间数,"
        " filing_number:备案号, agreement_signed_on:责任书签订日期, agreement_signer:责任书签订人"
    ),
    "venues": _cols(
        "community_code!:社区代码, street:街路巷, number!:门牌号, venue_kind!:场所类型, name!:场所名称,"
        " licence_number:许可证号, status:营业状态"
    ),
    # An internet café's file may say 上机时间 / 下机时间 for the check-in and check-out.
    "stays": _cols(
        "venue!:场所名称, community_code!:社区代码, doc_type:证件类型, id_number!:证件号码, name!:姓名,"
        " check_in!:入住时间|上机时间, check_out:退房时间|下机时间, reported_at:上报时间, country:国籍,"
        " stay_ref:登记编号"
    ),
}

EXAMPLES: dict[str, dict[str, str]] = {
    "areas": {"code": "420704001001", "name": "滨湖社区", "level": "community", "parent_code": "420704001"},
    "streets": {
        "district_code": "420704",
        "name": "滨湖南路",
        "street_type": "路",
        "numbering_style": "dash",
        "start_description": "起于寿山大道",
        "bearing_deg": "90",
    },
    "plates": {
        "community_code": "420704001001",
        "street": "滨湖南路",
        "number": "28-3",
        "plate_kind": "door",
        "status": "installed",
        "lon": "114.8935",
        "lat": "30.3962",
        "chainage_m": "412",
    },
    "buildings": {
        "community_code": "420704001001",
        "street": "滨湖南路",
        "number": "28-3",
        "building": "3栋",
        "floors_above": "6",
        "floors_below": "1",
        "units": "2",
        "use": "residential",
        "structure": "砖混",
        "year_built": "1998",
    },
    "dwellings": {
        "community_code": "420704001001",
        "street": "滨湖南路",
        "number": "28-3",
        "building": "3栋",
        "unit": "2",
        "floor": "5",
        "room": "501",
        "use": "residential",
        "floor_area_m2": "89.5",
        "owner_name": "张伟",
        "status": "occupied",
    },
    "persons": {
        "id_number": "11010519491231002X",
        "doc_type": "resident_id",
        "country": "",
        "name": "张丽",
        "sex": "女",
        "birth_date": "1949-12-31",
        "ethnicity": "汉",
        "hukou_region": "110105",
        "hukou_address": "北京市朝阳区",
        "education": "21",
        "marital_status": "20",
        "occupation": "教师",
        "workplace": "鄂州市第一中学",
        "phone": "13812345678",
        "community_code": "420704001001",
    },
    "households": {
        "household_number": "420704001001-0001",
        "household_kind": "actual",
        "community_code": "420704001001",
        "street": "滨湖南路",
        "number": "28-3",
        "building": "3栋",
        "unit": "2",
        "room": "501",
        "id_number": "11010519491231002X",
        "doc_type": "resident_id",
        "relationship": "02",
    },
    "residences": {
        "id_number": "11010519491231002X",
        "doc_type": "resident_id",
        "community_code": "420704001001",
        "street": "滨湖南路",
        "number": "28-3",
        "building": "3栋",
        "unit": "2",
        "room": "501",
        "category": "floating",
        "arrival_date": "2026-03-01",
        "registration_date": "2026-03-02",
        "intended_stay_until": "2027-03-01",
        "departure_date": "",
        "deregistration_date": "",
        "deregistration_reason": "",
        "destination": "",
        "stay_reason": "01",
    },
    "rentals": {
        "landlord_id_number": "11010519491231002X",
        "community_code": "420704001001",
        "street": "滨湖南路",
        "number": "28-3",
        "building": "3栋",
        "unit": "2",
        "room": "501",
        "lease_start": "2026-03-01",
        "lease_end": "2027-02-28",
        "monthly_rent": "1200",
        "agreement_signed": "是",
        "tenant_id_numbers": "42070419900101001X;420704199203040022",
        "use": "residential",
        "rooms": "2",
        "filing_number": "鄂租备2026-0001",
        "agreement_signed_on": "2026-03-02",
        "agreement_signer": "张丽",
    },
    "venues": {
        "community_code": "420704001001",
        "street": "滨湖南路",
        "number": "28-3",
        "venue_kind": "hotel",
        "name": "滨湖宾馆",
        "licence_number": "鄂特旅2026-001",
        "status": "open",
    },
    "stays": {
        "venue": "滨湖宾馆",
        "community_code": "420704001001",
        "doc_type": "resident_id",
        "id_number": "11010519491231002X",
        "name": "张丽",
        "check_in": "2026-03-01 21:30:00",
        "check_out": "2026-03-03 11:05:00",
        "reported_at": "2026-03-01 21:31:12",
        "country": "",
        "stay_ref": "R20260301-0042",
    },
}


def header_map(kind: str, header: list[str]) -> dict[int, str]:
    """Map column positions to keys, from English or Chinese headers; unknown kinds and missing columns refused."""
    if kind not in KINDS:
        raise ValidationFailed(
            "import.kind_unknown",
            f"未知的导入类型：{kind}",
            f"Unknown import kind: {kind}",
            {"field": "kind", "allowed": list(KINDS)},
        )
    names = (
        {c.key: c.key for c in KINDS[kind]}
        | {alias: c.key for c in KINDS[kind] for alias in c.aliases}
        | {c.zh: c.key for c in KINDS[kind]}
    )
    mapping: dict[int, str] = {}
    for i, name in enumerate(header):
        key = names.get(name) or names.get(name.lower())
        if key is not None:
            mapping[i] = key
    missing = [c.key for c in KINDS[kind] if c.required and c.key not in mapping.values()]
    if missing:
        raise ValidationFailed(
            "import.columns_missing",
            f"缺少必需的列：{', '.join(missing)}",
            f"Required columns missing: {', '.join(missing)}",
            {"field": missing[0], "missing": missing},
        )
    return mapping


def row_values(mapping: dict[int, str], cells: list[str]) -> dict[str, str | None]:
    """A row's cells by key; empty cells are None."""
    out: dict[str, str | None] = {}
    for i, key in mapping.items():
        value = cells[i].strip() if i < len(cells) else ""
        out[key] = value or None
    return out


_DATE_FORMS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
)


def parse_date(value: str, field: str) -> dt.date:
    """A date as departments write it."""
    text = value.strip()
    for pattern in _DATE_FORMS:
        m = pattern.match(text)
        if m:
            try:
                return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                break
    raise ValidationFailed(
        "date.invalid", f"日期“{value}”无效", f"Invalid date {value!r}", {"field": field, "input": value}
    )


_TIME_FORMS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日 ?(\d{1,2})[:时](\d{2})分?(?:(\d{2})秒?)?$"),
)


def parse_datetime(value: str, field: str) -> dt.datetime:
    """A moment as venues write it: `2026-03-01 21:30[:00]`, `2026/3/1 21:30`, `2026年3月1日 21时30分`, or ISO 8601
    with an offset; without an offset it is China time."""
    text = value.strip()
    for pattern in _TIME_FORMS:
        m = pattern.match(text)
        if m:
            try:
                year, month, day, hour, minute, second = (int(g or 0) for g in m.groups())
                return dt.datetime(year, month, day, hour, minute, second, tzinfo=CHINA_TZ)
            except ValueError:
                break
    else:
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None:
            return moment
        if any(pattern.match(text) for pattern in _DATE_FORMS):
            # A date alone (a spreadsheet cell at midnight reads as one) is that day's midnight.
            return dt.datetime.combine(parse_date(text, field), dt.time(), CHINA_TZ)
    raise ValidationFailed(
        "datetime.invalid",
        f"时间“{value}”无效",
        f"Invalid date and time {value!r}",
        {"field": field, "input": value},
    )


_SEX = {
    "1": "1",
    "2": "2",
    "0": "0",
    "9": "9",
    "男": "1",
    "女": "2",
    "male": "1",
    "female": "2",
    "m": "1",
    "f": "2",
    "男性": "1",
    "女性": "2",
}


def parse_sex(value: str) -> str:
    """Sex as a GB/T 2261.1 code."""
    code = _SEX.get(value.strip().lower())
    if code is None:
        raise ValidationFailed(
            "import.sex_invalid",
            f"性别“{value}”无效",
            f"Invalid sex {value!r}",
            {"field": "sex", "input": value},
        )
    return code


def code_or_name(table: str, value: str, field: str) -> str:
    """A code given as the code itself or as its Chinese name (`汉`, `汉族`)."""
    entries = codes.table(table).entries
    text = value.strip()
    if text in entries:
        return text
    if text.isdigit() and len(text) == 1 and f"0{text}" in entries:
        return f"0{text}"
    for code, name in entries.items():
        if text in (name, name + "族"):
            return code
    return codes.table(table).validate(text, field=field)
