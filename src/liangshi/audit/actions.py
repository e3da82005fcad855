"""Every action written to the audit log, with its Chinese and English label.

The enumeration is closed: `audit.Event` refuses an action not listed here, so a new action is named (and
labelled) before it can be logged. Access logs show the label; the raw action stays for machines.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Label:
    """An action's display name in Chinese and in English."""

    zh: str
    en: str

    def text(self, lang: str = "zh") -> str:
        """The label in the requested language (Chinese by default)."""
        return self.en if lang.startswith("en") else self.zh


# The registry's object kinds (every `Kind` descriptor), as they read inside a label.
KINDS: dict[str, Label] = {
    "area": Label("区划", "area"),
    "street": Label("街路巷", "street"),
    "address": Label("门楼牌地址", "address"),
    "building": Label("楼栋", "building"),
    "dwelling": Label("房屋", "dwelling"),
    "person": Label("人员", "person"),
    "document": Label("证件", "identity document"),
    "household": Label("户", "household"),
    "membership": Label("户成员关系", "household membership"),
    "residence": Label("居住登记", "residence registration"),
    "rental": Label("出租房屋", "rented dwelling"),
    "rental_tenant": Label("承租人", "tenancy"),
    "permit": Label("居住证", "residence permit"),
    "venue": Label("场所", "venue"),
}

# The registry's scoped use cases, which log `<kind>.<verb>` for any kind: `{kind}` is the kind's label.
KIND_VERBS: dict[str, Label] = {
    "read": Label("查阅{kind}", "Read the {kind}"),
    "search": Label("{kind}出现在查询结果中", "The {kind} shown in search results"),
    "history": Label("查阅{kind}的历史版本", "Read the {kind}'s version history"),
    "create": Label("新建{kind}", "Created the {kind}"),
    "change": Label("变更{kind}", "Changed the {kind}"),
    "correct": Label("更正{kind}", "Corrected the {kind}"),
    "retire": Label("注销{kind}", "Retired the {kind}"),
    "flag": Label("标记{kind}为核查中", "Flagged the {kind} as under investigation"),
    "flag_resolve": Label("解除{kind}的核查标记", "Resolved the {kind}'s investigation flag"),
}

