"""Automated screening of a valid application against the sellers already on file.

Pure Python. :func:`screen_application` lists :class:`Finding` s for the operator:
duplicates of other sellers (informative) and missing documents for restricted categories
(which block approval).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from bazaar.sellers.application import Application, ApplicationRecord
from bazaar.sellers.iban import iban_fingerprint

# Free mailbox providers: two sellers with @gmail.com addresses are not thereby related.
_WEBMAIL = """
    gmail.com googlemail.com outlook.com hotmail.com hotmail.co.uk hotmail.fr hotmail.de
    hotmail.it hotmail.es hotmail.nl live.com live.nl live.fr live.de msn.com yahoo.com
    yahoo.co.uk yahoo.fr yahoo.de yahoo.it yahoo.es ymail.com icloud.com me.com mac.com
    aol.com proton.me protonmail.com pm.me mail.com gmx.com gmx.net gmx.de gmx.at web.de
    t-online.de freenet.de orange.fr wanadoo.fr free.fr laposte.net sfr.fr libero.it
    virgilio.it tiscali.it zoho.com yandex.com yandex.ru mail.ru seznam.cz wp.pl o2.pl
    onet.pl interia.pl ziggo.nl kpnmail.nl telenet.be skynet.be tutanota.com fastmail.com
"""
WEBMAIL_DOMAINS: frozenset[str] = frozenset(_WEBMAIL.split())


class FindingCode(StrEnum):
    DUPLICATE_VAT_NUMBER = "duplicate_vat_number"
    DUPLICATE_PAYOUT_ACCOUNT = "duplicate_payout_account"
    DUPLICATE_EMAIL_DOMAIN = "duplicate_email_domain"
    DOCUMENTS_MISSING = "documents_missing"


@dataclass(frozen=True)
class Finding:
    """Something the operator should see before deciding. ``seller_ids`` are the other
    sellers involved; a finding that ``blocks_approval`` must be resolved first."""

    code: FindingCode
    field: str
    message: str
    seller_ids: tuple[str, ...] = ()
    blocks_approval: bool = False


_DUPLICATE_LABELS = {
    FindingCode.DUPLICATE_VAT_NUMBER: ("vat_number", "VAT number"),
    FindingCode.DUPLICATE_PAYOUT_ACCOUNT: ("payout_iban", "payout account"),
    FindingCode.DUPLICATE_EMAIL_DOMAIN: ("email", "email domain"),
}


@dataclass(frozen=True)
class KnownSeller:
    """A seller or pending application already on file, as screening compares it, in
    normalised form: compact VAT number (``str(VatNumber)``), :func:`iban_fingerprint`
    under the same key, lower-case email domain."""

    seller_id: str
    vat_number: str | None = None
    iban_fingerprint: str | None = None
    email_domain: str | None = None

    def duplicate_keys(self) -> dict[FindingCode, str | None]:
        return {
            FindingCode.DUPLICATE_VAT_NUMBER: self.vat_number,
            FindingCode.DUPLICATE_PAYOUT_ACCOUNT: self.iban_fingerprint,
            FindingCode.DUPLICATE_EMAIL_DOMAIN: self.email_domain,
        }


def _fingerprint(app: Application, key: bytes) -> str:
    if isinstance(app, ApplicationRecord):
        return app.payout_account.fingerprint  # computed under the same key when filed
    return iban_fingerprint(app.payout_iban, key)


def screen_application(
    app: Application,
    existing: Iterable[KnownSeller],
    *,
    restricted_categories: Mapping[str, Collection[str]],
    documents: Collection[str],
    iban_key: bytes,
    applicant_id: str | None = None,
    webmail_domains: Collection[str] = WEBMAIL_DOMAINS,
) -> list[Finding]:
    """The automated checks on a valid application, in a fixed order.

    * another seller with the same VAT number, payout account (compared by
      :func:`iban_fingerprint` under ``iban_key``) or email domain - free webmail domains
      excepted - is reported with the other sellers' ids; these inform the operator and
      do not block approval;
    * each applied-for category in ``restricted_categories`` needs every document kind
      listed for it among ``documents``; a missing one blocks approval.

    ``app`` is an application as submitted or as kept on file (its fingerprint then taken
    as stored). ``applicant_id`` (a resubmitted application's own seller id) is never its own
    duplicate.
    """
    others = [s for s in existing if s.seller_id != applicant_id]
    domain = app.email_domain
    webmail = {d.lower() for d in webmail_domains}
    mine = KnownSeller(
        seller_id="",
        vat_number=str(app.vat_number) if app.vat_number else None,
        iban_fingerprint=_fingerprint(app, iban_key),
        email_domain=None if domain in webmail else domain,
    )
    findings: list[Finding] = []
    for code, key in mine.duplicate_keys().items():
        ids = tuple(sorted(s.seller_id for s in others if key and s.duplicate_keys()[code] == key))
        if ids:
            field, label = _DUPLICATE_LABELS[code]
            message = f"Another seller has the same {label}: {', '.join(ids)}"
            findings.append(Finding(code, field, message, ids))
    provided = set(documents)
    for i, category in enumerate(app.categories):
        missing = sorted(set(restricted_categories.get(category, ())) - provided)
        if missing:
            message = f"Category {category} is restricted: provide {', '.join(missing)}"
            code = FindingCode.DOCUMENTS_MISSING
            findings.append(Finding(code, f"categories[{i}]", message, blocks_approval=True))
    return findings
