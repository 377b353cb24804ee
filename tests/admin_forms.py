"""The administration forms (a user, the company profile) filled as a browser would send them:
shared by the admin, hostile-input and HTML suites."""

from webapp.models import User
from webapp.requisites import make_inn, make_ogrn, with_account_key

BIK = "044525225"
CORR_ACCOUNT = "30101810400000000225"
ACCOUNT = with_account_key(BIK, "4070281000000001234")


def user_form(user: User, **changes) -> dict:
    """The edit form as the page fills it for ``user``, with ``changes`` typed in."""
    data = {"email": user.email, "full_name": user.full_name, "position": user.position,
            "phone": user.phone, "role": user.role.value, "active": user.active,
            "version": str(user.version)}
    data.update(changes)
    if not data.pop("active"):  # an unchecked checkbox is not sent at all
        return data
    return {**data, "active": "y"}


def new_user_form(**changes) -> dict:
    return {"email": "novikova@example.test", "full_name": "Новикова Елена Павловна",
            "position": "Консультант 1С", "phone": "+7 900 000-00-00", "role": "specialist",
            "password": "first-password-1", **changes}


def company_form(**changes) -> dict:
    data = {
        "name": "ООО «Ромашка Софт»", "legal_name": "Общество с ограниченной ответственностью «Ромашка Софт»",
        "inn": make_inn("770708389"), "kpp": "770701001", "ogrn": make_ogrn("102770013219"),
        "address": "г. Москва, ул. Вавилова, д. 19", "phone": "+7 (495) 500-55-50",
        "email": "office@romashka.local", "bank_name": "ПАО Сбербанк", "bik": BIK, "account": ACCOUNT,
        "corr_account": CORR_ACCOUNT, "signatory_name": "Кузнецов Сергей Петрович",
        "signatory_position": "Генеральный директор", "signatory_basis": "Устава",
        "vat_mode": "on_top", "vat_rate": "22", "default_hourly_rate": "3 500,50", "version": "",
        "act_number_format": "{year}-{seq:04d}", "act_number_start": "1", "invoice_qr": "y",
    }
    data.update(changes)
    return data
