"""Our company profile: requisites, signatory, VAT and default rate."""

from webapp import saving
from webapp.extensions import db
from webapp.models import CompanyProfile
from webapp.saving import Edit


def update_company(profile: CompanyProfile, edit: Edit) -> list[str]:
    """Save the profile; the first save creates the single row."""
    if profile.id is None:
        db.session.add(profile)
        changed = saving.write(profile, edit.values)
    else:
        changed = saving.apply_edit(profile, edit, edit.values)
    db.session.flush()
    return changed
