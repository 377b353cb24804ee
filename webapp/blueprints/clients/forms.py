import re

from flask import request
from wtforms import (BooleanField, EmailField, HiddenField, RadioField, SelectField, SelectMultipleField,
                     StringField, SubmitField, TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from webapp import requisites
from webapp.forms import (BaseForm, DateField, DateTimeLocalField, EmailAddress, IntegerField, MoneyField,
                          PhoneField, Requisite, VersionField, choices)
from webapp.models import Channel, ClientStatus
from webapp.models.company import SignatoryAuthority
from webapp.services import as_id

STATUS_CHOICES = choices((s.value, s.label) for s in ClientStatus)
AUTHORITY_CHOICES = choices((a.value, a.label) for a in SignatoryAuthority)
CHANNEL_CHOICES = choices((c.value, c.label) for c in Channel)


def optional_id(value):
    """Select value → user id or None (the empty option)."""
    return int(value) if value not in (None, "", "None") else None


class RequisitesForm(BaseForm):
    """The client's legal requisites and who signs documents for it (one inline block of the card).

    The signatory is chosen among the client's decision makers (``obj`` is the client being edited).
    """

    legal_name = StringField("Полное наименование", validators=[Optional(), Length(max=500)],
                             description="С организационно-правовой формой: «Общество с ограниченной "
                                         "ответственностью «Ромашка»», «Индивидуальный предприниматель …».")
    inn = StringField("ИНН", validators=[Optional(), Length(max=20), Requisite(requisites.check_inn)])
    kpp = StringField("КПП", validators=[Optional(), Length(max=20), Requisite(requisites.check_kpp)])
    ogrn = StringField("ОГРН", validators=[Optional(), Length(max=20), Requisite(requisites.check_ogrn)])
    address = StringField("Юридический адрес", validators=[Optional(), Length(max=500)])
    phone = StringField("Телефон", validators=[Optional(), Length(max=40)])
    email = EmailField("E-mail", validators=[Optional(), Length(max=254), EmailAddress()])
    registered_on = DateField("Дата записи в ЕГРЮЛ / ЕГРИП", validators=[Optional()],
                              render_kw={"max": "2100-12-31"},
                              description="Для ИП печатается в преамбуле рядом с ОГРНИП.")
    bank_name = StringField("Банк", validators=[Optional(), Length(max=300)])
    bik = StringField("БИК", validators=[Optional(), Length(max=20), Requisite(requisites.check_bik)])
    account = StringField("Расчётный счёт", validators=[
        Optional(), Length(max=30), Requisite(requisites.check_account, other="bik")])
    corr_account = StringField("Корр. счёт", validators=[
        Optional(), Length(max=30), Requisite(requisites.check_corr_account, other="bik")])
    signatory_contact_id = SelectField("Подписывает документы", coerce=optional_id, validate_choice=True,
                                       choices=choices([("", "— не выбран —")]))
    signatory_position_genitive = StringField(
        "Должность подписанта в родительном падеже", validators=[Optional(), Length(max=200)],
        description="Для «в лице …»: «Генерального директора». Пусто — по правилу из должности.")
    signatory_authority = SelectField("Действует на основании", choices=AUTHORITY_CHOICES,
                                      default=SignatoryAuthority.CHARTER.value)
    signatory_attorney_number = StringField("Доверенность №", validators=[Optional(), Length(max=60)])
    signatory_attorney_date = DateField("Доверенность от", validators=[Optional()],
                                        render_kw={"max": "2100-12-31"})
    regulation_appendix = StringField("Регламент — приложение № к договору",
                                      validators=[Optional(), Length(max=20)])
    version = VersionField()

    FIELDS = ("legal_name", "inn", "kpp", "ogrn", "address", "phone", "email", "registered_on", "bank_name",
              "bik", "account", "corr_account", "signatory_contact_id", "signatory_position_genitive",
              "signatory_authority", "signatory_attorney_number", "signatory_attorney_date",
              "regulation_appendix")
    NULLABLE = ("registered_on", "signatory_contact_id", "signatory_attorney_date")

    def __init__(self, *args, obj=None, **kwargs):
        super().__init__(*args, obj=obj, **kwargs)
        if obj is not None and "signatory_contact_id" in self:
            makers = [c for c in obj.contacts if c.is_decision_maker or c.id == obj.signatory_contact_id]
            self.signatory_contact_id.choices = choices(
                [("", "— не выбран —")] + [(c.id, f"{c.full_name}, {c.position}" if c.position else c.full_name)
                                           for c in makers])

    def validate_signatory_attorney_number(self, field):
        if (self.signatory_authority.data == SignatoryAuthority.ATTORNEY.value and self.signatory_contact_id.data
                and not (field.data or "").strip()):
            raise ValidationError("Укажите номер доверенности подписанта.")

    def values(self) -> dict:
        data = {name: getattr(self, name).data for name in RequisitesForm.FIELDS if name in self}
        data = {k: (v if k in RequisitesForm.NULLABLE else v or "") for k, v in data.items()}
        if "signatory_authority" in data:
            data["signatory_authority"] = SignatoryAuthority(data["signatory_authority"])
        return data


class TermsForm(BaseForm):
    """How we work with the client: contract, team, status, rate, cadence (one inline block)."""

    short_name = StringField("Название", validators=[DataRequired("Введите название клиента."),
                                                     Length(max=200)])
    status = SelectField("Статус", choices=STATUS_CHOICES, default=ClientStatus.ACTIVE.value)
    contract_number = StringField("Номер договора", validators=[Optional(), Length(max=60)])
    contract_date = DateField("Дата договора", validators=[Optional()])
    manager_id = SelectField("Аккаунт-менеджер", coerce=optional_id, validate_choice=True)
    deputy_id = SelectField("Заместитель", coerce=optional_id, validate_choice=True)
    hourly_rate = MoneyField("Ставка часа, ₽", validators=[Optional(), NumberRange(0, 10**7, "Ставка от 0 до 10 000 000 ₽.")],
                             description="Пусто — ставка компании по умолчанию.")
    contact_cadence_days = IntegerField("Связываться каждые, рабочих дней", default=3, validators=[
        InputRequired("Укажите, как часто связываться."), NumberRange(1, 30, "От 1 до 30 рабочих дней.")])
    notes = TextAreaField("Заметки", validators=[Optional(), Length(max=5000)])
    version = VersionField()

    FIELDS = ("short_name", "status", "contract_number", "contract_date", "manager_id", "deputy_id",
              "hourly_rate", "contact_cadence_days", "notes")

    def set_team_choices(self, managers, *, can_reassign: bool) -> None:
        self.manager_id.choices = choices((u.id, u.full_name) for u in managers)
        self.deputy_id.choices = choices([("", "— нет —")] + [(u.id, u.full_name) for u in managers])
        if not can_reassign:
            del self.manager_id

    def values(self) -> dict:
        data = {name: getattr(self, name).data for name in TermsForm.FIELDS if name in self}
        if "manager_id" not in self and "manager_id" in request.form:
            # Not offered to this user, yet sent: the service refuses it (403) rather than it being dropped.
            data["manager_id"] = as_id(request.form["manager_id"])
        data["status"] = ClientStatus(data["status"])
        for key in ("contract_number", "notes"):
            data[key] = data[key] or ""
        return data


class ClientForm(TermsForm, RequisitesForm):
    """A new client: the terms and the requisites at once (the signatory once it has contacts)."""

    signatory_contact_id = None
    signatory_position_genitive = None
    signatory_authority = None
    signatory_attorney_number = None
    signatory_attorney_date = None
    submit = SubmitField("Добавить клиента")

    def values(self) -> dict:
        return {**RequisitesForm.values(self), **TermsForm.values(self)}


class ContactForm(BaseForm):
    full_name = StringField("ФИО", validators=[DataRequired("Введите ФИО."), Length(max=200)])
    position = StringField("Должность", validators=[Optional(), Length(max=200)])
    phone = PhoneField("Телефон", validators=[Optional(), Length(max=40)])
    email = EmailField("E-mail", validators=[Optional(), Length(max=254), EmailAddress()])
    messenger = StringField("Мессенджер", validators=[Optional(), Length(max=100)],
                            description="Telegram, WhatsApp… с ником или номером.")
    is_decision_maker = BooleanField("ЛПР (принимает решения)")
    decides_scope = BooleanField("объём работ")
    decides_cost = BooleanField("стоимость")
    decides_payment = BooleanField("оплату")
    decides_acceptance = BooleanField("приёмку")
    notes = TextAreaField("Заметки", validators=[Optional(), Length(max=2000)])
    version = VersionField()

    FIELDS = ("full_name", "position", "phone", "email", "messenger", "is_decision_maker",
              "decides_scope", "decides_cost", "decides_payment", "decides_acceptance", "notes")
    DECIDES = ("decides_scope", "decides_cost", "decides_payment", "decides_acceptance")

    def validate_is_decision_maker(self, field):
        """What someone decides means nothing unless they are a decision maker: say so, don't drop it."""
        if not field.data and any(getattr(self, name).data for name in self.DECIDES):
            raise ValidationError("Отмечено, что контакт решает, но не отмечено «ЛПР»: отметьте «ЛПР» "
                                  "или снимите отметки «Решает».")

    def validate_phone(self, field):
        """A Russian number written with +7 or «8 (…» first has 11 digits; a digit more or less is a
        typo («812…» without a separator is a city code, not the trunk prefix)."""
        if any(ch.isnumeric() and not ch.isascii() for ch in field.data or ""):
            return  # PhoneField refuses other number signs with a message of its own
        number = re.split(r"доб|\bext|#", (field.data or "").lower())[0]
        digits = re.sub(r"\D", "", number, flags=re.ASCII)
        if re.match(r"\+\s*7|8[\s(\-]", number.strip()) and len(digits) != 11:
            raise ValidationError(f"В российском номере 11 цифр, здесь {len(digits)}: проверьте номер, "
                                  "например +7 (912) 345-67-89.")

    def values(self) -> dict:
        return {name: getattr(self, name).data if getattr(self, name).data is not None else ""
                for name in self.FIELDS}


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class TouchpointForm(BaseForm):
    """The quick contact log: a few seconds from the card or the dashboard. The summary comes first
    (it is where the focus lands); the channel is one radio group, preset by the route."""

    summary = TextAreaField("О чём поговорили", validators=[
        DataRequired("Коротко запишите, о чём поговорили."), Length(max=5000)])
    channel = RadioField("Канал", choices=CHANNEL_CHOICES, default=Channel.CALL.value,
                         validators=[InputRequired("Выберите канал.")])
    occurred_at = DateTimeLocalField("Когда", format="%Y-%m-%dT%H:%M", validators=[Optional()],
                                     description="Пусто — сейчас.")
    contact_ids = MultiCheckboxField("С кем", coerce=int, validate_choice=True)
    next_step = StringField("Следующий шаг", validators=[Optional(), Length(max=500)])
    next_contact_on = DateField("Следующий контакт", validators=[Optional()],
                                description="Если договорились на конкретную дату.")
    submit = SubmitField("Записать контакт")

    def set_contacts(self, contacts) -> None:
        self.contact_ids.choices = choices((c.id, c.full_name + (" (ЛПР)" if c.is_decision_maker else ""))
                                           for c in contacts)


class HandoverForm(BaseForm):
    from_user = SelectField("От кого", coerce=optional_id, validators=[InputRequired("Выберите менеджера.")])
    to_user = SelectField("Кому", coerce=optional_id, validators=[InputRequired("Выберите менеджера.")])
    as_deputy = BooleanField("Передать и роли заместителя", default=False)
    clients = HiddenField()  # handing back: only the clients of the handover being undone
    submit = SubmitField("Передать клиентов")

    def client_ids(self) -> list[int] | None:
        """The clients this handover is limited to, if any («1,2,3»)."""
        if not self.clients.data:
            return None
        return [int(i) for i in self.clients.data.split(",") if i.strip().isdigit()]
