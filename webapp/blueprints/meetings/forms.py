from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from webapp.blueprints.clients.forms import optional_id
from webapp.forms import BaseForm, DateField, DateTimeLocalField, IntegerField, VersionField, choices
from webapp.models import MeetingKind

KIND_CHOICES = choices((k.value, k.label) for k in MeetingKind)


def person_choices(contacts, users, empty: str = "— выберите —"):
    """One select for a person on either side: «c:12» is a client's contact, «u:3» one of us."""
    return choices([("", empty)] + [(f"c:{c.id}", f"{c.full_name} (клиент)") for c in contacts]
                   + [(f"u:{u.id}", u.full_name) for u in users])


def person_ids(value: str | None) -> tuple[int | None, int | None]:
    """«c:12» → (12, None); «u:3» → (None, 3); anything else → (None, None)."""
    kind, _, ident = (value or "").partition(":")
    if not ident.isascii() or not ident.isdigit() or len(ident) > 9:
        return None, None
    return (int(ident), None) if kind == "c" else (None, int(ident)) if kind == "u" else (None, None)


class PlanForm(BaseForm):
    """«Запланировать встречу»: empty time — the regulation's next weekly slot."""

    starts_at = DateTimeLocalField("Дата и время", format="%Y-%m-%dT%H:%M", validators=[Optional()],
                                   description="Пусто — следующая планёрка по регламенту.")
    place = StringField("Место", validators=[Optional(), Length(max=300)],
                        description="Пусто — место из регламента.")
    kind = SelectField("Вид", choices=KIND_CHOICES, default=MeetingKind.WEEKLY.value,
                       validators=[InputRequired("Выберите вид встречи.")])


class RescheduleForm(BaseForm):
    """«Перенести»: time, place and length of a planned meeting."""

    FIELDS = ("starts_at", "place", "duration_minutes")
    starts_at = DateTimeLocalField("Дата и время", format="%Y-%m-%dT%H:%M",
                                   validators=[InputRequired("Укажите дату и время.")])
    place = StringField("Место", validators=[Optional(), Length(max=300)])
    duration_minutes = IntegerField("Длительность, мин", validators=[InputRequired("Укажите длительность.")])
    version = VersionField()

    def values(self) -> dict:
        from webapp.formatting import from_local
        return {"starts_at": from_local(self.starts_at.data) if self.starts_at.data else None,
                "place": (self.place.data or "").strip(), "duration_minutes": self.duration_minutes.data}


class PointForm(BaseForm):
    title = StringField("Вопрос", validators=[DataRequired("Сформулируйте вопрос."), Length(max=500)])
    backlog_item_id = SelectField("Задача бэклога", coerce=optional_id, validate_choice=False,
                                  validators=[Optional()])


class ActionForm(BaseForm):
    what = TextAreaField("Поручение", validators=[DataRequired("Что нужно сделать?"), Length(max=5000)])
    who = SelectField("Ответственный", validate_choice=False, validators=[Optional()])
    due_on = DateField("Срок", validators=[Optional()])


class AttendeeForm(BaseForm):
    person = SelectField("Кого добавить", validate_choice=False, validators=[InputRequired("Выберите, кого добавить.")])


class ApproveForm(BaseForm):
    item_id = SelectField("Оценка", coerce=optional_id, validate_choice=False,
                          validators=[InputRequired("Выберите задачу.")])
    contact_id = SelectField("Согласовал (присутствующий ЛПР)", coerce=optional_id, validate_choice=False,
                             validators=[InputRequired("Выберите ЛПР.")])


class PrioritiesForm(BaseForm):
    contact_id = SelectField("Согласовал", coerce=optional_id, validate_choice=False,
                             validators=[InputRequired("Выберите, кто согласовал порядок.")])


class SendMinutesForm(BaseForm):
    recipients = TextAreaField("Кому", validators=[DataRequired("Укажите адреса."), Length(max=5000)],
                               description="Адреса через запятую или с новой строки.")

    def addresses(self) -> list[str]:
        text = (self.recipients.data or "").replace(";", ",").replace("\n", ",")
        return [a.strip() for a in text.split(",") if a.strip()]


class ConfirmationForm(BaseForm):
    contact_id = SelectField("Кому (ЛПР клиента)", coerce=optional_id, validate_choice=False,
                             validators=[InputRequired("Выберите ЛПР.")])
