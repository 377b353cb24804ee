"""DOCX documents: one function per document, taking plain data and returning bytes.

Importing the package registers every document's sample data, which ``render.check_template``
tries an uploaded template on.
"""

from webapp.documents import regulation, spec  # noqa: F401
