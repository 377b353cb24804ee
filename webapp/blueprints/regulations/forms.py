from dataclasses import dataclass
from functools import cache

from wtforms import EmailField, FieldList, FormField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from webapp.forms import (BaseForm, DateField, EmailAddress, IntegerField, MoneyField, PhoneField, VersionField,
                          choices)
from webapp.models.regulations import WEEKDAYS


def plain_lines(text: str | None) -> str:
    """Browsers send «\r\n» from a textarea: stored so, an unchanged clause would differ from one
    saved elsewhere by its line endings alone."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


class RowForm(BaseForm):
    """A row of a table inside the regulation form (no CSRF of its own). A row filled in part names
    the cells it still needs (``REQUIRED``) instead of printing «реакция , решение —»."""

    REQUIRED: dict[str, str] = {}

    class Meta:
        csrf = False

    def is_blank(self) -> bool:
        return not any((f.data or "").strip() for f in self if isinstance(f.data, str))

    def row(self) -> dict[str, str]:
        return {f.short_name: plain_lines(f.data) for f in self}

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.is_blank():
            return valid
        for name, message in self.REQUIRED.items():
            field = getattr(self, name)
            if not (field.data or "").strip():
                field.errors = [*field.errors, message]
                valid = False
        return valid


class SlaRowForm(RowForm):
    priority = StringField("Приоритет", validators=[Optional(), Length(max=100)])
    description = TextAreaField("Описание", validators=[Optional(), Length(max=1000)])
    reaction = StringField("Реакция", validators=[Optional(), Length(max=100)])
    resolution = StringField("Решение", validators=[Optional(), Length(max=100)])

    REQUIRED = {"priority": "Укажите приоритет.", "reaction": "Укажите время реакции.",
                "resolution": "Укажите время решения."}


class PartyRowForm(RowForm):
    side = SelectField("Сторона", choices=choices([("client", "Заказчик"), ("contractor", "Исполнитель")]))
    name = StringField("ФИО", validators=[Optional(), Length(max=200)])
    position = StringField("Должность", validators=[Optional(), Length(max=200)])
    role = StringField("Роль в процессе", validators=[Optional(), Length(max=300)])
    phone = PhoneField("Телефон", validators=[Optional(), Length(max=40)])
    email = EmailField("E-mail", validators=[Optional(), Length(max=254), EmailAddress()])

    def is_blank(self) -> bool:
        return not (self.name.data or "").strip()


class EscalationRowForm(RowForm):
    who = StringField("Кто", validators=[Optional(), Length(max=300)])
    when = StringField("Когда", validators=[Optional(), Length(max=300)])

    REQUIRED = {"who": "Укажите, к кому обращаться."}


class SectionRowForm(RowForm):
    title = StringField("Заголовок", validators=[Optional(), Length(max=200)])
    body = TextAreaField("Текст", validators=[Optional(), Length(max=20000)])

    REQUIRED = {"title": "Укажите заголовок раздела.", "body": "Напишите текст раздела."}


WEEKDAY_CHOICES = choices([("", "— нет —")] + [(str(i), name) for i, name in enumerate(WEEKDAYS)])

BLANK_ROWS = 2  # empty rows offered under each table; filled ones are kept on save

# Text clauses stored with «\n» line endings whatever the browser sent (see ``plain_lines``).
TEXT_CLAUSES = ("meeting_place", "channels", "working_hours", "intake_procedure", "hours_limit",
                "confidentiality", "term_text")


class ClauseFormBase(BaseForm):
    """A form over some of the clauses: the whole set (the company standard) or one group of a draft.
    Its ``values`` are the clauses it holds, and only those: a group saves its own fields."""

    def tables(self) -> list[FieldList]:
        return [f for f in self if isinstance(f, FieldList)]

    def offer_blank_rows(self) -> None:
        """Existing rows, then a couple of empty ones to fill in."""
        for table in self.tables():
            for _ in range(BLANK_ROWS):
                table.append_entry()

    def values(self) -> dict:
        data = {}
        for fld in self:
            name = fld.short_name
            if name in ("csrf_token", "version"):
                continue
            if isinstance(fld, FieldList):
                rows = [entry.form for entry in fld]
                data[name] = [row.row() for row in rows if not row.is_blank()]
            elif name in TEXT_CLAUSES:
                data[name] = plain_lines(fld.data)
            elif name == "city":
                data[name] = (fld.data or "").strip()
            else:
                data[name] = fld.data
        for n, row in enumerate(data.get("escalation", []), start=1):
            row["level"] = str(n)
        return data


class ClausesForm(ClauseFormBase):
    """The clauses shared by a client's regulation and the company standard."""

    contact_cadence_days = IntegerField("Связь с клиентом: каждые N рабочих дней", default=3, validators=[
        InputRequired("Укажите, как часто связываться."), NumberRange(1, 30, "От 1 до 30 рабочих дней.")])
    meeting_weekday = SelectField("День планёрки", choices=WEEKDAY_CHOICES,
                                  coerce=lambda v: int(v) if v not in (None, "", "None") else None)
    meeting_time = TimeField("Время планёрки", validators=[Optional()])
    meeting_place = StringField("Место планёрки", validators=[Optional(), Length(max=300)])
    channels = TextAreaField("Каналы связи (по одному в строке)", validators=[Optional(), Length(max=2000)])
    working_hours = StringField("Рабочее время", validators=[Optional(), Length(max=300)])
    intake_procedure = TextAreaField("Порядок приёма задач", validators=[Optional(), Length(max=20000)])
    approval_threshold_hours = MoneyField("Согласование ЛПР от, часов", validators=[
        Optional(), NumberRange(0, 10000, "От 0 до 10 000 часов.")],
        description="Задачи крупнее начинаются только после согласования ЛПР. Пусто — согласуется каждая.")
    approval_threshold_amount = MoneyField("или от суммы, ₽", validators=[
        Optional(), NumberRange(0, 10**9, "От 0 до 1 000 000 000 ₽.")])
    acceptance_days = IntegerField("Приёмка актов, рабочих дней", default=5, validators=[
        InputRequired("Укажите срок приёмки."), NumberRange(1, 60, "От 1 до 60 рабочих дней.")])
    payment_days = IntegerField("Оплата, рабочих дней после подписания акта", default=10, validators=[
        InputRequired("Укажите срок оплаты."), NumberRange(0, 120, "От 0 до 120 рабочих дней.")])
    hours_limit = TextAreaField("Лимит часов / бюджет", validators=[Optional(), Length(max=5000)])
    confidentiality = TextAreaField("Конфиденциальность и доступы", validators=[Optional(), Length(max=20000)])
    term_text = TextAreaField("Срок действия и порядок изменения", validators=[Optional(), Length(max=20000)])
    sla = FieldList(FormField(SlaRowForm), min_entries=0)
    escalation = FieldList(FormField(EscalationRowForm), min_entries=0)
    sections = FieldList(FormField(SectionRowForm), min_entries=0)
    version = VersionField()


