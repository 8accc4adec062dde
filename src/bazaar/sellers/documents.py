"""Documents an applicant provides for restricted categories: a kind and where to find it.

Pure Python. Bazaar keeps a reference (an ``https`` URL of the document in the applicant's
or a verification provider's storage), not the file; the operator opens it when reviewing.
Each kind is given at most once; giving it again replaces it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from bazaar.kernel.errors import FieldError

MAX_DOCUMENTS = 20
MAX_REFERENCE = 500
_KIND = re.compile(r"[a-z][a-z0-9_]{1,59}")


@dataclass(frozen=True)
class SellerDocument:
    """``kind`` names what the document proves (``alcohol_licence``); ``reference`` is its
    ``https`` URL."""

    kind: str
    reference: str


def _check_reference(reference: str, field: str) -> list[FieldError]:
    if not reference:
        return [FieldError(field, "Must not be blank", "required")]
    if len(reference) > MAX_REFERENCE:
        return [FieldError(field, f"At most {MAX_REFERENCE} characters", "too_long")]
    parts = urlsplit(reference)
    if parts.scheme != "https" or not parts.hostname or any(c.isspace() for c in reference):
        return [FieldError(field, "An https URL of the document", "invalid_url")]
    return []


def check_documents(documents: Sequence[SellerDocument]) -> list[FieldError]:
    """Every problem with the documents, on ``documents[i].kind`` / ``documents[i].reference``:
    kinds are lower-case words (``[a-z][a-z0-9_]``, 2 to 60 characters), each given once;
    references are ``https`` URLs of at most 500 characters."""
    if len(documents) > MAX_DOCUMENTS:
        return [FieldError("documents", f"At most {MAX_DOCUMENTS}", "too_many")]
    errors: list[FieldError] = []
    seen: set[str] = set()
    for i, document in enumerate(documents):
        at = f"documents[{i}]"
        if not _KIND.fullmatch(document.kind):
            errors.append(FieldError(f"{at}.kind", "Lower-case letters, digits and _", "invalid"))
        elif document.kind in seen:
            errors.append(FieldError(f"{at}.kind", "Given twice", "duplicate"))
        seen.add(document.kind)
        errors += _check_reference(document.reference.strip(), f"{at}.reference")
    return errors
