from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, NumberRange, Optional

from webapp.forms import BaseForm, EmailAddress, MoneyField, Requisite, VersionField, choices
from webapp.models import Role, VatMode
from webapp.models.company import VAT_MODE_LABELS
from webapp.models.users import ROLE_LABELS
from webapp import requisites

ROLE_CHOICES = choices((role.value, ROLE_LABELS[role]) for role in Role)


class UserForm(BaseForm):
    email = EmailField("E-mail (логин)", validators=[DataRequired("Введите e-mail."), Length(max=254),
                                                     EmailAddress()])
    full_name = StringField("ФИО", validators=[DataRequired("Введите ФИО."), Length(max=200)])
    position = StringField("Должность", validators=[Optional(), Length(max=200)],
                           description="Печатается в подписях документов.")
    phone = StringField("Телефон", validators=[Optional(), Length(max=40)])
    role = SelectField("Роль", choices=ROLE_CHOICES, validators=[DataRequired()])
    active = BooleanField("Учётная запись активна", default=True)
    version = VersionField()
    submit = SubmitField("Сохранить")


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
    phone = StringField("Телефон", validators=[Optional(), Length(max=40)])
    email = EmailField("E-mail", validators=[Optional(), Length(max=254), EmailAddress()])
    bank_name = StringField("Банк", validators=[Optional(), Length(max=300)])
    bik = StringField("БИК", validators=[Optional(), Length(max=20), Requisite(requisites.check_bik)])
    account = StringField("Расчётный счёт", validators=[
        Optional(), Length(max=30), Requisite(requisites.check_account, other="bik")])
    corr_account = StringField("Корреспондентский счёт", validators=[
        Optional(), Length(max=30), Requisite(requisites.check_corr_account, other="bik")])
    signatory_name = StringField("ФИО подписанта", validators=[Optional(), Length(max=200)])
    signatory_position = StringField("Должность подписанта", validators=[Optional(), Length(max=200)])
    signatory_basis = StringField("Действует на основании", validators=[Optional(), Length(max=200)],
                                  description="Например: Устава; доверенности № 5 от 10.01.2026.")
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
              "signatory_basis", "vat_mode", "vat_rate", "default_hourly_rate")

    def values(self) -> dict:
        data = {name: getattr(self, name).data for name in self.FIELDS}
        data["vat_mode"] = VatMode(data["vat_mode"])
        return {k: ("" if v is None else v) for k, v in data.items()}


class TemplateUploadForm(BaseForm):
    name = SelectField("Шаблон")
    file = FileField("Файл .docx", validators=[FileRequired("Выберите файл."),
                                              FileAllowed(["docx"], "Нужен файл Word в формате .docx.")])
    submit = SubmitField("Проверить и загрузить")


class DirectoryCheckForm(BaseForm):
    login = StringField("Логин или e-mail в каталоге", validators=[DataRequired("Введите логин или e-mail."),
                                                                  Length(max=254)])
    submit = SubmitField("Проверить пользователя")
