from flask_wtf.file import FileField
from wtforms import BooleanField, FieldList, FormField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from webapp.blueprints.clients.forms import optional_id
from webapp.formatting import local
from webapp.forms import BaseForm, DateField, DateTimeLocalField, MoneyField, VersionField, choices
from webapp.models import ApprovalChannel, Billing, IntakeChannel, Priority

PRIORITY_CHOICES = choices((p.value, p.label) for p in Priority)
BILLING_CHOICES = choices((b.value, b.label) for b in Billing)
CHANNEL_CHOICES = choices((c.value, c.label) for c in IntakeChannel)
APPROVAL_CHANNEL_CHOICES = choices((c.value, c.label) for c in ApprovalChannel)


def _people(users, empty: str = "— не назначен —"):
    return choices([("", empty)] + [(u.id, u.full_name) for u in users])


class IntakeForm(BaseForm):
    """«Новая заявка»: who asked, how, when, and the request as it came."""

    requester_id = SelectField("Кто обратился", coerce=optional_id, validators=[Optional()])
    channel = SelectField("Канал", choices=CHANNEL_CHOICES, default=IntakeChannel.MESSAGE.value)
    received_at = DateTimeLocalField("Когда получена", format="%Y-%m-%dT%H:%M", validators=[Optional()],
                                     description="Пусто — сейчас. От этого времени считаются сроки по SLA.")
    title = StringField("О чём задача", validators=[DataRequired("Коротко назовите задачу."), Length(max=300)])
    request_text = TextAreaField("Запрос клиента дословно", validators=[Optional(), Length(max=20000)],
                                 description="Как прислал клиент: текст сообщения, расшифровка голосового.")
    priority = SelectField("Приоритет", choices=PRIORITY_CHOICES, default=Priority.NORMAL.value)
    billing = SelectField("Оплата", choices=BILLING_CHOICES, default=Billing.BILLABLE.value)
    assignee_id = SelectField("Исполнитель", coerce=optional_id, validators=[Optional()])
    eml = FileField("Письмо клиента (.eml)", description="Необязательно. Тема станет названием, текст — запросом, "
                    "дата письма — временем получения; отправитель и вложения — из письма.",
                    render_kw={"accept": ".eml,message/rfc822"})

    def set_choices(self, contacts, users) -> None:
        self.requester_id.choices = choices([("", "— не указан —")] + [(c.id, c.full_name) for c in contacts])
        self.assignee_id.choices = _people(users)

    def values(self) -> dict:
        return {"requester_id": self.requester_id.data, "channel": IntakeChannel(self.channel.data),
                "title": self.title.data, "request_text": self.request_text.data or "",
                "priority": Priority(self.priority.data), "billing": Billing(self.billing.data),
                "assignee_id": self.assignee_id.data}

    def use_email(self, values: dict) -> None:
        """Fill the request from a client's e-mail (``backlog.email_intake``); the sender the mail
        names wins over the chosen contact only when one matched."""
        self.title.data, self.request_text.data = values["title"], values["request_text"]
        self.channel.data = values["channel"].value
        if values["received_at"] is not None:
            self.received_at.data = local(values["received_at"]).replace(tzinfo=None, second=0, microsecond=0)
        if values["requester_id"] is not None:
            self.requester_id.data = values["requester_id"]


class SummaryForm(BaseForm):
    """The item's heading block, edited in place during a visit."""

    title = StringField("Название", validators=[DataRequired("Коротко назовите задачу."), Length(max=300)])
    priority = SelectField("Приоритет", choices=PRIORITY_CHOICES)
    assignee_id = SelectField("Исполнитель", coerce=optional_id, validators=[Optional()])
    due_on = DateField("Срок", validators=[Optional()])
    billing = SelectField("Оплата", choices=BILLING_CHOICES)
    version = VersionField()

    FIELDS = ("title", "priority", "assignee_id", "due_on", "billing")

    def set_choices(self, users, *, can_edit: bool, can_plan: bool) -> None:
        self.assignee_id.choices = _people(users)
        if not can_edit:  # the head of production plans, the content stays the team's
            for name in ("title", "priority", "due_on", "billing"):
                delattr(self, name)
        if not can_plan:
            del self.assignee_id

    def values(self) -> dict:
        data = {name: getattr(self, name).data for name in self.FIELDS if name in self}
        if "priority" in data:
            data["priority"] = Priority(data["priority"])
        if "billing" in data:
            data["billing"] = Billing(data["billing"])
        return data


class BudgetBlockForm(BaseForm):
    """Which block of the client's budget the item is charged to."""

    budget_block_id = SelectField("Блок бюджета", coerce=optional_id, validate_choice=False, validators=[Optional()])
    version = VersionField()

    FIELDS = ("budget_block_id",)

    def set_choices(self, blocks) -> None:
        self.budget_block_id.choices = choices([("", "— не относится к бюджету —")] + [
            (b.id, f"{b.budget.year}: {b.name}") for b in blocks])

    def values(self) -> dict:
        return {"budget_block_id": self.budget_block_id.data}


class SpecForm(BaseForm):
    """The spec (ТЗ), written with the request verbatim beside it."""

    goal = TextAreaField("Цель", validators=[Optional(), Length(max=20000)])
    current_behaviour = TextAreaField("Как сейчас", validators=[Optional(), Length(max=20000)])
    required_behaviour = TextAreaField("Как должно быть", validators=[Optional(), Length(max=20000)])
    acceptance_criteria = TextAreaField("Критерии приёмки", validators=[Optional(), Length(max=20000)])
    version = VersionField()

    FIELDS = ("goal", "current_behaviour", "required_behaviour", "acceptance_criteria")

    def values(self) -> dict:
        return {name: getattr(self, name).data or "" for name in self.FIELDS}