# Actions of one domain each.
SPECIFIC: dict[str, Label] = {
    # persons
    "person.unmask": Label("查看完整证件号码", "Full ID number shown"),
    "person.access_log": Label("查询查阅记录", "Read the access log"),
    "person.where_lives": Label("查人知住", "Looked up where they live"),
    "person.timeline": Label("查阅时间线", "Read the timeline"),
    "person.stays_read": Label("查阅住宿上网记录", "Read the hotel and internet café stays"),
    "person.death": Label("登记死亡", "Death registered"),
    "person.merge": Label("合并人员（保留）", "Merged (kept)"),
    "person.merged_away": Label("合并人员（并入他人）", "Merged into another person"),
    "person.split": Label("拆分人员", "Split"),
    "person.split_off": Label("拆分出的人员", "Split off as a new person"),
    "person.merge_undo": Label("撤销合并", "Merge undone"),
    "person.split_undo": Label("撤销拆分", "Split undone"),
    "household.member_read": Label("作为户成员被查阅", "Read as a household member"),
    # residence
    "kpi.objects": Label("列入指标对象清单", "Listed behind a KPI"),
    "residence.floating_arrivals": Label("列入流入人员清单", "Listed among floating arrivals"),
    "residence.due_to_leave": Label("列入拟离开人员清单", "Listed among those due to leave"),
    "residence.overdue": Label("列入逾期未离开人员清单", "Listed among those overdue to leave"),
    "dwelling.occupants": Label("作为现住人员列出", "Listed as an occupant"),
    "dwelling.past_occupants": Label("作为曾住人员列出", "Listed as a past occupant"),
    # rentals and permits
    "rental.tenant_attach": Label("登记承租人", "Tenant added"),
    "rental.tenant_end": Label("承租结束", "Tenancy ended"),
    "rental.tenant_read": Label("作为承租人被查阅", "Read as a tenant"),
    "permit.list": Label("查阅本人的居住证清单", "Listed their residence permits"),
    # venues
    "venue.key_issue": Label("发放场所接口密钥", "Venue key issued"),
    "venue.key_revoke": Label("吊销场所接口密钥", "Venue key revoked"),
    "venue.followup_read": Label("列入场所待核查名单", "Listed among a venue's follow-ups"),
    "venue.stays_read": Label("在场所住宿上网登记中被查阅", "Read in a venue's guest register"),
    "venues.purge": Label("清除过期住宿上网记录", "Expired stays purged"),
    "stay.check_in": Label("入住（上网）登记", "Checked in"),
    "stay.check_out": Label("退房（下机）登记", "Checked out"),
    "stay.create": Label("导入住宿上网记录", "Stay imported"),
    # collection
    "visit.create": Label("登记走访", "Visit recorded"),
    # review desk (change sets)
    "changeset.propose": Label("提交变更集待审核", "Change set proposed for review"),
    "changeset.resubmit": Label("修改后重新提交变更集", "Change set fixed and resubmitted"),
    "changeset.approve_station": Label("派出所审核通过变更集", "Change set approved by the station"),
    "changeset.approve_district": Label("区级审核通过变更集", "Change set approved by the district"),
    "changeset.return": Label("退回变更集", "Change set returned"),
    "changeset.list": Label("出现在审核清单中", "Shown on the review desk"),
    "changeset.read": Label("查阅变更集", "Change set read"),
    "changeset.decide": Label(
        "处理变更集（认领、确认、裁决）", "Change set decided (claim, agreement, ruling)"
    ),
    "changeset.move": Label("变更集转交所属社区", "Change set handed to the community it belongs to"),
    "visit.confirm_person": Label("走访时确认", "Confirmed at a visit"),
    # QR door plates and self-declaration (issue 20)
    "plate.contact_set": Label("设置门牌责任单位联系方式", "Plate contact set"),
    "plate.sheet": Label("生成门牌打印页", "Plate sheet made"),
    "declaration.verify": Label("上门核录自主申报", "Self-declaration verified on site"),
    "declaration.decline": Label("上门核录：申报不实", "Self-declaration found untrue on site"),
    "campaign.create": Label("新建采集活动", "Campaign created"),
    "team.create": Label("组建专班", "Team formed"),
    "team.member_add": Label("专班增加成员", "Team member added"),
    "assignment.create": Label("分派采集任务", "Work assigned"),
    "assignment.reassign": Label("改派采集任务", "Work reassigned"),
    "assignment.return": Label("退回采集任务", "Work returned"),
    "household.count_declared": Label("登记户内人数", "Household size declared"),
    # checking and acceptance
    "inspection.plan_create": Label("抽取检查样本", "Inspection sample drawn"),
    "inspection.result": Label("录入抽查核对结果", "Inspection result recorded"),
    "inspection.lot_decide": Label("作出批验收结论", "Lot accepted or rejected"),
    "inspection.rectification_open": Label("下发整改事项", "Rectification item opened"),
    "inspection.rectification_fix": Label("报告整改完成", "Rectification reported done"),
    "inspection.reinspect": Label("整改复查", "Rectification re-inspected"),
    "sync.batch": Label("同步离线采集记录", "Offline outbox synced"),
    # departments and exchange
    "area.recode": Label("变更区划代码", "Area code changed"),
    "department.add": Label("新增部门", "Department added"),
    "department.agreement": Label("登记部门协议", "Department agreement recorded"),
    "department.batch": Label("接收部门数据批次", "Department batch received"),
    "correction.read": Label("查阅社区矫正信息", "Read the community-correction cases"),
    "department.extract": Label("提供给部门（批量提取）", "Extracted for a department"),
    "department.pull": Label("部门拉取", "Pulled by a department"),
    "conflict.accepted": Label("采纳部门数据", "Department value accepted"),
    "conflict.rejected": Label("不采纳部门数据", "Department value rejected"),
    "feedback.file": Label("提交数据异议", "Feedback filed"),
    "feedback.pickup": Label("领取数据异议", "Feedback picked up"),
    "feedback.decide": Label("处理数据异议", "Feedback decided"),
    "exchange_log.verify": Label("校验交换日志", "Exchange log verified"),
    "import.start": Label("开始导入", "Import started"),
    "import.finish": Label("导入完成", "Import finished"),
    "import.fail": Label("导入失败", "Import failed"),
    "register.export": Label("导出登记数据（Parquet）", "Register exported (Parquet)"),
    # master person index
    "mpi.record_linked": Label("来源记录关联到人员", "Source record linked to the person"),
    "mpi.record_new": Label("来源记录新建人员", "Source record created the person"),
    "mpi.record_review": Label("来源记录待人工核对", "Source record awaiting review"),
    "mpi.record_rejected": Label("来源记录未采用", "Source record rejected"),
    "mpi.record_claim": Label("来源记录待社区认领", "Source record awaiting its community's claim"),
    "mpi.review_queued": Label("列入人工核对", "Queued for review"),
    "mpi.review_list": Label("出现在核对清单中", "Shown in the review list"),
    "mpi.review_read": Label("查阅核对事项", "Review read"),
    "mpi.review_decide": Label("作出核对决定", "Review decided"),
    "mpi.event_read": Label("查阅合并拆分记录", "Merge or split record read"),
    # audit
    "audit.key_rotate": Label("更换审计签名密钥", "Audit signing key rotated"),
    "audit.archive": Label("归档审计日志", "Audit log archived"),
    # quality checks
    "check.run": Label("运行质量检查", "Quality checks run"),
    "check.dismiss": Label("排除检查问题", "Check finding dismissed"),
    "check.findings_read": Label("查阅检查问题清单", "Check findings listed"),
    "check.source_load": Label("载入部门文件供核查", "Department file held for checking"),
    # access
    "user.create": Label("新建用户", "User created"),
    "user.password_change": Label("更改密码", "Password changed"),
    "user.totp_enrol": Label("启用双因素登录", "Two-factor login enrolled"),
    "user.totp_reenrol": Label("重新登记双因素认证器", "Two-factor authenticator re-enrolled"),
    "user.totp_reset": Label("重置双因素登录", "Two-factor login reset"),
}


def _kind_actions() -> dict[str, Label]:
    return {
        f"{kind}.{verb}": Label(form.zh.format(kind=k.zh), form.en.format(kind=k.en))
        for kind, k in KINDS.items()
        for verb, form in KIND_VERBS.items()
    }


ACTIONS: dict[str, Label] = {**_kind_actions(), **SPECIFIC}


def is_known(action: str) -> bool:
    """Whether the action is enumerated."""
    return action in ACTIONS


def label(action: str, lang: str = "zh") -> str:
    """The action's label in a language; an entry written before the enumeration keeps its raw action."""
    known = ACTIONS.get(action)
    return known.text(lang) if known is not None else action


def labels(action: str) -> dict[str, str]:
    """The action's label in both languages (for APIs)."""
    return {"zh": label(action, "zh"), "en": label(action, "en")}
