"""Our company profile: requisites, signatory, VAT and default rate."""

from webapp.extensions import db
from webapp.models import CompanyProfile
from webapp.services import apply_changes, check_version


def update_company(profile: CompanyProfile, data: dict, version: int | str | None) -> list[str]:
    """Save the profile; the first save creates the single row."""
    if profile.id is None:
        db.session.add(profile)
    else:
        check_version(profile, version)
    changed = apply_changes(profile, data)
    db.session.flush()
    return changed
