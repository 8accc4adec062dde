"""VAT numbers of the EU-27 and the UK, and company registration numbers.

The valid numbers below are real, published VAT numbers of companies (as printed on their
invoices and web sites, and collected in python-stdnum's test suite), in the spellings
people type them. Where a test needs a number built to order, the check digit is worked
out in the test, with the arithmetic spelled out.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bazaar.kernel.errors import ValidationFailed
from bazaar.sellers.check_digits import luhn_is_valid
from bazaar.sellers.company_numbers import (
    CompanyNumber,
    check_company_number,
    parse_company_number,
)
from bazaar.sellers.tax_ids import (
    VAT_COUNTRIES,
    VatNumber,
    check_vat_number,
    normalize_vat_number,
    parse_vat_number,
)

PUBLISHED_VALID = {
    "AT": ["ATU13585627", "ATU 142 43 102", "ATU 46276408", "ATU61195628"],
    "BE": ["BE 0202.239.951", "BE 0402 918 402", "BE0428759497", "BE 444.503.092"],
    "BG": ["BG 175074752", "BG 124 551 319", "BG130544585", "BG7111042925"],
    "CY": ["CY-10259033P", "CY 10263870R", "CY-10008489 A", "CY00632993 F"],
    "CZ": ["CZ 25123891", "CZ 61467839", "CZ 640903926", "CZ6011270177"],
    "DE": ["DE 118619592", "DE 811 363 057", "DE136308783", "DE 221.304.969"],
    "DK": ["DK 13 31 04 59", "DK 2566 2202", "DK-27630308", "DK: 21599336"],
    "EE": ["EE 100 931 558", "EE 100523487", "EE101256753"],
    "EL": ["EL 094012834", "EL 998386804", "EL: 094279805", "El 800 179 925"],
    "ES": [
        "ES A-28184661",  # CIF, numeric check digit
        "ES Q-2818015-F",  # CIF, letter check digit
        "ES 54362315K",  # DNI
        "ES X5277343Q",  # NIE
        "ESA78109592",
    ],
    "FI": ["FI 20774740", "FI 0982651-1", "FI-214 95 540", "FI18261444"],
    "FR": ["Fr 40 303 265 045", "FR 13 393 892 815", "fr 71383076817", "FR K 7399859412"],
    "HR": ["HR33392005961"],
    "HU": ["HU 10672101", "HU-12892312", "HU11377304"],
    "IE": ["IE 6433435F", "IE 632 3420 C", "IE6433435IH", "IE8D79739I", "IE 9502346O"],
    "IT": ["IT00743110157", "IT 00 595 000 217", "IT - 01404480202", "IT: 02331250163"],
    "LT": ["LT 119511515", "LT 100001354118", "LT100004801610"],
    "LU": ["LU 150 274 42", "LU 10059929", "LU.248.70.640"],
    "LV": ["LV 4000 3521 600", "LV 40003189718", "LV-42103048183"],
    "MT": ["MT 1167-9112", "MT 20630321"],
    "NL": ["NL 001241 643 B01", "NL-8197.38.116.B.01", "NL4495445B01", "NL002455799B11"],
    "PL": ["PL 5211355116", "PL 584-030-44-72", "PL-951-157-77-68"],
    "PT": ["PT 501 964 843", "PT 500135.495", "PT-505 856 468"],
    "RO": ["RO 185 472 90", "RO 1822964", "RO 573768", "Ro 15071875"],
    "SE": ["SE 556.383.740.901", "SE-5562245190-01", "Se 556250398601"],
    "SI": ["SI 50223054", "SI-89036999"],
    "SK": ["SK 202 274 96 19", "SK2022193459"],
    "GB": ["GB 980780684", "GB 002 4257 28", "GB 242338087388", "GBGD100", "GBHA501"],
}

# The same published numbers with one digit changed.
MANGLED = [
    "ATU 143 43 102",
    "BE 0406.139.583",
    "BG 131 172 009",
    "CY 10246672F",
    "CZ 25557481",
    "DE 125014855",
    "DK-27996592",
    "EE101256754",
    "EL 094013834",
    "ES 54362415K",
    "ES-x-2322300w",
    "FR 04409414264",
    "FR K 7399859312",
    "IE 4731823H",
    "IE8D79729I",
    "IT 00687129980",
    "LV 40003189715",
    "NL123456789B90",
    "SK 1078449164",
    "GB802311781",
]


EU27 = """
    AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK
