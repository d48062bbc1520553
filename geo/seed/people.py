"""Made-up people, phone numbers and registration numbers, drawn in bulk with numpy.

No name or number here belongs to anyone: they are random picks from common characters.
"""

from __future__ import annotations

import numpy as np

from geo.credit_code import check_character

# Weighted towards the surnames common on the Fujian coast (陈, 林, 郑, 王, 李 …).
SURNAMES = np.array(list("陈林郑王李张刘黄吴杨何高潘董池邱游卢叶江许魏"))
SURNAME_WEIGHTS = np.array(
    [14, 13, 9, 6, 6, 5, 5, 5, 4, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2], dtype=float
)
GIVEN = np.array(list("建国华明丽芳伟强秀英金春平文辉玉兰忠海燕杰斌勇琴雪梅霞志德荣清龙凤光永鸿"))
MOBILE_PREFIXES = np.array(
    [130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 150, 151, 152, 153, 155, 156, 157, 158,
     159, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189],
    dtype=np.int64,
)  # fmt: skip

# Organisation codes (GB 11714): eight digits and a check character.
ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2])
ORG_SPACE = 10**8


def person_names(rng: np.random.Generator, n: int) -> list[str]:
    surnames = rng.choice(SURNAMES, size=n, p=SURNAME_WEIGHTS / SURNAME_WEIGHTS.sum())
    first = rng.choice(GIVEN, size=n)
    second = rng.choice(GIVEN, size=n)
    # About a third of people have a one-character given name.
    single = rng.random(n) < 0.3
    return [
        s + f if one else s + f + g
        for s, f, g, one in zip(surnames, first, second, single, strict=True)
    ]


def mobile_numbers(rng: np.random.Generator, n: int) -> list[str]:
    prefixes = rng.choice(MOBILE_PREFIXES, size=n)
    return (prefixes * 10**8 + rng.integers(0, 10**8, size=n)).astype(str).tolist()


def organisation_codes(serials: np.ndarray) -> list[str]:
    """Distinct, random-looking organisation codes: serial n always gives the same code.

    An affine step, a swap of the halves and another affine step are each one-to-one on
    eight-digit numbers, so different serials can never share a code.
    """
    x = (serials.astype(np.int64) * 48271 + 13579) % ORG_SPACE
    x = (x % 10**4) * 10**4 + x // 10**4
    x = (x * 69621 + 24680) % ORG_SPACE
    digits = (x[:, None] // 10 ** np.arange(7, -1, -1)) % 10
    check = (11 - (digits @ ORG_WEIGHTS) % 11) % 11
    check_chars = np.where(check == 10, "X", check.astype(str))
    return [f"{body:08d}{c}" for body, c in zip(x.tolist(), check_chars.tolist(), strict=True)]


def credit_codes(prefixes: list[str], serials: np.ndarray) -> list[str]:
    """Unified social credit codes: an 8-character prefix (kind and region), then the org code."""
    first17 = [p + o for p, o in zip(prefixes, organisation_codes(serials), strict=True)]
    return [f + check_character(f) for f in first17]
