"""Pure rules of the synthetic city: frequency lists, distributions, names, ID numbers, geometry, errors.

Everything here takes a ``random.Random`` (never the global generator) and fixed tables written in this file,
so that the same seed always gives the same city, whatever the installed library versions.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Sequence
from itertools import accumulate

from liangshi.common.idnumber import compute_check_char

# ---------------------------------------------------------------------------------------------------------
# Weighted choice
# ---------------------------------------------------------------------------------------------------------


class Weighted:
    """A fixed weighted list; ``pick`` draws one item with ``rng.choices`` on precomputed cumulative weights."""

    __slots__ = ("cum", "items")

    def __init__(self, pairs: Sequence[tuple[str, float]]) -> None:
        self.items: tuple[str, ...] = tuple(item for item, _ in pairs)
        self.cum: tuple[float, ...] = tuple(accumulate(weight for _, weight in pairs))

    def pick(self, rng: random.Random) -> str:
        """One item, drawn by weight."""
        return rng.choices(self.items, cum_weights=self.cum)[0]


def _words(text: str) -> list[str]:
    """The space-separated words of a text (tables are written as text to stay compact)."""
    return text.split()


def _ranked(chars: str, offset: float = 6.0) -> list[tuple[str, float]]:
    """Characters in rough frequency order, weighted 1/(rank + offset)."""
    return [(ch, 1.0 / (rank + offset)) for rank, ch in enumerate(chars)]


# ---------------------------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------------------------

# The ~100 most common surnames with rough shares in per-mille (national surveys; order matters, values rough).
_SURNAMES = (
    "王71 李70 张67 刘54 陈45 杨31 黄22 赵20 吴20 周19 徐15 孙14 马13 朱13 胡13 郭12 何12 高11 林11 罗11 "
    "郑10 梁10 谢8 宋8 唐8 许7 韩7 冯7 邓7 曹7 彭6 曾6 肖6 田6 董5 袁5 潘5 于5 蒋5 蔡5 余5 杜5 叶5 程5 "
    "苏4 魏4 吕4 丁4 任4 沈4 姚4 卢4 姜4 崔3 钟3 谭3 陆3 汪3 范3 金3 石3 廖3 贾3 夏3 韦3 付3 方3 白2 "
    "邹2 孟2 熊2 秦2 邱2 江2 尹2 薛2 闫2 段2 雷2 侯2 龙2 史2 陶2 黎2 贺2 顾2 毛2 郝2 龚2 邵2 万2 钱2 "
    "严1 覃1 武1 戴1 莫1 孔1 向1 汤1"
)
SURNAMES = Weighted([(part[0], float(part[1:])) for part in _SURNAMES.split()])
MALE_CHARS = Weighted(
    _ranked("伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林欢阳建亮成文国志海东峰子轩博睿晨宏兵")
)
FEMALE_CHARS = Weighted(
    _ranked(
        "丽敏静燕艳娟霞芳娜秀英玲红梅琳婷雪慧洁颖倩琴云莉萍玉兰佳欣怡涵雨璐晶丹蕾茜月楠瑶诗梦思佩君凤桂珍"
    )
)


def person_name(rng: random.Random, sex: str, surname: str | None = None) -> str:
    """A Chinese name of 2–3 characters (about 70 % have a two-character given name)."""
    chars = MALE_CHARS if sex == "1" else FEMALE_CHARS
    family = surname or SURNAMES.pick(rng)
    given = chars.pick(rng)
    if rng.random() < 0.7:
        given += chars.pick(rng)
    return family + given


# Homophones and near-homophones (incl. the h/w and l/n confusions of Hubei speech) and traditional forms.
HOMOPHONES: dict[str, str] = dict(
    pair.split(":")
    for pair in _words(
        "王:汪 张:章 刘:柳 陈:程 杨:阳 黄:王 吴:武 徐:许 林:琳 周:邹 李:黎 胡:湖 伟:韦 丽:莉 敏:民 静:婧 燕:艳 "
        "娟:鹃 芳:方 军:君 勇:永 杰:洁 涛:韬 明:铭 华:化 平:萍 红:宏 玲:苓 英:莹 霞:侠 磊:蕾 鹏:朋 辉:晖 "
        "宇:雨 浩:昊 俊:峻 婷:亭 慧:惠 琳:林 倩:茜 云:芸 梅:玫 欣:心 怡:仪 雪:薛 凤:峰 建:健 亮:量"
    )
)
TRADITIONAL: dict[str, str] = dict(
    pair.split(":")
    for pair in _words(
        "张:張 刘:劉 陈:陳 杨:楊 黄:黃 赵:趙 吴:吳 郑:鄭 冯:馮 邓:鄧 叶:葉 苏:蘇 卢:盧 孙:孫 马:馬 许:許 "
        "韩:韓 谢:謝 伟:偉 丽:麗 华:華 军:軍 红:紅 凤:鳳 兰:蘭 龙:龍 涛:濤 辉:輝 鹏:鵬 飞:飛 国:國 东:東 "
        "刚:剛 强:強 杰:傑 艳:艷 玲:玲 娟:娟 梅:梅 云:雲 鑫:鑫 宁:寧 欢:歡 阳:陽 亮:亮 志:誌"
    )
    if pair[0] != pair[2]
)

FOREIGN_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    # country: (male given names, female given names, family names)
    "USA": (("John", "Michael", "David"), ("Mary", "Jennifer", "Linda"), ("Smith", "Johnson", "Brown")),
    "GBR": (("James", "Oliver", "Harry"), ("Olivia", "Amelia", "Emily"), ("Taylor", "Wilson", "Evans")),
    "DEU": (("Lukas", "Felix", "Jonas"), ("Anna", "Lena", "Marie"), ("Müller", "Schmidt", "Weber")),
    "KOR": (("Minjun", "Jiho", "Seojun"), ("Seoyeon", "Jiwoo", "Hayun"), ("Kim", "Lee", "Park")),
    "JPN": (("Haruto", "Yuto", "Sota"), ("Yui", "Hina", "Sakura"), ("Sato", "Suzuki", "Takahashi")),
    "PAK": (("Ahmed", "Ali", "Hassan"), ("Ayesha", "Fatima", "Zainab"), ("Khan", "Malik", "Qureshi")),
    "VNM": (("Minh", "Huy", "Khang"), ("Linh", "Trang", "Mai"), ("Nguyen", "Tran", "Le")),
    "RUS": (("Ivan", "Dmitry", "Sergey"), ("Olga", "Anna", "Elena"), ("Ivanov", "Smirnov", "Petrov")),
}


# ---------------------------------------------------------------------------------------------------------
# Places
# ---------------------------------------------------------------------------------------------------------

EZHOU_COUNTIES = ("420702", "420703", "420704")
# Since when the city's places (areas, streets, plates, buildings, dwellings) exist in the files: the day the
# gazetteer's areas start (areas.service.load_gazetteer), years before the floating residences, so a KPI period
# in the past finds its areas named, its plates counted and its dwellings there.
PLACES_SINCE = dt.date(2010, 1, 1)
# Real current GB/T 2260 county codes of the provinces people come to Ezhou from (checked by the tests).
OUTSIDE_COUNTIES = Weighted(
    [
        (code, weight)
        for group, weight in (
            # Hubei: Huanggang, Huangshi, Wuhan, Xiaogan, Jingzhou, Xianning
            (
                "421102 421181 421182 421121 421125 421126 421127 420202 420222 420281 420115 420117 "
                "420902 421003 421202",
                3.0,
            ),
            # Henan (Xinyang, Zhengzhou, Nanyang), Hunan (Yueyang, Changsha), Jiangxi (Jiujiang, Nanchang)
            (
                "411502 411521 411522 411524 411526 411528 410102 411302 430602 430621 430682 430103 "
                "360402 360423 360102 360124",
                1.5,
            ),
            # Anhui (Anqing, Lu'an), Sichuan (Chengdu, Guang'an, Bazhong), Chongqing, Guangdong
            ("340802 340822 341502 341524 510104 511602 511902 500101 440106", 1.0),
        )
        for code in group.split()
    ]
)
HMT_CODES = Weighted([("810000", 3.0), ("820000", 1.0), ("830000", 2.0)])
FOREIGN_COUNTRIES = Weighted([(c, w) for c, w in zip(FOREIGN_NAMES, (3, 1, 1, 3, 2, 2, 2, 1), strict=True)])

COMMUNITY_STEMS = _words(
    "滨湖 凤凰 古楼 西山 樊口 寿山 南浦 洋澜 吴都 文星 莲花 官柳 英山 江碧 明塘 城南 城北 翠屏 百子 熊家 "
    "杜湾 桂花 新港 花湖 燕矶 碧石 汀祖 泽林 长港 段店 庙岭 葛店 蒲团 临江 太和 东沟 沼山 梁湖 梧桐 大湾 "
    "胡家 陈家 刘家 李家 王家 张家 余家 程家 周家 吴家 黄家 万家 雷山 峒山 白雉 月山 金牛 牛山 长岭 叶家 "
    "严家 邵家 彭家 徐家 高桥 石桥 新桥 铁山 红莲 荷塘 柳林 杨柳 松林 竹园 梅园 桃园 李园 青山 绿水 东港 "
    "西港 南湖 北湖 新庄 老街 河口 港口 三山 四海 五里 六合 七里 八角 九龙 得胜 泉塘 石山 谈家 曹家"
)
STREET_STEMS = _words(
    "滨湖 寿山 古城 吴都 南浦 江碧 文星 武昌 鄂城 凤凰 明塘 洋澜 澜湖 官柳 熊家 东港 樊川 江滩 体育 人民 "
    "建设 解放 和平 团结 友谊 光明 胜利 新民 兴业 创业 科技 学院 五四 八一 青年 北门 南门 西门 东门 菜元 "
    "花园 翠竹 桂苑 玉兰 梧桐 银杏 松柏 莲花 荷花 葵花 钢都 铁山 吴王 孙权 庙岭 樊口 燕矶 杨叶 长港 沙窝 "
    "峒山 雷山 红山 白沙 丽景 瑞安 永安 长安 泰和 富民 安居 幸福 育才 振兴 复兴 民主 文化 市场 车站 江城"
)
NAME_PREFIXES = ("", "新", "东", "西", "南", "北", "中", "上", "下", "前", "后")
STREET_SUFFIXES = Weighted([("路", 50), ("街", 25), ("巷", 15), ("大道", 10)])
NUMBERING_STYLES = Weighted([("dash", 70), ("fu", 15), ("zhiyi", 10), ("jia", 5)])
HOTEL_SUFFIXES = ("宾馆", "酒店", "商务酒店", "快捷酒店", "旅社")
CAFE_SUFFIXES = ("网吧", "网咖", "网络会所")
DESTINATIONS_ABROAD = "境外"


def stem_name(stems: Sequence[str], index: int) -> str:
    """The index-th name of a stem list, prefixing 新/东/西… once the plain stems run out (unique per index)."""
    prefix = NAME_PREFIXES[(index // len(stems)) % len(NAME_PREFIXES)]
    extra = index // (len(stems) * len(NAME_PREFIXES))
    return prefix + stems[index % len(stems)] + ("二三四五六七八九"[extra - 1] if extra else "")


# ---------------------------------------------------------------------------------------------------------
# Geometry (WGS-84, local flat approximation — streets are a few hundred metres long)
# ---------------------------------------------------------------------------------------------------------

_M_PER_DEG_LAT = 111_320.0
CITY_CENTRE = (114.90, 30.40)


def offset(lon: float, lat: float, bearing_deg: float, metres: float) -> tuple[float, float]:
    """The point ``metres`` from (lon, lat) along a compass bearing (0 = north, 90 = east)."""
    b = math.radians(bearing_deg)
    dlat = metres * math.cos(b) / _M_PER_DEG_LAT
    dlon = metres * math.sin(b) / (_M_PER_DEG_LAT * math.cos(math.radians(lat)))
    return lon + dlon, lat + dlat


def side_of(start: tuple[float, float], bearing_deg: float, point: tuple[float, float]) -> str:
    """Which side of a street (from its start along its bearing) a point lies on: ``left`` or ``right``."""
    b = math.radians(bearing_deg)
    ex = (point[0] - start[0]) * math.cos(math.radians(start[1]))
    ny = point[1] - start[1]
    cross = math.sin(b) * ny - math.cos(b) * ex  # direction × offset; positive = left of the direction
    return "left" if cross > 0 else "right"


def start_description(lon: float, lat: float) -> str:
    """How a street's start point is written in the streets extract."""
    return f"起点 {lon:.6f},{lat:.6f}"