class RequestForm(BaseForm):
    """The request as received: its text, channel, who and when."""

    request_text = TextAreaField("Запрос клиента дословно", validators=[Optional(), Length(max=20000)])
    channel = SelectField("Канал", choices=CHANNEL_CHOICES)
    requester_id = SelectField("Кто обратился", coerce=optional_id, validators=[Optional()])
    version = VersionField()

    FIELDS = ("request_text", "channel", "requester_id")

    def set_choices(self, contacts) -> None:
        self.requester_id.choices = choices([("", "— не указан —")] + [(c.id, c.full_name) for c in contacts])

    def values(self) -> dict:
        return {"request_text": self.request_text.data or "", "channel": IntakeChannel(self.channel.data),
                "requester_id": self.requester_id.data}


class EstimateLineForm(BaseForm):
    """One line of the internal breakdown of an estimate (no CSRF of its own)."""

    class Meta:
        csrf = False

    title = StringField("Работа", validators=[Optional(), Length(max=300)])
    hours = MoneyField("Часы", validators=[Optional()])

    def is_blank(self) -> bool:
        return not (self.title.data or "").strip() and self.hours.data is None

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.is_blank():
            return valid
        if not (self.title.data or "").strip():
            self.title.errors = [*self.title.errors, "Назовите работу."]
            valid = False
        if self.hours.data is None and not self.hours.errors:
            self.hours.errors = [*self.hours.errors, "Укажите часы."]
            valid = False
        return valid


ESTIMATE_LINE_ROWS = 5


class EstimateForm(BaseForm):
    """A new version of the estimate: hours, or hours by lines (their sum), the rate, a note. The
    lines and the note are ours: they never reach what the client receives."""

    hours = MoneyField("Часы", validators=[Optional()],
                       description="Или разбейте по работам ниже: тогда часы — их сумма.")
    rate = MoneyField("Ставка, ₽/ч", validators=[Optional()], description="Пусто — ставка клиента или компании.")
    lines = FieldList(FormField(EstimateLineForm), label="Состав работ", min_entries=ESTIMATE_LINE_ROWS,
                      max_entries=30)
    note = TextAreaField("Внутренняя заметка", validators=[Optional(), Length(max=5000)],
                         description="Только для нас: клиент её не увидит.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for n, entry in enumerate(self.lines, start=1):  # a label per row for screen readers
            entry.form.title.label.text, entry.form.hours.label.text = f"Работа {n}", f"Часы, строка {n}"

    def line_values(self) -> list[dict]:
        return [{"title": entry.form.title.data.strip(), "hours": entry.form.hours.data}
                for entry in self.lines if not entry.form.is_blank()]


class ApprovalForm(BaseForm):
    # The service says why a contact may not approve (not this client's, not deciding cost).
    contact_id = SelectField("Кто согласовал (ЛПР)", coerce=optional_id, validate_choice=False,
                             validators=[InputRequired("Выберите ЛПР.")])
    channel = SelectField("Как", choices=APPROVAL_CHANNEL_CHOICES, default=ApprovalChannel.EMAIL.value)
    approved_at = DateTimeLocalField("Когда", format="%Y-%m-%dT%H:%M", validators=[Optional()],
                                     description="Пусто — сейчас.")
    comment = StringField("Комментарий", validators=[Optional(), Length(max=1000)])
    confirm_overrun = BooleanField("Согласовать сверх плана бюджета")

    def set_contacts(self, contacts) -> None:
        self.contact_id.choices = choices(
            [("", "— выберите —")] + [(c.id, c.full_name + (", " + c.position if c.position else ""))
                                      for c in contacts if c.is_decision_maker and c.decides_cost])


class ApprovalLinkForm(BaseForm):
    """«Отправить на согласование по ссылке»: to which decision maker (on cost, with an e-mail)."""

    contact_id = SelectField("Кому (ЛПР)", coerce=optional_id, validate_choice=False,
                             validators=[InputRequired("Выберите ЛПР.")])

    def set_contacts(self, contacts) -> None:
        self.contact_id.choices = choices([("", "— выберите —")]
                                          + [(c.id, f"{c.full_name}, {c.email}") for c in contacts])


class StageForm(BaseForm):
    name = StringField("Этап", validators=[DataRequired("Назовите этап."), Length(max=200)])
    due_on = DateField("Срок", validators=[Optional()])
    version = VersionField()

    FIELDS = ("name", "due_on")

    def values(self) -> dict:
        return {"name": self.name.data, "due_on": self.due_on.data}


class NewStageForm(BaseForm):
    name = StringField("Новый этап", validators=[DataRequired("Назовите этап."), Length(max=200)])
    due_on = DateField("Срок", validators=[Optional()])


class TimeForm(BaseForm):
    spent_on = DateField("Дата", validators=[InputRequired("Укажите дату.")])
    hours = MoneyField("Часы", validators=[InputRequired("Укажите часы.")])
    comment = StringField("Что сделано", validators=[Optional(), Length(max=1000)])
    billable = BooleanField("Оплачивается", default=True)


class PrioritiesForm(BaseForm):
    contact_id = SelectField("Кто согласовал", coerce=optional_id, validators=[InputRequired("Выберите контакт.")])
    comment = StringField("Комментарий", validators=[Optional(), Length(max=1000)])
    confirm_overrun = BooleanField("Согласовать сверх плана бюджета")

    def set_contacts(self, contacts) -> None:
        self.contact_id.choices = choices([("", "— выберите —")] + [(c.id, c.full_name) for c in contacts])
