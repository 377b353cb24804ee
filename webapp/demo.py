"""Demo data: a company, one user per role; later areas add theirs here.

Loaded by `flask seed-demo` (and `make run`) into an empty database, through the services, so the
demo has an audit trail like real data.
"""

from decimal import Decimal

from webapp.models import CompanyProfile, Role, VatMode
from webapp.requisites import make_inn, make_ogrn, with_account_key
from webapp.services import company as company_service
from webapp.services import users as user_service

DEMO_PASSWORD = "demo-password"

DEMO_USERS = [
    ("admin@demo.local", "Соколова Ирина Викторовна", "Руководитель клиентского отдела", Role.ADMIN),
    ("manager@demo.local", "Петров Алексей Николаевич", "Аккаунт-менеджер", Role.MANAGER),
    ("manager2@demo.local", "Кузнецова Мария Сергеевна", "Аккаунт-менеджер", Role.MANAGER),
    ("lead@demo.local", "Волков Дмитрий Андреевич", "Руководитель отдела сопровождения", Role.LEAD),
    ("specialist@demo.local", "Смирнов Павел Игоревич", "Консультант 1С", Role.SPECIALIST),
    ("accountant@demo.local", "Орлова Татьяна Михайловна", "Главный бухгалтер", Role.ACCOUNTANT),
]

LOGIN_HINT = (
    "Вход: http://127.0.0.1:5000/login\n"
    + "\n".join(f"  {email:<24} {role.label}" for email, _, _, role in DEMO_USERS)
    + f"\n  пароль у всех: {DEMO_PASSWORD}"
)

OUR_BIK = "044525225"


def seed() -> None:
    seed_company()
    for email, name, position, role in DEMO_USERS:
        user_service.create_user(email=email, full_name=name, role=role, password=DEMO_PASSWORD,
                                 position=position, phone="+7 (495) 123-45-67")


def seed_company() -> None:
    profile = CompanyProfile.get()
    company_service.update_company(profile, {
        "name": "ООО «ИнфоСофт Консалтинг»",
        "legal_name": "Общество с ограниченной ответственностью «ИнфоСофт Консалтинг»",
        "inn": make_inn("771234567"),
        "kpp": "771201001",
        "ogrn": make_ogrn("117774612345"),
        "address": "123112, г. Москва, Пресненская наб., д. 12, офис 405",
        "phone": "+7 (495) 123-45-67",
        "email": "office@infosoft-consulting.ru",
        "bank_name": "ПАО Сбербанк",
        "bik": OUR_BIK,
        "account": with_account_key(OUR_BIK, "4070281038000012345"),
        "corr_account": "30101810400000000225",
        "signatory_name": "Соколов Андрей Петрович",
        "signatory_position": "Генеральный директор",
        "signatory_basis": "Устава",
        "vat_mode": VatMode.ON_TOP,
        "vat_rate": Decimal("22.00"),
        "default_hourly_rate": Decimal("3500.00"),
    }, version=None)
