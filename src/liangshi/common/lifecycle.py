"""One lifecycle type (ARCHITECTURE convention 6): a table of status -> allowed actions, declared as data in a
domain's rules.py, and one `ensure()` that refuses everything else with a 409 `Conflict`.

A `Lifecycle` is itself the read-only mapping status -> allowed actions, so `LIFECYCLE["open"]`, `set(LIFECYCLE)`
and `LIFECYCLE.items()` read the table. Pure: no session, no clock, no web framework.

The refusal's messages are templates (`str.format`) over these fields: `status`, `action` (the codes),
`status_zh`, `status_en`, `action_zh`, `action_en` (their labels, the code when a label is missing) and
`label_zh`, `label_en` (the object's label). `{status!r}` quotes a code as Python writes it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from liangshi.errors import Conflict

__all__ = ["DEFAULT_MESSAGE_EN", "DEFAULT_MESSAGE_ZH", "Labels", "Lifecycle"]

#: code -> (Chinese label, English label)
Labels = Mapping[str, tuple[str, str]]

DEFAULT_MESSAGE_ZH = "{label_zh}状态为“{status_zh}”，不能办理“{action_zh}”"
DEFAULT_MESSAGE_EN = "A {label_en} that is {status} cannot be given the action {action}"

_FIELDS = ("status", "action", "status_zh", "status_en", "action_zh", "action_en", "label_zh", "label_en")


@dataclass(frozen=True, eq=False)
class Lifecycle(Mapping[str, tuple[str, ...]]):
    """What may be done to an object in each status, and the one refusal of everything else.

    `table` has one row per status in `statuses` and names only actions in `actions`. A refusal is a `Conflict`
    (409) with `code`, the two messages and the data `{status_key: status, action_key: action, "allowed": [...]}`
    plus what the caller passes; `special` gives a (status, action) pair a code and messages of its own.
    """

    label_zh: str
    label_en: str
    statuses: Labels
    actions: Labels
    table: Mapping[str, tuple[str, ...]]
    code: str
    message_zh: str = DEFAULT_MESSAGE_ZH
    message_en: str = DEFAULT_MESSAGE_EN
    #: (status, action) -> (code, message_zh, message_en), for refusals that keep an established code.
    special: Mapping[tuple[str, str], tuple[str, str, str]] = field(default_factory=dict)
    #: The names of the status and the action in the refusal's data (a plate's are `from` and `to`).
    status_key: str = "status"
    action_key: str = "action"

    def __post_init__(self) -> None:
        frozen = {status: tuple(actions) for status, actions in self.table.items()}
        problems: list[str] = []
        if set(frozen) != set(self.statuses):
            problems.append(f"table rows {sorted(frozen)} are not the statuses {sorted(self.statuses)}")
        unlabelled = sorted({a for actions in frozen.values() for a in actions} - set(self.actions))
        if unlabelled:
            problems.append(f"actions without a label: {unlabelled}")
        for status, action in self.special:
            if status not in self.statuses or action not in self.actions:
                problems.append(f"special refusal for an unknown status or action: {(status, action)}")
            elif action in frozen.get(status, ()):
                problems.append(f"special refusal for an allowed action: {(status, action)}")
        keys = (self.status_key, self.action_key)
        if keys[0] == keys[1] or "allowed" in keys:
            problems.append(f"data keys must differ from each other and from 'allowed': {keys}")
        templates = [self.message_zh, self.message_en]
        templates += [text for _, zh, en in self.special.values() for text in (zh, en)]
        sample = dict.fromkeys(_FIELDS, "")
        for template in templates:
            try:
                template.format(**sample)
            except (KeyError, IndexError, ValueError) as exc:
                problems.append(f"message template {template!r}: {exc!r}")
        if problems:
            raise ValueError(f"lifecycle of {self.label_en}: " + "; ".join(problems))
        object.__setattr__(self, "table", MappingProxyType(frozen))
        object.__setattr__(self, "statuses", MappingProxyType(dict(self.statuses)))
        object.__setattr__(self, "actions", MappingProxyType(dict(self.actions)))
        object.__setattr__(self, "special", MappingProxyType(dict(self.special)))

    # ---- the table, read as a mapping ------------------------------------------------------------------------

    def __getitem__(self, status: str) -> tuple[str, ...]:
        return self.table[status]

    def __iter__(self) -> Iterator[str]:
        return iter(self.table)

    def __len__(self) -> int:
        return len(self.table)

    # ---- the rule ----------------------------------------------------------------------------------------------

    def allowed(self, status: str) -> tuple[str, ...]:
        """What may be done in a status (nothing in a status the table does not know)."""
        return self.table.get(status, ())

    def ensure(self, status: str, action: str, /, **data: Any) -> None:
        """Refuse an action the status does not allow: 409 naming status, action, what is allowed, and `data`."""
        allowed = self.table.get(status, ())
        if action in allowed:
            return
        refusal: dict[str, Any] = {self.status_key: status, self.action_key: action, "allowed": list(allowed)}
        refusal.update(data)
        code, message_zh, message_en = self.special.get(
            (status, action), (self.code, self.message_zh, self.message_en)
        )
        status_zh, status_en = self.statuses.get(status, (status, status))
        action_zh, action_en = self.actions.get(action, (action, action))
        fields = {
            "status": status,
            "action": action,
            "status_zh": status_zh,
            "status_en": status_en,
            "action_zh": action_zh,
            "action_en": action_en,
            "label_zh": self.label_zh,
            "label_en": self.label_en,
        }
        raise Conflict(code, message_zh.format(**fields), message_en.format(**fields), refusal)
