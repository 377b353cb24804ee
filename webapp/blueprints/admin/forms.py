from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, NumberRange, Optional, ValidationError

from webapp.forms import (BaseForm, DateField, EmailAddress, IntegerField, MoneyField, PhoneField, Requisite,
                          VersionField, choices)
from webapp.models import Role, VatMode
from webapp.documents.regulation import check_number_format
from webapp.models.company import DEFAULT_REGULATION_NUMBER_FORMAT, VAT_MODE_LABELS, SignatoryAuthority
from webapp.models.users import ROLE_LABELS
from webapp import requisites

ROLE_CHOICES = choices((role.value, ROLE_LABELS[role]) for role in Role)


class UserForm(BaseForm):
    email = EmailField("E-mail (логин)", validators=[DataRequired("Введите e-mail."), Length(max=254),
                                                     EmailAddress()])
    full_name = StringField("ФИО", validators=[DataRequired("Введите ФИО."), Length(max=200)])
    position = StringField("Должность", validators=[Optional(), Length(max=200)],
                           description="Печатается в подписях документов.")
    phone = PhoneField("Телефон", validators=[Optional(), Length(max=40)])
    role = SelectField("Роль", choices=ROLE_CHOICES, validators=[DataRequired()])
    active = BooleanField("Учётная запись активна", default=True)
    version = VersionField()
    submit = SubmitField("Сохранить")

    def values(self) -> dict:
        return {"email": self.email.data, "full_name": self.full_name.data, "position": self.position.data or "",
                "phone": self.phone.data or "", "role": Role(self.role.data), "active": self.active.data}


class NewUserForm(UserForm):
    password = PasswordField("Пароль", validators=[DataRequired("Задайте пароль."), Length(max=200)])


class ResetPasswordForm(BaseForm):
    password = PasswordField("Новый пароль", validators=[DataRequired("Задайте пароль."), Length(max=200)])
    confirm = PasswordField("Повторите пароль", validators=[EqualTo("password", "Пароли не совпадают.")])
    submit = SubmitField("Сбросить пароль")


