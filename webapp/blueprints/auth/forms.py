from wtforms import EmailField, PasswordField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from webapp.forms import BaseForm


class LoginForm(BaseForm):
    email = EmailField("E-mail", validators=[DataRequired("Введите e-mail."), Length(max=254)])
    password = PasswordField("Пароль", validators=[DataRequired("Введите пароль."), Length(max=200)])
    submit = SubmitField("Войти")


class ChangePasswordForm(BaseForm):
    current_password = PasswordField("Текущий пароль", validators=[DataRequired("Введите текущий пароль."),
                                                                  Length(max=200)])
    password = PasswordField("Новый пароль", validators=[DataRequired("Введите новый пароль."),
                                                         Length(max=200)])
    confirm = PasswordField("Повторите новый пароль",
                            validators=[EqualTo("password", "Пароли не совпадают.")])
    submit = SubmitField("Сменить пароль")
