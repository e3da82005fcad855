"""The named checks: stable code, title, severity, the rule each enforces and who owns the fix (pure data)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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


def fingerprint(keys: Mapping[str, Any]) -> str:
    """A finding's identity across runs: its natural keys, canonically written."""
    return json.dumps(dict(keys), ensure_ascii=False, sort_keys=True, separators=(",", ":"))[:400]


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

    The numbers should rise strictly along the street. The plates that stand in order are those of the longest
    rising run through the sequence (its longest increasing subsequence); a plate outside every such run is out
    of order, and so is one that only some of them pass through (two swapped neighbours: either could be the
    one moved, so both are reported). Returns their positions.
    """
    n = len(numbers)
    ending = [1] * n  # the longest rising run ending at i
    for i in range(n):
        for j in range(i):
            if numbers[j] < numbers[i] and ending[j] + 1 > ending[i]:
                ending[i] = ending[j] + 1
    starting = [1] * n  # the longest rising run starting at i
    for i in range(n - 1, -1, -1):
        for j in range(i + 1, n):
            if numbers[i] < numbers[j] and starting[j] + 1 > starting[i]:
                starting[i] = starting[j] + 1
    longest = max(ending, default=0)
    on_some = [ending[i] + starting[i] - 1 == longest for i in range(n)]
    per_step: dict[int, int] = {}
    for i in range(n):
        if on_some[i]:
            per_step[ending[i]] = per_step.get(ending[i], 0) + 1
    return {i for i in range(n) if not on_some[i] or per_step[ending[i]] > 1}
