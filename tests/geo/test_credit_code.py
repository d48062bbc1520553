"""Unified social credit codes: GB 32100-2015 checksums."""

import pytest

from geo.credit_code import validate_credit_code
from geo.errors import BadInput

# Published codes of real organisations (checksums as issued).
VALID = ["91350100M000100Y43", "91110000600037341L", "91440300708461136T"]


@pytest.mark.parametrize("code", VALID)
def test_published_codes_pass(code):
    assert validate_credit_code(code.lower()) == code


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("91350100M000100Y44", "checksum"),
        ("91350100M000100Y4", "18 characters"),
        ("91350100M000100YI3", "18 characters"),
    ],
)
def test_bad_codes_are_refused_with_the_reason(code, words):
    with pytest.raises(BadInput, match=words):
        validate_credit_code(code)