class CompanyForm(BaseForm):
    name = StringField("Краткое наименование", validators=[DataRequired("Введите наименование."),
                                                           Length(max=200)])
    legal_name = StringField("Полное наименование", validators=[Optional(), Length(max=500)])
    inn = StringField("ИНН", validators=[Optional(), Length(max=20), Requisite(requisites.check_inn)])
    kpp = StringField("КПП", validators=[Optional(), Length(max=20), Requisite(requisites.check_kpp)])
    ogrn = StringField("ОГРН", validators=[Optional(), Length(max=20), Requisite(requisites.check_ogrn)])
    address = StringField("Юридический адрес", validators=[Optional(), Length(max=500)])
    phone = PhoneField("Телефон", validators=[Optional(), Length(max=40)])
    email = EmailField("E-mail", validators=[Optional(), Length(max=254), EmailAddress()])
    bank_name = StringField("Банк", validators=[Optional(), Length(max=300)])
    bik = StringField("БИК", validators=[Optional(), Length(max=20), Requisite(requisites.check_bik)])
    account = StringField("Расчётный счёт", validators=[
        Optional(), Length(max=30), Requisite(requisites.check_account, other="bik")])
    corr_account = StringField("Корреспондентский счёт", validators=[
        Optional(), Length(max=30), Requisite(requisites.check_corr_account, other="bik")])
    signatory_name = StringField("ФИО подписанта", validators=[Optional(), Length(max=200)])
    signatory_position = StringField("Должность подписанта", validators=[Optional(), Length(max=200)])
    signatory_position_genitive = StringField(
        "Должность подписанта в родительном падеже", validators=[Optional(), Length(max=200)],
        description="Для «в лице …»: «Генерального директора». Пусто — по правилу из должности.")
    signatory_authority = SelectField("Полномочия подписанта",
                                      choices=choices((a.value, a.label) for a in SignatoryAuthority))
    signatory_basis = StringField("Учредительный документ (род. падеж)", validators=[Optional(), Length(max=200)],
                                  description="Для руководителя: «Устава».")
    signatory_attorney_number = StringField("Доверенность №", validators=[Optional(), Length(max=60)])
    signatory_attorney_date = DateField("Доверенность от", validators=[Optional()], render_kw={"max": "2100-12-31"})
    registered_on = DateField("Дата записи в ЕГРЮЛ / ЕГРИП", validators=[Optional()],
                              render_kw={"max": "2100-12-31"})
    seal_mark = BooleanField("Печатать «М.П.» в подписях документов")
    regulation_number_format = StringField(
        "Номер регламента", default=DEFAULT_REGULATION_NUMBER_FORMAT,
        validators=[DataRequired("Задайте формат номера."), Length(max=60)],
        description="{client} — клиент латиницей, {edition} — редакция, {year} — год, {id} — код клиента.")
    act_number_format = StringField(
        "Номер акта", default="{year}-{seq:04d}", validators=[DataRequired("Задайте формат номера."), Length(max=60)],
        description="{seq} — порядковый номер в году, {year} — год: «{year}-{seq:04d}» → 2026-0007.")
    act_number_start = IntegerField(
        "Первый номер акта в году", default=1,
        validators=[InputRequired("Укажите номер."), NumberRange(1, 10**6, "Номер от 1 до 1 000 000.")],
        description="Чтобы продолжить нумерацию 1С: следующий акт получит этот номер, если он больше последнего.")
    invoice_qr = BooleanField("Печатать QR-код для оплаты в счетах", default=True)
    vat_mode = SelectField("НДС", choices=choices((m.value, VAT_MODE_LABELS[m]) for m in VatMode))
    # «%%»: NumberRange %-formats its message (a bare «%» made every refused rate a 500).
    vat_rate = MoneyField("Ставка НДС, %", validators=[InputRequired("Укажите ставку."),
                                                       NumberRange(0, 99, "Ставка от 0 до 99 %%.")])
    default_hourly_rate = MoneyField("Ставка часа по умолчанию, ₽", validators=[
        InputRequired("Укажите ставку."), NumberRange(0, 10**7, "Ставка от 0 до 10 000 000 ₽.")])
    version = VersionField()
    submit = SubmitField("Сохранить")

    FIELDS = ("name", "legal_name", "inn", "kpp", "ogrn", "address", "phone", "email", "bank_name",
              "bik", "account", "corr_account", "signatory_name", "signatory_position",
              "signatory_position_genitive", "signatory_authority", "signatory_basis",
              "signatory_attorney_number", "signatory_attorney_date", "registered_on", "seal_mark",
              "regulation_number_format", "act_number_format", "act_number_start", "invoice_qr", "vat_mode", "vat_rate", "default_hourly_rate")
    NULLABLE = ("signatory_attorney_date", "registered_on")

    def validate_regulation_number_format(self, field):
        if problem := check_number_format(field.data or ""):
            raise ValidationError(problem)

    def validate_act_number_format(self, field):
        from webapp.services.acts import check_act_number_format

        if problem := check_act_number_format(field.data or ""):
            raise ValidationError(problem)

    def validate_signatory_attorney_number(self, field):
        if self.signatory_authority.data == SignatoryAuthority.ATTORNEY.value and not (field.data or "").strip():
            raise ValidationError("Укажите номер доверенности подписанта.")

    def values(self) -> dict:
        data = {name: getattr(self, name).data for name in self.FIELDS}
        data["vat_mode"] = VatMode(data["vat_mode"])
        data["signatory_authority"] = SignatoryAuthority(data["signatory_authority"] or "charter")
        return {k: ("" if v is None and k not in self.NULLABLE else v) for k, v in data.items()}


class TemplateUploadForm(BaseForm):
    name = SelectField("Шаблон")
    file = FileField("Файл .docx", validators=[FileRequired("Выберите файл."),
                                              FileAllowed(["docx"], "Нужен файл Word в формате .docx.")])
    submit = SubmitField("Проверить и загрузить")


class DirectoryCheckForm(BaseForm):
    login = StringField("Логин или e-mail в каталоге", validators=[DataRequired("Введите логин или e-mail."),
                                                                  Length(max=254)])
    submit = SubmitField("Проверить пользователя")
