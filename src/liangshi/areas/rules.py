"""Area code rules (GB/T 2260 and the statistics bureau's 12-digit codes)."""

from __future__ import annotations

from liangshi.errors import ValidationFailed

# Which levels may sit under which.
CHILD_LEVELS: dict[str, tuple[str, ...]] = {
    "province": ("city",),
    "city": ("district",),
    "district": ("subdistrict", "town", "township"),
    "subdistrict": ("community", "village"),
    "town": ("community", "village"),
    "township": ("community", "village"),
    "community": ("grid",),
    "village": ("group", "grid"),
    "group": (),
    "grid": (),
}


def county_of(code: str) -> str:
    """The 6-digit county code an area belongs to (its own code at county level and above)."""
    return code[:6]


def check_child(parent_code: str, parent_level: str, code: str, level: str) -> None:
    """A child's level must fit under the parent and its code must extend the parent's code."""
    if level not in CHILD_LEVELS.get(parent_level, ()):
        raise ValidationFailed(
            "area.level_invalid",
            "该级别的区划不能设在此上级区划之下",
            "An area of this level cannot sit under that parent",
            {"field": "level", "parent_level": parent_level, "allowed": list(CHILD_LEVELS[parent_level])},
        )
    if level in ("city", "district"):
        expected_prefix = parent_code[:2] if level == "city" else parent_code[:4]
        ok = len(code) == 6 and code.startswith(expected_prefix) and code != parent_code
    else:
        ok = len(code) == len(parent_code) + 3 and code.startswith(parent_code)
    if not ok:
        raise ValidationFailed(
            "area.code_mismatch",
            "区划代码与上级区划代码不一致",
            "The area code does not extend its parent's code",
            {"field": "code", "parent_code": parent_code},
        )
