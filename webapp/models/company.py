"""Our own legal requisites and defaults: one row, edited by an admin, printed on every document."""

import enum
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from webapp import cache
from webapp.extensions import db
from webapp.models.audit import Audited
from webapp.models.base import Versioned
from webapp.models.types import Money, Rate, enum_type


class VatMode(enum.StrEnum):
    ON_TOP = "on_top"
    INCLUDED = "included"
    NONE = "none"

    @property
    def label(self) -> str:
        return VAT_MODE_LABELS[self]


VAT_MODE_LABELS = {
    VatMode.ON_TOP: "НДС сверху",
    VatMode.INCLUDED: "НДС в том числе",
    VatMode.NONE: "Без НДС (УСН)",
}

DEFAULT_VAT_RATE = Decimal("22.00")  # standard rate from 2026-01-01


class SignatoryAuthority(enum.StrEnum):
    """On what authority a party's signatory signs: its charter, a power of attorney, or — for a
    sole trader (ИП) — himself, on his own behalf."""

    CHARTER = "charter"
    ATTORNEY = "attorney"
    SOLE_TRADER = "sole_trader"

    @property
    def label(self) -> str:
        return {"charter": "Устав (руководитель)", "attorney": "Доверенность",
                "sole_trader": "Индивидуальный предприниматель, от своего имени"}[self.value]


DEFAULT_REGULATION_NUMBER_FORMAT = "РВ-{client}-{edition}"


class CompanyProfile(Versioned, Audited, db.Model):
    __audit_name__ = "Профиль компании"
    __audit_labels__ = {
        "name": "Краткое наименование", "legal_name": "Полное наименование", "inn": "ИНН", "kpp": "КПП",
        "ogrn": "ОГРН", "address": "Адрес", "phone": "Телефон", "email": "E-mail", "bank_name": "Банк", "bik": "БИК",
        "account": "Расчётный счёт", "corr_account": "Корр. счёт", "signatory_name": "Подписант",
        "signatory_position": "Должность подписанта", "signatory_basis": "Основание полномочий",
        "vat_mode": "НДС", "vat_rate": "Ставка НДС", "default_hourly_rate": "Ставка часа по умолчанию",
        "act_number_format": "Формат номера акта", "minutes_number_format": "Формат номера протокола",
        "signatory_position_genitive": "Должность подписанта (кого)", "signatory_authority": "Подписант действует на основании",
        "signatory_attorney_number": "Номер доверенности", "signatory_attorney_date": "Дата доверенности",
        "registered_on": "Дата записи в ЕГРЮЛ/ЕГРИП",
        "seal_mark": "Печатать «М.П.»", "act_number_start": "Первый номер акта в году",
        "invoice_qr": "QR-код оплаты в счёте", "regulation_number_format": "Формат номера регламента"}
    __tablename__ = "company_profile"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    legal_name: Mapped[str] = mapped_column(sa.String(500), default="")
    inn: Mapped[str] = mapped_column(sa.String(12), default="")
    kpp: Mapped[str] = mapped_column(sa.String(9), default="")
    ogrn: Mapped[str] = mapped_column(sa.String(15), default="")
    address: Mapped[str] = mapped_column(sa.String(500), default="")
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    bank_name: Mapped[str] = mapped_column(sa.String(300), default="")
    bik: Mapped[str] = mapped_column(sa.String(9), default="")
    account: Mapped[str] = mapped_column(sa.String(20), default="")
    corr_account: Mapped[str] = mapped_column(sa.String(20), default="")
    signatory_name: Mapped[str] = mapped_column(sa.String(200), default="")
    signatory_position: Mapped[str] = mapped_column(sa.String(200), default="")
    signatory_basis: Mapped[str] = mapped_column(sa.String(200), default="Устава")  # the charter, genitive
    signatory_position_genitive: Mapped[str] = mapped_column(sa.String(200), default="")
    signatory_authority: Mapped[SignatoryAuthority] = mapped_column(
        enum_type(SignatoryAuthority, "signatory_authority"), default=SignatoryAuthority.CHARTER)
    signatory_attorney_number: Mapped[str] = mapped_column(sa.String(60), default="")
    signatory_attorney_date: Mapped[date | None] = mapped_column(sa.Date)
    registered_on: Mapped[date | None] = mapped_column(sa.Date)  # the ЕГРЮЛ / ЕГРИП record
    seal_mark: Mapped[bool] = mapped_column(sa.Boolean, default=False)  # «М.П.» under signatures
    vat_mode: Mapped[VatMode] = mapped_column(
        enum_type(VatMode, "vat_mode"),
        default=VatMode.ON_TOP,
    )
    vat_rate: Mapped[Decimal] = mapped_column(Rate, default=DEFAULT_VAT_RATE)
    default_hourly_rate: Mapped[Decimal] = mapped_column(Money, default=Decimal("3000.00"))
    act_number_format: Mapped[str] = mapped_column(sa.String(60), default="{year}-{seq:04d}")
    # An installation continuing 1C's numbering starts the year's sequence here (never below the last given).
    act_number_start: Mapped[int] = mapped_column(sa.Integer, default=1)
    invoice_qr: Mapped[bool] = mapped_column(sa.Boolean, default=True)  # print the payment QR code on invoices
    minutes_number_format: Mapped[str] = mapped_column(sa.String(60), default="П-{year}-{seq:03d}")
    regulation_number_format: Mapped[str] = mapped_column(sa.String(60),
                                                          default=DEFAULT_REGULATION_NUMBER_FORMAT)

    def __str__(self) -> str:
        return self.name or "Профиль компании"

    @classmethod
    def get(cls) -> "CompanyProfile":
        """The single profile row; before the first save, an unsaved one holding the defaults.

        Reading never inserts (no GET changes data); ``services.company`` adds it on first save.
        """
        profile = db.session.scalar(sa.select(cls).order_by(cls.id).limit(1))
        if profile is None:
            defaults = {
                column.key: column.default.arg
                for column in cls.__table__.columns
                if column.default is not None and not callable(column.default.arg)
            }
            defaults.pop("version", None)
            profile = cls(**defaults)
        return profile

    @classmethod
    def cached(cls) -> "CompanyProfile":
        """The profile to read (documents print it): a copy kept per process until the profile is
        saved (``webapp.cache``), not attached to the session. To edit it, use ``get``."""
        return cls(**_PROFILE.get())


def _profile_values() -> dict:
    profile = CompanyProfile.get()
    return {column.key: getattr(profile, column.key) for column in CompanyProfile.__table__.columns}


_PROFILE = cache.Cached("company_profile", _profile_values)
cache.watch(CompanyProfile, "company_profile")
