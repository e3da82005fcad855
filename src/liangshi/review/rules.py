"""What district review names (district policy, configurable) and what the desk's filters mean: pure rules."""

from __future__ import annotations

from dataclasses import dataclass

# The change sets' actions (what was proposed) and their labels.
ACTIONS: dict[str, tuple[str, str]] = {
    "person_at_dwelling": ("新增在住人员", "New person at a dwelling"),
    "arrival": ("来人登记", "Arrival"),
    "departure": ("人走注销", "Departure"),
    "extension": ("续住", "Extension of stay"),
    "correction": ("更正人员信息", "Correction of a person"),
    "occupancy": ("房屋居住状况", "Occupancy of a dwelling"),
    "move": ("市内迁移", "Move within the city"),
    "birth": ("出生登记", "Birth"),
    "document": ("新增证件", "New document of a person"),
    "member": ("新增家庭成员", "New member of a household"),
    "member_end": ("家庭成员离户", "Member leaving a household"),
    "household": ("新建家庭户", "New household"),
}
STAGES = ("station", "district")


@dataclass(frozen=True)
class DistrictPolicy:
    """What the district reviews after the station (configurable): change sets tagged with one of `tags` (a
    residence category such as 境外 `overseas`), of one of `actions` (deregistrations), and a reproducible
    sample share of everything else (0.0 to 1.0)."""

    tags: frozenset[str] = frozenset({"overseas"})
    actions: frozenset[str] = frozenset({"departure"})
    sample_share: float = 0.0


DEFAULT_POLICY = DistrictPolicy()


def parse_policy(tags: str, actions: str, sample_share: float) -> DistrictPolicy:
    """A policy from its comma-separated settings."""
    return DistrictPolicy(
        frozenset(t.strip() for t in tags.split(",") if t.strip()),
        frozenset(a.strip() for a in actions.split(",") if a.strip()),
        min(max(sample_share, 0.0), 1.0),
    )


def in_sample(change_set_id: int, share: float) -> bool:
    """Whether a change set falls in the district's sample: a fixed hash of its id, so the draw is reproducible
    (Knuth's multiplicative hash spreads consecutive ids)."""
    if share <= 0:
        return False
    return (change_set_id * 2654435761) % 2**32 < share * 2**32


def needs_district(policy: DistrictPolicy, *, change_set_id: int, action: str, tags: set[str]) -> bool:
    """Whether district policy names this change set for review after the station's."""
    return (
        action in policy.actions or bool(tags & policy.tags) or in_sample(change_set_id, policy.sample_share)
    )
