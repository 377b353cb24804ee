from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from webapp.blueprints.clients.forms import optional_id
from webapp.forms import BaseForm, DateField, MoneyField, VersionField, choices
from webapp.models import BlockKind, CarryOver
from webapp.services.budgets import MONTH_NAMES

KIND_CHOICES = choices((k.value, k.label) for k in BlockKind)
CARRY_CHOICES = choices((c.value, c.label) for c in CarryOver)
MONTH_CHOICES = choices((n, name.capitalize()) for n, name in enumerate(MONTH_NAMES, start=1))


class NewBlockForm(BaseForm):
    """«Добавить блок»: a money block or an hour package."""

    name = StringField("Название", validators=[DataRequired("Назовите блок."), Length(max=200)])
    kind = SelectField("Вид", choices=KIND_CHOICES, default=BlockKind.MONEY.value)
    planned_amount = MoneyField("План на год, ₽", validators=[Optional()],
                                description="Для пакета часов пусто — часы в месяц × 12 × ставка.")
    hours_per_month = MoneyField("Часов в месяц (пакет)", validators=[Optional()])
    rate = MoneyField("Ставка пакета, ₽/ч", validators=[Optional()], description="Пусто — ставка клиента.")
    carry_over = SelectField("Неизрасходованные часы", choices=CARRY_CHOICES, default=CarryOver.BURN.value)


class BlockForm(BaseForm):
    """A block's row, edited in place."""

    name = StringField("Название", validators=[DataRequired("Назовите блок."), Length(max=200)])
    planned_amount = MoneyField("План, ₽", validators=[InputRequired("Укажите план.")])
    planned_hours = MoneyField("План, ч", validators=[Optional()])
    version = VersionField()

    FIELDS = ("name", "planned_amount", "planned_hours")

    def values(self) -> dict:
        return {name: getattr(self, name).data for name in self.FIELDS}


class MoveForm(BaseForm):
    """Move money of a block's plan between months."""

    source = SelectField("Из месяца", choices=MONTH_CHOICES, coerce=int)
    target = SelectField("В месяц", choices=MONTH_CHOICES, coerce=int)
    amount = MoneyField("Сумма, ₽", validators=[InputRequired("Укажите сумму.")])


class ApproveForm(BaseForm):
    """The client's decision maker approved the budget."""

    contact_id = SelectField("Кто утвердил (ЛПР)", coerce=optional_id, validate_choice=False,
                             validators=[InputRequired("Выберите ЛПР.")])
    approved_on = DateField("Дата утверждения", validators=[InputRequired("Укажите дату.")])

    def set_contacts(self, contacts) -> None:
        self.contact_id.choices = choices([("", "— выберите —")] + [
            (c.id, c.full_name) for c in contacts if c.is_decision_maker])


class NextYearForm(BaseForm):
    growth_percent = MoneyField("Рост, %", validators=[InputRequired("Укажите рост в процентах.")], default=10)


class NewBudgetForm(BaseForm):
    """«Создать бюджет»: the year is the page's; the form carries the CSRF token and the refusal."""
