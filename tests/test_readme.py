"""The README names files (the layout, the owners, the life of a request): each one exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_file_the_readme_names_exists():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    named = set(
        re.findall(r"`((?:api|schema|geo|migrations|tests|bench)/[\w/.-]+\.(?:py|sql))`", readme)
    )
    assert len(named) > 30
    assert sorted(path for path in named if not (ROOT / path).is_file()) == []
