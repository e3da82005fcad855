"""The named checks: stable code, title, severity, the rule each enforces and who owns the fix (pure data)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from liangshi.common.idnumber import compute_check_char
from liangshi.errors import NotFound, ValidationFailed

SEVERITIES = {"high": ("高", "high"), "medium": ("中", "medium"), "low": ("低", "low")}
# Who fixes what a check finds: the collector assigned to the area (采集员, 谁采集谁负责), or a department.
OWNERS = {
    "collector": ("社区采集员", "community collector"),
    "police": ("社区民警", "community police"),
    "housing": ("房产部门", "housing department"),
    "civil_affairs": ("民政部门", "civil affairs"),
}
FINDING_STATUSES = {
    "open": ("待处理", "open"),
    "fixed": ("已整改", "fixed"),
    "dismissed": ("已排除", "dismissed"),
}


@dataclass(frozen=True)
class Check:
    """A named check: what it finds (object kind), how bad, the rule in words, and who owns the fix."""

    code: str
    title_zh: str
    title_en: str
    severity: str
    object_kind: str
    owner: str
    rule_zh: str
    rule_en: str
    # A check whose findings say more than the register shows to every reader (a person under community
    # correction): only those with this permission see, dismiss or are assigned them (None: every `check.read`).
    permission: str | None = None

    def title(self, lang: str = "zh") -> str:
        """The title in the requested language."""
        return self.title_en if lang.startswith("en") else self.title_zh


CHECKS: dict[str, Check] = {
    c.code: c
    for c in (
        Check(
            "plate.not_installed",
            "门牌未安装",
            "Plate not installed",
            "medium",
            "address",
            "collector",
            "门牌已编制但状态不是“已安装”。",
            "A plate that exists in the register but is not installed (planned, assigned or made).",
        ),
        Check(
            "plate.missing",
            "门牌缺失",
            "Plate missing",
            "high",
            "address",
            "collector",
            "部门文件（房产房屋）中有房屋的门牌在登记库中不存在，街路巷和村湾组都查。",
            "A plate another department's file names (a dwelling of the housing department) is absent from "
            "the register; streets, villages and village groups alike.",
        ),
        Check(
            "plate.wrong_side",
            "门牌编号单双号错边",
            "Plate on the wrong side",
            "medium",
            "address",
            "collector",
            "按街路巷起点、走向和门牌坐标算出门牌在路的哪一侧；全路多数门牌遵循的单双号规则（如左单右双）即本路规则，"
            "不符合者即为错边。",
            "The side of the street a plate stands on, from the street's start, bearing and the plate's "
            "position; the street's convention is the one most of its plates follow (odd on the left, or the "
            "reverse), and a plate against it is on the wrong side.",
        ),
        Check(
            "plate.out_of_order",
            "门牌编号顺序错乱",
            "Plate numbers out of order",
            "medium",
            "address",
            "collector",
            "同一街路巷同一侧（同单双号）沿里程递增，门牌号也应递增。",
            "Along a street, plates of one parity must rise with the chainage.",
        ),
        Check(
            "person.duplicate",
            "人员重复",
            "Person held twice",
            "high",
            "person",
            "police",
            "部门文件中的人员记录与登记库中某人为同一人（证件号码相同，或姓名和出生日期相同），"
            "但证件号码、姓名或出生日期写法不同，会成为第二个人或在队列中重复等待。",
            "A department record that is a register person (same ID number, or same name and birth date) "
            "written differently (ID number, name or birth date): it would become a second person or wait twice.",
        ),
        Check(
            "residence.departed_not_deregistered",
            "人走未注销",
            "Departed, not deregistered",
            "high",
            "person",
            "collector",
            "居住登记仍有效，但所住房屋已登记为空置或拆除（走访、房产部门或房东已看到离开）。",
            "A residence still open at a dwelling recorded vacant or demolished (a departure seen at a visit, "
            "by the housing department or by the landlord).",
        ),
        Check(
            "rental.tenant_unregistered",
            "承租人未登记",
            "Tenant not registered",
            "high",
            "person",
            "collector",
            "房产部门出租房屋文件中的承租人在登记库中没有此证件号码的人员。",
            "A tenant named in the housing department's rentals whose ID number no register person holds.",
        ),
        Check(
            "rental.no_agreement",
            "出租房屋未签治安责任书",
            "Rental without a signed agreement",
            "medium",
            "dwelling",
            "police",
            "出租中的房屋没有签订治安责任书（登记库或房产部门文件）。",
            "An active rental without a signed security responsibility agreement (in the register or in the "
            "housing department's file).",
        ),
        Check(
            "dwelling.vacant_recorded_occupied",
            "空置房屋登记为有人居住",
            "Vacant dwelling recorded occupied",
            "medium",
            "dwelling",
            "collector",
            "住宅登记为“自住”，却没有任何有效居住登记，或房产部门记为空置。",
            "A residential dwelling recorded occupied with nobody registered living there, or recorded vacant "
            "by the housing department.",
        ),
    )
}


# The checks within the register (issue 15, part 1): their rules are `checks.sql_register`, their definitions in
# words docs/checks.md. Registry order is run order.
_REGISTER_CHECKS = (
    Check(
        "plate.duplicate_number",
        "门牌重号",
        "Duplicate plate number",
        "high",
        "address",
        "collector",
        "同一街路巷（村湾组：同一社区）同一社区内两块以上应存在的门牌编号相同（一门一号）。",
        "Two or more plates that should exist on one street (a village: in one community), in one community, "
        "carry the same number (one door, one number).",
    ),
    Check(
        "address.one_number_many_places",
        "一号多址",
        "One number, several places",
        "high",
        "address",
        "civil_affairs",
        "同一街路巷的同一门牌号出现在两个以上社区。",
        "One number of one street is held by plates in two or more communities.",
    ),
    Check(
        "address.many_numbers_one_place",
        "多号一址",
        "Several numbers, one place",
        "medium",
        "address",
        "collector",
        "两块以上门牌坐标相同（精确到百万分之一度，约0.1米，两个门不可能在同一点）而编号不同。",
        "Two or more plates recorded at one point (equal to 1e-6 degrees, about 0.1 m: no two doors can be) "
        "with different numbers.",
    ),
    Check(
        "plate.no_building",
        "门牌无楼栋",
        "Plate without a building",
        "medium",
        "address",
        "collector",
        "已安装的门牌上登记库没有楼栋，而房产部门文件在此门牌号下有房屋（辖区不漏楼）。",
        "An installed plate carries no building in the register while the housing department's file "
        "names dwellings at its number (no building left out).",
    ),
    Check(
        "address.number_without_place",
        "有号无址",
        "Number without a place",
        "low",
        "address",
        "civil_affairs",
        "已安装的门牌上既没有登记库的楼栋，房产部门文件也没有房屋：此号不指向任何地方。",
        "An installed plate on which nothing stands: no building in the register, no dwelling in the "
        "housing department's file.",
    ),
    Check(
        "building.no_installed_plate",
        "楼栋无有效门牌",
        "Building without an installed plate",
        "medium",
        "building",
        "collector",
        "现存楼栋所在门牌已注销或已失效（门牌未安装的由“门牌未安装”报告）。",
        "A current building on a plate that was retired or no longer stands (a plate not yet installed is "
        "reported as such, on the plate).",
    ),
    Check(
        "address.no_plate",
        "有址无号",
        "Address without a plate",
        "medium",
        "building",
        "collector",
        "有人登记居住的楼栋，其门牌未安装、已注销或已失效：地址在用，门上无号。",
        "A building where people are registered living whose plate is not installed, retired or gone: the "
        "address is in use, the door carries no number.",
    ),
    Check(
        "address.number_mismatch",
        "号址不一",
        "Number and address disagree",
        "medium",
        "dwelling",
        "collector",
        "房产部门文件把某房屋（楼栋、单元、房号在本路唯一）写在登记库的另一门牌号下。",
        "The housing department's file puts a dwelling (its building, unit and room unique on the street) at "
        "another of the register's plates than the register does.",
    ),
    Check(
        "dwelling.vacant_with_residents",
        "空置或拆除房屋仍有居住登记",
        "Vacant or demolished dwelling with residents",
        "high",
        "dwelling",
        "collector",
        "登记为空置或拆除的房屋仍有有效居住登记（房屋状态或居住登记有误）。",
        "A dwelling recorded vacant or demolished still has open residences (its status or they are wrong).",
    ),
    Check(
        "household.member_count_mismatch",
        "户内人数与实住人数不符",
        "Household members differ from the persons living there",
        "medium",
        "household",
        "collector",
        "实际居住户的成员在该户房屋没有有效居住登记，或该房屋唯一的户之外还有人登记居住（楼栋不漏户、住户不漏人）。",
        "A member of an actual household has no open residence at its dwelling, or someone lives at the "
        "dwelling of its only household outside it (no household, no person left out).",
    ),
    Check(
        "person.id_invalid",
        "身份证号码校验错误",
        "ID number fails its check",
        "high",
        "person",
        "police",
        "登记库或部门文件（卫生、司法人员）中的身份证号码（含港澳台居住证、外国人永久居留证）格式不对、校验码不符"
        "或出生日期段不成日期（GB 11643；15位旧号可升位，不算错）。",
        "An ID number (resident ID, HK/Macau/Taiwan permit, permanent residence card) in the register or in a "
        "department's file (health, justice persons) badly formed, with a wrong check character or a birth "
        "segment that is no date (GB 11643; an old 15-digit number upgrades and is not wrong).",
    ),
    Check(
        "person.id_disagrees",
        "性别或出生日期与身份证号码不符",
        "Sex or birth date disagrees with the ID number",
        "high",
        "person",
        "police",
        "校验正确的身份证号码中的性别（第17位奇男偶女）或出生日期与人员登记或部门文件（卫生、司法人员）所写不一致。",
        "The sex (17th digit odd for male) or birth date a sound ID number carries disagrees with the person's, "
        "in the register or as a department's file (health, justice persons) writes them.",
    ),
    Check(
        "person.main_items_missing",
        "主项缺失",
        "Main items missing",
        "medium",
        "person",
        "collector",
        "在住人员缺少主项：姓名、性别、出生日期、证件，中国公民的民族和户籍地，与户主关系。",
        "A person living in the area lacks a main item: name, sex, birth date, a document, for a Chinese "
        "national ethnicity and hukou place, the relationship to a household head.",
    ),
    Check(
        "residence.stay_expired",
        "居住期满未续未注销",
        "Stay past its intended end",
        "medium",
        "residence",
        "collector",
        "有效居住登记的拟居住截止日期已过，既未延期也未注销。",
        "An open residence past its intended end, neither extended nor deregistered.",
    ),
    Check(
        "residence.registered_late",
        "人来登记不及时",
        "Arrival registered late",
        "medium",
        "residence",
        "collector",
        "流动人口到达后超过规定工作日才登记，或至今未登记且已过期限（与人来登记率同一定义）。",
        "A floating arrival registered more working days after it than the limit, or still unregistered past "
        "it (the definition of the arrival registration rate).",
    ),
    Check(
        "rental.lease_ended_open",
        "租期已满仍在租",
        "Lease ended, rental still open",
        "medium",
        "dwelling",
        "police",
        "出租房屋租期截止日已过，登记仍为出租中。",
        "An active rental whose lease ended before today.",
    ),
    Check(
        "rental.departed_tenant",
        "已离开的承租人仍在册",
        "Departed tenant still attached",
        "medium",
        "dwelling",
        "police",
        "出租中的房屋仍登记的承租人在该房屋已没有有效居住登记。",
        "A tenant of an active rental who has no open residence at the rented dwelling any more.",
    ),
    Check(
        "correction.person_departed",
        "社区矫正对象已离开居住地",
        "Person under community correction has left",
        "high",
        "person",
        "police",
        "司法部门在矫的社区矫正对象（矫正未结束），在登记库中已没有有效居住登记（已离开或已注销），需民警与司法所核实去向、"
        "防止脱管。只有社区矫正信息的查看者可见。",
        "A person under community correction by justice (the case not ended) who has no open residence in the "
        "register any more (departed or deregistered): the police and the judicial office verify where they went, "
        "lest supervision lapse. Seen only by those who read community-correction cases.",
        permission="correction.read",
    ),
    Check(
        "venue.foreign_guest_late",
        "境外人员住宿超时报送",
        "Foreign guest reported late",
        "high",
        "stay",
        "police",
        "境外人员入住后超过24小时才报送（与场所报送同一规则）。",
        "A foreign guest's stay that reached the register more than 24 hours after check-in (the venue rule).",
    ),
)
CHECKS.update({c.code: c for c in _REGISTER_CHECKS})


def hidden_checks(may: Any) -> list[str]:
    """The codes of the checks whose findings a reader may not see (`may`: the actor's permission test)."""
    return [c.code for c in CHECKS.values() if c.permission is not None and not may(c.permission)]


# 人来登记: a floating arrival is registered within this many working days (the arrival registration rate's limit,
# kpis.rules.ARRIVAL_REGISTRATION_LIMIT_WORKING_DAYS; kpis imports checks, so the number is kept here too and a
# test holds the two equal).
ARRIVAL_LIMIT_WORKING_DAYS = 3


def check(code: str) -> Check:
    """The check with this code; an unknown code is refused."""
    found = CHECKS.get(code)
    if found is None:
        raise NotFound(
            "check.unknown",
            f"未知的检查项：{code}",
            f"Unknown check: {code}",
            {"field": "check", "allowed": sorted(CHECKS)},
        )
    return found


def select_checks(codes: Iterable[str] | None) -> list[Check]:
    """The checks named (all of them when none are), in registry order."""
    wanted = list(dict.fromkeys(codes or ()))
    for code in wanted:
        check(code)
    return [c for c in CHECKS.values() if not wanted or c.code in wanted]


def canonical_keys(keys: Mapping[str, Any]) -> str:
    """A finding's identity across runs: its natural keys, canonically written. Stored only as a keyed hash
    (`checks.service.run.fingerprint`): the keys name persons by their ID numbers."""
    return json.dumps(dict(keys), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def dismissal_reason(reason: str | None) -> str:
    """A dismissal needs a reason of a few characters; returns it stripped."""
    text = (reason or "").strip()
    if len(text) < 2:
        raise ValidationFailed(
            "check.dismiss_reason_required",
            "排除问题须写明理由",
            "A dismissal needs a reason",
            {"field": "reason"},
        )
    return text


def majority_parity(odd: int, even: int) -> int | None:
    """The parity most plates on one side of a street have (1 odd, 0 even); None on a tie."""
    if odd == even:
        return None
    return 1 if odd > even else 0


def out_of_order(numbers: Sequence[tuple[int, int]]) -> set[int]:
    """Which plates of one side of a street, in chainage order as (base, sub) numbers, are out of order.

    The numbers should rise along the street. The plates that stand in order are those of the longest rising
    run through the sequence (its longest non-decreasing subsequence); a plate outside every such run is out of
    order, and so is one that only some of them pass through (two swapped neighbours: either could be the one
    moved, so both are reported). Returns their positions. Two plates of one number standing one after the other
    are in order here: a number held twice is `plate.duplicate_number`'s finding, not a break in the order.
    """
    n = len(numbers)
    ending = [1] * n  # the longest rising run ending at i
    for i in range(n):
        for j in range(i):
            if numbers[j] <= numbers[i] and ending[j] + 1 > ending[i]:
                ending[i] = ending[j] + 1
    starting = [1] * n  # the longest rising run starting at i
    for i in range(n - 1, -1, -1):
        for j in range(i + 1, n):
            if numbers[i] <= numbers[j] and starting[j] + 1 > starting[i]:
                starting[i] = starting[j] + 1
    longest = max(ending, default=0)
    on_some = [ending[i] + starting[i] - 1 == longest for i in range(n)]
    per_step: dict[int, int] = {}
    for i in range(n):
        if on_some[i]:
            per_step[ending[i]] = per_step.get(ending[i], 0) + 1
    return {i for i in range(n) if not on_some[i] or per_step[ending[i]] > 1}


def _is_date(yyyymmdd: str) -> bool:
    try:
        dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return False
    return True


def one_typo_apart(a: str | None, b: str | None) -> bool:
    """Two 18-character ID numbers that differ in exactly one position (a record waiting twice with a typo)."""
    if a is None or b is None or len(a) != 18 or len(b) != 18:
        return False
    return sum(x != y for x, y in zip(a, b, strict=True)) == 1


def id_problem(number: str) -> str | None:
    """What is wrong with an ID number as a department wrote it (normalised: half-width, upper case), by GB
    11643: `format`, `check_character` or `birth_segment`; None for a sound number. An old 15-digit number (no
    check character; born 19YYMMDD) is sound when its birth segment is a date: it upgrades, it is not wrong."""
    if len(number) == 15 and number.isascii() and number.isdigit():
        return None if _is_date("19" + number[6:12]) else "birth_segment"
    return _shape_problem(number) or (None if _is_date(number[6:14]) else "birth_segment")


_CHECKS = "0123456789X"


def _shape_problem(number: str) -> str | None:
    """`format` unless 17 digits and a digit or X; `check_character` when the GB 11643 check fails; else None."""
    if (
        len(number) != 18
        or not (number[:17].isascii() and number[:17].isdigit())
        or number[17] not in _CHECKS
    ):
        return "format"
    if compute_check_char(number[:17]) != number[17]:
        return "check_character"
    return None


def register_id_problem(number: str) -> str | None:
    """What is wrong with an ID number of the register (18 characters in normal form), as the register's check
    judged it in SQL before the numbers were sealed: `format` (not 17 digits and a digit or X), `check_character`,
    `birth_segment` (month not 01-12 or day not 01-31); None for a sound number."""
    if shape := _shape_problem(number):
        return shape
    if not ("01" <= number[10:12] <= "12") or not ("01" <= number[12:14] <= "31"):
        return "birth_segment"
    return None


_SEX_WRITTEN = {"1": "1", "2": "2", "男": "1", "女": "2", "m": "1", "f": "2"}


def id_disagreement(number: str, sex: str | None, birth: dt.date | None) -> list[str]:
    """Which of sex and birth date, as a record writes them, disagree with its sound ID number (odd 17th digit,
    the 15th of an old number: male; the birth segment); empty for an unsound number (that is `id_problem`)."""
    if id_problem(number) is not None:
        return []
    old = len(number) == 15
    sex_digit = int(number[14] if old else number[16])
    born = ("19" + number[6:12]) if old else number[6:14]
    differs = []
    written = _SEX_WRITTEN.get((sex or "").strip().lower())
    if written is not None and (sex_digit % 2 == 1) != (written == "1"):
        differs.append("sex")
    if birth is not None and birth.strftime("%Y%m%d") != born:
        differs.append("birth_date")
    return differs
