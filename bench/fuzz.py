"""The long schemathesis run: tests/api/test_schemathesis.py with many examples, fresh each time.

    .venv/bin/python bench/fuzz.py                 # 200 examples per operation, mode and caller
    .venv/bin/python bench/fuzz.py --examples 1000

It runs against the test database, in a transaction rolled back at the end, like the suite.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import pytest

TEST = Path(__file__).resolve().parent.parent / "tests" / "api" / "test_schemathesis.py"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200, help="per operation, mode and caller")
    args = parser.parse_args()
    # Set, it also turns off derandomize: each run tries examples the last one did not.
    os.environ["FUGONG_FUZZ_EXAMPLES"] = str(args.examples)
    return int(pytest.main([str(TEST), "-p", "no:cacheprovider", "-q"]))


if __name__ == "__main__":
    sys.exit(main())