def parse_start_description(text: str) -> tuple[float, float]:
    """The (lon, lat) written by :func:`start_description`."""
    lon, lat = text.split()[-1].split(",")
    return float(lon), float(lat)


PARITY_OF_SIDE = {"left": 1, "right": 0}  # 左单右双: odd numbers on the left, even on the right


# ---------------------------------------------------------------------------------------------------------
# ID numbers and documents
# ---------------------------------------------------------------------------------------------------------


def id_number(region: str, birth: dt.date, seq: int) -> str:
    """An 18-character GB 11643 number: region + birth date + 3-digit sequence (odd = male) + check."""
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    return first17 + compute_check_char(first17)


def id_sequence(rng: random.Random, sex: str) -> int:
    """A 3-digit sequence whose parity encodes the sex (odd = male)."""
    return rng.randrange(0, 500) * 2 + (1 if sex == "1" else 0)


def passport_number(rng: random.Random) -> str:
    """A passport-like number: one letter and eight digits."""
    return rng.choice("EGKMNPS") + f"{rng.randrange(10**8):08d}"


_PHONE_PREFIXES = _words(
    "130 131 132 133 135 136 137 138 139 150 151 152 153 155 156 157 158 159 166 177 180 181 182 183 "
    "185 186 187 188 189 198 199"
)