"""


def test_every_eu_member_and_the_uk_has_a_rule() -> None:
    assert {*EU27.split(), "GB"} == VAT_COUNTRIES


@pytest.mark.parametrize(
    ("country", "number"), [(c, n) for c, numbers in PUBLISHED_VALID.items() for n in numbers]
)
def test_published_numbers_are_valid(country: str, number: str) -> None:
    # Given a real VAT number as people write it
    # When it is parsed for its own country
    iso = "GR" if country == "EL" else country
    vat = parse_vat_number(number, iso)
    # Then it is accepted, in compact form
    assert vat.country == iso
    assert vat.prefix == country
    assert str(vat) == normalize_vat_number(number)


@pytest.mark.parametrize("number", MANGLED)
def test_a_changed_digit_fails_the_check(number: str) -> None:
    errors = check_vat_number(number)
    assert [(e.field, e.code) for e in errors] == [("vat_number", "invalid_check_digit")]


# Numbers whose last character is a single check digit: any other digit there is wrong.
SINGLE_CHECK_DIGIT = [
    "DE136695976",
    "ATU13585627",
    "PL8567346215",
    "DK13585628",
    "FI20774740",
    "PT501964843",
    "EE100931558",
    "SI50223054",
    "IT00743110157",
    "HU12892312",
    "MT11679112",
    "LU15027442",
]


@given(st.sampled_from(SINGLE_CHECK_DIGIT), st.integers(1, 9))
def test_any_other_last_digit_is_rejected(number: str, shift: int) -> None:
    wrong = number[:-1] + str((int(number[-1]) + shift) % 10)
    assert [e.code for e in check_vat_number(wrong)] == ["invalid_check_digit"]


def test_german_check_digit_is_iso_7064_mod_11_10() -> None:
    # DE 136695976, worked by hand: p starts at 10; for each digit s = (d + p) % 10 (10
    # when 0) and p = 2s % 11. Digits 1 3 6 6 9 5 9 7 give s = 1 5 6 7 2 9 6 8 and
    # p = 2 10 1 3 4 7 1 5; the check digit is (11 - 5) % 10 = 6.
    product, sums, products = 10, [], []
    for digit in [1, 3, 6, 6, 9, 5, 9, 7]:
        total = (digit + product) % 10 or 10
        product = 2 * total % 11
        sums.append(total)
        products.append(product)
    assert (sums, products) == ([1, 5, 6, 7, 2, 9, 6, 8], [2, 10, 1, 3, 4, 7, 1, 5])
    assert (11 - product) % 10 == 6
    assert parse_vat_number("DE 136 695 976").check_digit_verified
    assert check_vat_number("DE136695975")[0].code == "invalid_check_digit"


def test_french_key_is_computed_from_the_siren() -> None:
    # key = (SIREN * 100 + 12) mod 97, i.e. (12 + 3 * (SIREN mod 97)) mod 97
    siren = 303265045
    key = (siren * 100 + 12) % 97
    assert key == 40
    assert luhn_is_valid(str(siren))  # the SIREN carries its own Luhn digit
    assert str(parse_vat_number(f"FR{key:02d}{siren}")) == "FR40303265045"
    assert check_vat_number(f"FR{key + 1:02d}{siren}")[0].code == "invalid_check_digit"


def test_dutch_sole_trader_numbers_since_2020_use_mod_97() -> None:
    # NL002455799B11 fails the RSIN eleven-test (weights 9..2 on the first eight digits,
    # 0*9+0*8+2*7+4*6+5*5+5*4+7*3+9*2 = 122; 122 % 11 = 1, not the ninth digit 9) ...
    assert sum(w * int(d) for w, d in zip(range(9, 1, -1), "00245579", strict=True)) % 11 == 1
    # ... but "NL002455799B11" with letters as numbers (N=23, L=21, B=11) is 1 mod 97.
    assert int("2321" + "002455799" + "11" + "11") % 97 == 1
    assert parse_vat_number("NL002455799B11").check_digit_verified
    # One digit off breaks both rules.
    assert check_vat_number("NL002455799B12")[0].code == "invalid_check_digit"


def test_uk_numbers_pass_mod_97_or_the_9755_rule() -> None:
    weights = (8, 7, 6, 5, 4, 3, 2)
    # 980780684: 9*8+8*7+0*6+7*5+8*4+0*3+6*2 = 207, plus the check 84 = 291 = 3 * 97.
    assert sum(w * int(d) for w, d in zip(weights, "9807806", strict=True)) + 84 == 3 * 97
    # 100190874, issued after 2010: 1*8+0+0+1*5+9*4+0*3+8*2 = 65, plus 74 = 139; 139 + 55
    # = 194 = 2 * 97: the "9755" rule.
    assert sum(w * int(d) for w, d in zip(weights, "1001908", strict=True)) + 74 + 55 == 2 * 97
    assert parse_vat_number("GB 980 7806 84").country == "GB"
    assert parse_vat_number("GB100190874").number == "100190874"
    # Numbers below 100 predate the 9755 rule: the same remainder is not accepted there.
    assert check_vat_number("GB001234567")[0].code == "invalid_check_digit"
    # Northern Ireland's XI prefix is a UK number.
    assert parse_vat_number("XI 980 7806 84", "GB") == VatNumber("GB", "XI", "980780684")


def test_normalisation_strips_separators_and_restores_prefixes_and_zeros() -> None:
    assert normalize_vat_number(" de 136.695.976 ") == "DE136695976"
    assert normalize_vat_number("GR 094259216") == "EL094259216"
    assert normalize_vat_number("136695976", "de") == "DE136695976"
    assert normalize_vat_number("U13585627", "AT") == "ATU13585627"
    assert normalize_vat_number("094259216", "GR") == "EL094259216"
    assert normalize_vat_number("NL4495445B01") == "NL004495445B01"
    assert normalize_vat_number("BE 403.019.261") == "BE0403019261"
    assert normalize_vat_number("EL 94051189") == "EL094051189"


def test_greek_numbers_use_the_el_prefix_for_country_gr() -> None:
    vat = parse_vat_number("GR094259216", "GR")
    assert vat == VatNumber("GR", "EL", "094259216")
    assert str(vat) == "EL094259216"


def test_a_number_of_another_country_is_a_country_mismatch() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_vat_number("DE136695976", "FR")
    assert [(e.field, e.code) for e in caught.value.errors] == [("vat_number", "country_mismatch")]


@pytest.mark.parametrize(
    ("value", "country", "code"),
    [
        ("", None, "required"),
        ("136695976", None, "invalid_format"),  # no prefix and no country to supply one
        ("DE12345678", None, "invalid_format"),  # eight digits
        ("DE036695976", None, "invalid_format"),  # leading zero
        ("NL004495445B00", None, "invalid_format"),  # branch 00 does not exist
        ("ATU1358562", None, "invalid_format"),
        ("ES I1234567A", None, "invalid_format"),  # I is not an entity letter
        ("12-3456789", "US", "unsupported_country"),
        ("CHE123456789", "CH", "unsupported_country"),
    ],
)
def test_malformed_numbers_name_the_problem(value: str, country: str | None, code: str) -> None:
    errors = check_vat_number(value, country, field="company.vat")
    assert [(e.field, e.code) for e in errors] == [("company.vat", code)]


def test_personal_forms_without_a_published_check_are_flagged_unverified() -> None:
    assert parse_vat_number("BG7111042925").check_digit_verified is False
    assert parse_vat_number("CZ6011270177").check_digit_verified is False
    assert parse_vat_number("BG175074752").check_digit_verified is True


@pytest.mark.parametrize(
    ("value", "country", "expected"),
    [
        ("303 265 045", "FR", CompanyNumber("FR", "303265045", True)),  # SIREN, Luhn
        ("0202.239.951", "BE", CompanyNumber("BE", "0202239951", True)),  # KBO = VAT number
        ("10 50 32 80", "DK", CompanyNumber("DK", "10503280", True)),  # CVR = VAT number
        ("1234567", "GB", CompanyNumber("GB", "01234567", False)),  # leading zero restored
        ("sc123456", "GB", CompanyNumber("GB", "SC123456", False)),  # Scottish register
        ("12345678", "NL", CompanyNumber("NL", "12345678", False)),  # KvK
        ("HRB 86891", "DE", CompanyNumber("DE", "HRB86891", False)),  # generic format
    ],
)
def test_company_numbers(value: str, country: str, expected: CompanyNumber) -> None:
    assert parse_company_number(value, country) == expected


def test_company_number_errors() -> None:
    assert [e.code for e in check_company_number("303265046", "FR")] == ["invalid_check_digit"]
    assert [e.code for e in check_company_number("1234", "NL")] == ["invalid_format"]
    assert [e.code for e in check_company_number(" ", "DE")] == ["required"]
