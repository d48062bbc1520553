"""Unified social credit codes (统一社会信用代码), GB 32100-2015: 18 characters, a check last."""

from geo.errors import BadInput

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def check_character(first17: str) -> str:
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def validate_credit_code(code: str) -> str:
    code = code.strip().upper()
    if len(code) != 18 or any(c not in ALPHABET for c in code):
        raise BadInput(
            f"credit code {code!r} must be 18 characters of 0-9 and A-Y without I, O, S, V, Z"
        )
    if check_character(code[:17]) != code[17]:
        raise BadInput(
            f"credit code {code!r} fails its GB 32100-2015 checksum: "
            f"the last character should be {check_character(code[:17])!r}"
        )
    return code
