from wtforms import TextAreaField
from wtforms.validators import Length

from webapp.forms import BaseForm, VersionField


class TranscriptForm(BaseForm):
    transcript = TextAreaField("Расшифровка", validators=[Length(max=20000)],
                               description="Что сказано в сообщении: слово в слово или кратко.")
    version = VersionField()

    def values(self) -> dict:
        return {"transcript": self.transcript.data or ""}