class RegulationForm(ClausesForm):
    """Every clause of an edition: the groups' forms take their fields from here."""

    city = StringField("Город подписания", default="г. Москва", validators=[Optional(), Length(max=100)])
    effective_date = DateField("Вступает в силу", validators=[Optional()],
                               description="Пусто — с даты подписания.")
    parties = FieldList(FormField(PartyRowForm), min_entries=0)


@dataclass(frozen=True)
class ClauseGroup:
    """A group of clauses edited together: one card of the editor, one form, one save."""

    key: str
    title: str
    fields: tuple[str, ...]


CLAUSE_GROUPS = (
    ClauseGroup("contact", "Связь и планёрки",
                ("contact_cadence_days", "meeting_weekday", "meeting_time", "meeting_place")),
    ClauseGroup("channels", "Каналы связи и рабочее время", ("channels", "working_hours")),
    ClauseGroup("intake", "Приём задач и согласование стоимости",
                ("intake_procedure", "approval_threshold_hours", "approval_threshold_amount")),
    ClauseGroup("sla", "Приоритеты и сроки (SLA)", ("sla",)),
    ClauseGroup("acceptance", "Приёмка и оплата", ("acceptance_days", "payment_days", "hours_limit")),
    ClauseGroup("escalation", "Эскалация", ("escalation",)),
    ClauseGroup("confidentiality", "Конфиденциальность и срок действия", ("confidentiality", "term_text")),
    ClauseGroup("sections", "Дополнительные разделы", ("sections",)),
)
# An edition's groups: its parties first, then the clauses it shares with the standard.
EDITION_GROUPS = (ClauseGroup("parties", "Стороны и ответственные лица", ("city", "effective_date", "parties")),
                  *CLAUSE_GROUPS)
GROUPS = {group.key: group for group in EDITION_GROUPS}


@cache
def group_form(key: str) -> type[ClauseFormBase]:
    """The form of one group of an edition: its fields (as declared on ``RegulationForm``) and the
    version, so a save writes that group's clauses and nothing else."""
    group = GROUPS[key]
    fields = {name: getattr(RegulationForm, name) for name in group.fields}
    return type(f"{key.title()}GroupForm", (ClauseFormBase,), {**fields, "version": RegulationForm.version})
