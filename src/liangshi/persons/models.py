"""Person, identity document, household and membership tables."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, String, exists, select, text
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from liangshi.access.rules import Actor
from liangshi.areas.models import Area
from liangshi.db import Base, BigId
from liangshi.persons.rules import name_keys
from liangshi.residence.models import Residence, ResidenceVersion
from liangshi.sealed import Sealed, watch
from liangshi.versioned import EntityMixin, Kind, VersionMixin


def _pinyin_default(context: Any) -> str:
    return name_keys(context.get_current_parameters()["name"])[0]


def _initials_default(context: Any) -> str:
    return name_keys(context.get_current_parameters()["name"])[1]


class Person(EntityMixin, Base):
    """A person; the id is the stable person identifier, area_id the jurisdiction holding the record."""

    __tablename__ = "persons"


@watch
class PersonVersion(VersionMixin, Base):
    """Versioned person facts (main and general items; the documents live in their own rows)."""

    __tablename__ = "person_versions"
    __entity_table__ = "persons"

    name: Mapped[str] = mapped_column(String(50))
    sex: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    ethnicity: Mapped[str | None] = mapped_column(String(2))
    nationality: Mapped[str] = mapped_column(String(3))
    hukou_region: Mapped[str | None] = mapped_column(String(6))
    hukou_address: Mapped[str | None] = mapped_column(String(200))
    education: Mapped[str | None] = mapped_column(String(2))
    marital_status: Mapped[str | None] = mapped_column(String(2))
    occupation: Mapped[str | None] = mapped_column(String(100))
    workplace: Mapped[str | None] = mapped_column(String(200))
    # Encrypted at rest (issue 18); searched and linked through its keyed-hash index.
    phone: Mapped[str | None] = mapped_column(Sealed("person.phone", index="phone_idx"))
    phone_idx: Mapped[str | None] = mapped_column(String(64), index=True)
    # Search keys derived from the name on every insert (张三 → zhangsan, zs); bulk loaders fill them explicitly.
    name_pinyin: Mapped[str | None] = mapped_column(String(200), default=_pinyin_default)
    name_initials: Mapped[str | None] = mapped_column(String(50), default=_initials_default)

    @classmethod
    def __extra_indexes__(cls) -> tuple[Any, ...]:
        # Prefix searches (LIKE 'zhang%'): PostgreSQL needs the pattern operator class under a non-C collation.
        return (
            Index("ix_person_versions_name", "name", postgresql_ops={"name": "varchar_pattern_ops"}),
            Index(
                "ix_person_versions_name_pinyin",
                "name_pinyin",
                postgresql_ops={"name_pinyin": "varchar_pattern_ops"},
            ),
            Index(
                "ix_person_versions_name_initials",
                "name_initials",
                postgresql_ops={"name_initials": "varchar_pattern_ops"},
            ),
        )


class Document(EntityMixin, Base):
    """An identity document held by a person."""

    __tablename__ = "documents"

    person_id: Mapped[int] = mapped_column(BigId, ForeignKey("persons.id"), index=True)


@watch
class DocumentVersion(VersionMixin, Base):
    """Versioned document facts; one current holder per (type, number, country).

    The number is encrypted at rest (issue 18, docs/encryption.md): looked up, joined and kept unique through its
    keyed-hash index `number_idx`; the search by the last digits of an ID number beside a name uses the keyed
    hash of its last 4 characters (`number_tail4_idx`), the person index's blocking on the last 9 characters of
    an 18-character number (a typo in its first half) `number_tail9_idx`."""

    __tablename__ = "document_versions"
    __entity_table__ = "documents"

    doc_type: Mapped[str] = mapped_column(String(24))
    number: Mapped[str] = mapped_column(
        Sealed(
            "document.number",
            index="number_idx",
            tails=(("number_tail4_idx", 4, None), ("number_tail9_idx", 9, 18)),
        )
    )
    number_idx: Mapped[str | None] = mapped_column(String(64))
    number_tail4_idx: Mapped[str | None] = mapped_column(String(64), index=True)
    number_tail9_idx: Mapped[str | None] = mapped_column(String(64), index=True)
    country: Mapped[str] = mapped_column(String(3))

    @classmethod
    def __extra_indexes__(cls) -> tuple[Any, ...]:
        current = text("superseded_at IS NULL AND valid_to IS NULL")
        return (
            Index("ix_document_versions_number_idx", "number_idx"),
            Index(
                "uq_document_versions_current",
                "doc_type",
                "number_idx",
                "country",
                unique=True,
                sqlite_where=current,
                postgresql_where=current,
            ),
        )


class Household(EntityMixin, Base):
    """A household: registered (户籍户) or actual living household (实际居住户)."""

    __tablename__ = "households"
    # An inspection's frame (inspections.service.core._frame): the households of an area's communities created by
    # the plan's time, read from the index alone; on SQLite, without it, each of a city's 357,000 households is a
    # lookup into the table (2-3 times a plain scan), with it both a city and one community read only the index.
    __table_args__ = (Index("ix_households_area_created", "area_id", "created_at"),)

    household_kind: Mapped[str] = mapped_column(String(12))


class HouseholdVersion(VersionMixin, Base):
    """Versioned household facts."""

    __tablename__ = "household_versions"
    __entity_table__ = "households"

    dwelling_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("dwellings.id"), index=True)
    household_number: Mapped[str | None] = mapped_column(String(30))


class Membership(EntityMixin, Base):
    """A person's membership of a household."""

    __tablename__ = "memberships"

    household_id: Mapped[int] = mapped_column(BigId, ForeignKey("households.id"), index=True)
    person_id: Mapped[int] = mapped_column(BigId, ForeignKey("persons.id"), index=True)


class MembershipVersion(VersionMixin, Base):
    """Versioned relationship to the household head (GB/T 4761)."""

    __tablename__ = "membership_versions"
    __entity_table__ = "memberships"

    relationship: Mapped[str] = mapped_column(String(2))


# ---- kinds: how the registry describes these tables ----


def _lives_in_scope(actor: Actor) -> ColumnElement[bool]:
    # A person is also visible where they currently live, not only where their record is held.
    return exists(
        select(Residence.id)
        .join(ResidenceVersion, ResidenceVersion.entity_id == Residence.id)
        .where(
            Residence.person_id == Person.id,
            ResidenceVersion.superseded_at.is_(None),
            ResidenceVersion.valid_to.is_(None),
            Residence.area_id.in_(select(Area.id).where(Area.path.startswith(actor.area_path))),
        )
    )


PERSON = Kind(
    "person",
    Person,
    PersonVersion,
    (
        "name",
        "sex",
        "birth_date",
        "ethnicity",
        "nationality",
        "hukou_region",
        "hukou_address",
        "education",
        "marital_status",
        "occupation",
        "workplace",
        "phone",
    ),
    "人员",
    "Person",
    also_visible=_lives_in_scope,
    write_where_visible=True,
)


DOCUMENT = Kind("document", Document, DocumentVersion, ("doc_type", "number", "country"), "证件", "Document")


HOUSEHOLD = Kind(
    "household", Household, HouseholdVersion, ("dwelling_id", "household_number"), "户", "Household"
)


MEMBERSHIP = Kind(
    "membership", Membership, MembershipVersion, ("relationship",), "户成员", "Household member"
)
