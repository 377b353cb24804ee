from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from webapp.blueprints.clients.forms import optional_id
from webapp.forms import BaseForm, DateField, MoneyField, VersionField, choices


class DraftForm(BaseForm):
    """«Новый акт»: the period, and which done items it bills."""

    period_from = DateField("Период с", validators=[InputRequired("Укажите начало периода.")])
    period_to = DateField("по", validators=[InputRequired("Укажите конец периода.")])
    items = SelectMultipleField("Выполненные задачи", coerce=int, validate_choice=False, validators=[Optional()])

    def set_items(self, items) -> None:
        self.items.choices = choices((i.id, f"{i.key} {i.title}") for i in items)


class LineForm(BaseForm):
    """A line of a draft act, added or edited in place."""

    name = StringField("Работа", validators=[DataRequired("Назовите работу."), Length(max=1000)])
    quantity = MoneyField("Кол-во", validators=[InputRequired("Укажите количество.")])
    unit = StringField("Ед.", default="ч", validators=[DataRequired("Укажите единицу."), Length(max=20)])
    price = MoneyField("Цена, ₽", validators=[InputRequired("Укажите цену.")])
    version = VersionField()

    FIELDS = ("name", "quantity", "unit", "price")

    def values(self) -> dict:
        return {name: getattr(self, name).data for name in self.FIELDS}


class PaymentForm(BaseForm):
    paid_on = DateField("Дата оплаты", validators=[InputRequired("Укажите дату оплаты.")])
    amount = MoneyField("Сумма, ₽", validators=[InputRequired("Укажите сумму.")])
    comment = StringField("Платёжное поручение, комментарий", validators=[Optional(), Length(max=500)])


class ReminderForm(BaseForm):
    """«Напомнить об оплате» by e-mail: to a contact of the client who decides payment."""

    contact_id = SelectField("Кому", coerce=optional_id, validate_choice=False,
                             validators=[InputRequired("Выберите, кому напомнить.")])

    def set_contacts(self, contacts) -> None:
        self.contact_id.choices = choices([("", "— выберите —")] + [(c.id, f"{c.full_name}, {c.email}") for c in contacts])
