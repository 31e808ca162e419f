"""VAT as data: country codes, rates typed as percentages, the VAT of one line."""

from __future__ import annotations

import pytest

from kitops.domain.vat import line_vat, parse_country, parse_rate, rate_text
from kitops.errors import InvalidInput


@pytest.mark.parametrize(("typed", "code"), [("GB", "GB"), (" at ", "AT"), ("de", "DE")])
def test_countries_are_iso_3166_alpha_2(typed, code):
    assert parse_country(typed) == code


@pytest.mark.parametrize(
    ("typed", "why"),
    [("UK", "the United Kingdom is GB"), ("XX", "not an ISO 3166"), ("GBR", "two-letter"),
     ("G1", "two-letter"), ("", "two-letter"), ("É€", "two-letter")],
)  # fmt: skip
def test_other_countries_are_bad_input_naming_the_field(typed, why):
    with pytest.raises(InvalidInput, match=why) as raised:
        parse_country(typed)
    assert (raised.value.field, raised.value.value) == ("country", typed)


@pytest.mark.parametrize(
    ("typed", "basis_points"),
    [("20", 2000), ("5.5", 550), ("0", 0), ("7.25", 725), ("100", 10_000), ("20%", 2000),
     (" 19.6 ", 1960)],
)  # fmt: skip
def test_rates_are_percentages_kept_in_basis_points(typed, basis_points):
    assert parse_rate(typed) == basis_points


@pytest.mark.parametrize(
    ("typed", "why"),
    [("-1", "0 to 100"), ("100.01", "0 to 100"), ("5.555", "at most two decimals"),
     ("abc", "plain decimal"), ("", "percentage"), ("1e2", "plain decimal")],
)  # fmt: skip
def test_other_rates_are_bad_input(typed, why):
    with pytest.raises(InvalidInput, match=why) as raised:
        parse_rate(typed)
    assert raised.value.field == "rate"


def test_rates_print_as_people_write_them():
    assert [rate_text(bp) for bp in (2000, 550, 725, 0, 1960)] == [
        "20%", "5.5%", "7.25%", "0%", "19.6%"]  # fmt: skip


@pytest.mark.parametrize(
    ("net_minor", "rate_bp", "vat_minor"),
    [
        (4500, 2000, 900),  # 45.00 at 20 % = 9.00
        (3840, 550, 211),  # 38.40 at 5.5 % = 2.112 -> 2.11
        (10, 550, 1),  # 0.10 at 5.5 % = 0.0055 -> 0.01 (half up)
        (9, 550, 0),  # 0.09 at 5.5 % = 0.00495 -> 0.00
        (1, 5000, 1),  # exactly half a minor unit goes up
        (3, 5000, 2),  # 1.5 -> 2
        (0, 2000, 0),
        (123_456_789, 2000, 24_691_358),  # 1 234 567.89 at 20 %, exact in integers
    ],
)
def test_line_vat_rounds_half_up_in_minor_units(net_minor, rate_bp, vat_minor):
    assert line_vat(net_minor, rate_bp) == vat_minor