def mobile_phone(rng: random.Random) -> str:
    """A mainland mobile number ``1[3-9]x`` with 11 digits."""
    return rng.choice(_PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}"


# ---------------------------------------------------------------------------------------------------------
# Ages, households, personal attributes
# ---------------------------------------------------------------------------------------------------------


def birth_date_for_age(rng: random.Random, age: int, today: dt.date) -> dt.date:
    """A birth date giving exactly ``age`` completed years on ``today`` (never in the future)."""
    days = int(age * 365.2425) + rng.randrange(0, 365)
    born = today - dt.timedelta(days=days)
    return max(dt.date(1901, 1, 1), min(born, today - dt.timedelta(days=1)))


def age_on(born: dt.date, today: dt.date) -> int:
    """Completed years."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


#: A household member before names and documents: (relationship GB/T 4761, sex 1/2, age).
Member = tuple[str, str, int]

LOCAL_HOUSEHOLDS = Weighted(
    [
        ("single_young", 8),
        ("single_old", 10),
        ("couple_young", 6),
        ("couple_mid", 10),
        ("couple_old", 14),
        ("nuclear", 28),
        ("single_parent", 5),
        ("three_gen", 11),
        ("three_gen_old", 8),
    ]
)
FLOATING_HOUSEHOLDS = Weighted([("worker", 48), ("couple_young", 22), ("nuclear", 30)])


def _child_sex(rng: random.Random) -> str:
    return "1" if rng.random() < 0.535 else "2"


def _children(rng: random.Random, mother_age: int, count: int, max_age: int = 30) -> list[tuple[str, int]]:
    """Children (sex, age) of a mother: born when she was 21–38, not older than max_age."""
    out: list[tuple[str, int]] = []
    for _ in range(count):
        age = mother_age - rng.randint(21, 38)
        if age < 0:
            age = rng.randint(0, 2)
        out.append((_child_sex(rng), min(age, max_age)))
    return out


def household_members(rng: random.Random, kind: str) -> list[Member]:
    """The composition of a household of this kind; the head comes first."""
    head_sex = "1" if rng.random() < 0.8 else "2"
    other = "2" if head_sex == "1" else "1"
    r = rng.randint
    if kind == "single_young":
        return [("02", "1" if rng.random() < 0.64 else "2", r(20, 40))]
    if kind == "single_old":
        return [("02", "2" if rng.random() < 0.55 else "1", r(60, 92))]
    if kind == "worker":
        return [("02", "1" if rng.random() < 0.66 else "2", r(18, 48))]
    if kind in ("couple_young", "couple_mid", "couple_old"):
        lo, hi = {"couple_young": (22, 38), "couple_mid": (45, 62), "couple_old": (60, 88)}[kind]
        age = r(lo, hi)
        return [("02", head_sex, age), ("10", other, max(20, age + r(-4, 3)))]
    if kind in ("nuclear", "single_parent"):
        mother = r(24, 50)
        kids = _children(rng, mother, 1 if kind == "single_parent" or rng.random() < 0.6 else 2, 24)
        if kind == "single_parent":
            members: list[Member] = [("02", "2" if rng.random() < 0.7 else "1", mother)]
        else:
            father = max(22, mother + r(-1, 4))
            members = [("02", head_sex, father if head_sex == "1" else mother)]
            members.append(("10", other, mother if head_sex == "1" else father))
        members += [("20" if sex == "1" else "30", sex, age) for sex, age in kids]
        return members
    if kind == "three_gen":
        mother = r(26, 45)
        father = mother + r(0, 4)
        members = [("02", "1", father), ("10", "2", mother)]
        kids = _children(rng, mother, 1 if rng.random() < 0.55 else 2, 20)
        members += [("20" if sex == "1" else "30", sex, age) for sex, age in kids]
        grandfather = min(95, father + r(24, 34))
        if rng.random() < 0.55:
            members.append(("51", "1", grandfather))
        if rng.random() < 0.75:
            members.append(("52", "2", max(father + 20, grandfather - r(0, 4))))
        return members
    # three_gen_old: an older head with a married son and grandchildren
    head = r(56, 78)
    members = [("02", "1", head)]
    if rng.random() < 0.8:
        members.append(("10", "2", head - r(0, 4)))
    son = max(22, head - r(24, 32))
    wife = max(21, son - r(0, 3))
    members += [("20", "1", son), ("38", "2", wife)]
    for sex, age in _children(rng, wife, 1 if rng.random() < 0.5 else 2, 16):
        members.append(("41" if sex == "1" else "42", sex, age))
    return members


ETHNICITIES = Weighted(
    [
        ("01", 9850),
        ("15", 40),
        ("03", 30),
        ("06", 20),
        ("11", 15),
        ("02", 10),
        ("08", 10),
        ("12", 8),
        ("07", 7),
    ]
)


def education(rng: random.Random, age: int, birth_year: int) -> str:
    """A GB/T 4658 education code for an age (empty under 6) by birth cohort."""
    if age < 6:
        return ""
    if age < 12:
        return "80"
    if age < 15:
        return "70"
    if age < 18:
        return "60" if rng.random() < 0.7 else "40"
    x = rng.random()
    levels: tuple[tuple[float, str], ...]
    if birth_year >= 1990:
        levels = ((0.05, "71"), (0.25, "61"), (0.40, "41"), (0.65, "31"), (0.93, "21"), (1.0, "14"))
    elif birth_year >= 1970:
        levels = (
            (0.08, "81"),
            (0.45, "71"),
            (0.65, "61"),
            (0.75, "41"),
            (0.88, "31"),
            (0.98, "21"),
            (1.0, "14"),
        )
    elif birth_year >= 1950:
        levels = ((0.05, "90"), (0.35, "81"), (0.75, "71"), (0.92, "61"), (0.96, "41"), (1.0, "21"))
    else:
        levels = ((0.25, "90"), (0.70, "81"), (0.90, "71"), (1.0, "61"))
    return next(code for bound, code in levels if x < bound)


def marital_status(rng: random.Random, age: int, relationship: str, has_spouse: bool) -> str:
    """A GB/T 2261.2 marital status: 10 unmarried, 20 married, 30 widowed, 40 divorced."""
    if has_spouse or relationship in ("10", "38"):
        return "20"
    if age < 22:
        return "10"
    if relationship in ("51", "52"):
        return "30"
    x = rng.random()
    if age >= 60:
        return "30" if x < 0.7 else ("40" if x < 0.85 else "20")
    if age >= 35:
        return "40" if x < 0.45 else ("10" if x < 0.75 else "20")
    return "10" if x < 0.85 else "40"


OCCUPATIONS = Weighted(
    [
        ("工人", 20),
        ("个体经营", 12),
        ("职员", 12),
        ("农民", 10),
        ("服务员", 6),
        ("司机", 6),
        ("教师", 4),
        ("医生", 2),
        ("护士", 2),
        ("销售员", 6),
        ("厨师", 3),
        ("快递员", 3),
        ("建筑工人", 6),
        ("公务员", 2),
        ("工程技术人员", 4),
        ("保安", 2),
    ]
)
WORKPLACES = (
    "鄂钢",
    "鄂州市第一医院",
    "顺丰航空鄂州基地",
    "葛店开发区",
    "鄂州市第二中学",
    "城东市场",
    "武汉顺丰",
    "鄂州港",
    "鄂州市人民政府",
    "吴都超市",
    "华容工业园",
    "梁子湖水产公司",
)


def occupation(rng: random.Random, age: int, village: bool) -> tuple[str, str]:
    """(occupation, workplace) for a person of working age; empty otherwise."""
    if age < 18:
        return ("学生", "") if age >= 6 else ("", "")
    if age >= 62:
        return ("离退休人员", "") if rng.random() < 0.5 else ("", "")
    if village and rng.random() < 0.5:
        return "农民", ""
    job = OCCUPATIONS.pick(rng)
    place = "" if job in ("农民", "个体经营") else rng.choice(WORKPLACES)
    return job, place


# ---------------------------------------------------------------------------------------------------------
# Realistic record errors (for duplicates across department extracts)
# ---------------------------------------------------------------------------------------------------------

DUPLICATE_ERRORS = (
    "homophone_name",
    "traditional_name",
    "wrong_digit",
    "swapped_digits",
    "old_15_digit",
    "missing_fields",
    "swapped_day_month",
)


def misspell_name(rng: random.Random, name: str, table: dict[str, str]) -> str | None:
    """The name with one character replaced from the table, or None when no character is in it."""
    spots = [i for i, ch in enumerate(name) if ch in table]
    if not spots:
        return None
    i = rng.choice(spots)
    return name[:i] + table[name[i]] + name[i + 1 :]


def wrong_digit(rng: random.Random, number: str) -> str:
    """One of the first 17 digits changed (the check character stays, so the number fails its check)."""
    i = rng.randrange(6, 17)
    digit = str((int(number[i]) + rng.randint(1, 9)) % 10)
    return number[:i] + digit + number[i + 1 :]


def swapped_digits(rng: random.Random, number: str) -> str | None:
    """Two different adjacent digits among the first 17 swapped, or None when all neighbours are equal."""
    spots = [i for i in range(16) if number[i] != number[i + 1]]
    if not spots:
        return None
    i = rng.choice(spots)
    return number[:i] + number[i + 1] + number[i] + number[i + 2 :]


def old_15_digit(number: str) -> str | None:
    """The old 15-digit form of an 18-digit number of someone born in the 1900s, else None."""
    if number[6:8] != "19":
        return None
    return number[:6] + number[8:17]


def swapped_day_month(born: dt.date) -> str | None:
    """The birth date written with day and month swapped, when that is still a (different) date."""
    if born.day > 12 or born.day == born.month:
        return None
    return f"{born.year:04d}-{born.day:02d}-{born.month:02d}"
