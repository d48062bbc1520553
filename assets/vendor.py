"""Copies the built browser libraries that fugong's pages use from assets/node_modules (installed
by `npm ci` from package-lock.json) into api/static/vendor, with their licences, and writes
SHA256SUMS; `--check` only compares. Run by `make assets`; the copies are committed, so a clone
serves its pages without npm or the internet."""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

ASSETS = Path(__file__).resolve().parent
MODULES = ASSETS / "node_modules"
VENDOR = ASSETS.parent / "api" / "static" / "vendor"
SUMS = VENDOR / "SHA256SUMS"

# package: {file in the package: name under vendor/<package>/}
FILES = {
    "maplibre-gl": {
        "dist/maplibre-gl-csp.js": "maplibre-gl-csp.js",  # the build that needs no blob: workers
        "dist/maplibre-gl-csp-worker.js": "maplibre-gl-csp-worker.js",
        "dist/maplibre-gl.css": "maplibre-gl.css",
        "LICENSE.txt": "LICENSE.txt",
    },
    "graphiql": {
        "graphiql.min.js": "graphiql.min.js",
        "graphiql.min.css": "graphiql.min.css",
        "LICENSE": "LICENSE",
    },
    "@graphiql/plugin-explorer": {
        "dist/index.umd.js": "index.umd.js",
        "dist/style.css": "style.css",
    },
    "react": {"umd/react.production.min.js": "react.production.min.js", "LICENSE": "LICENSE"},
    "react-dom": {
        "umd/react-dom.production.min.js": "react-dom.production.min.js",
        "LICENSE": "LICENSE",
    },
}


# Packages published without a licence file: the text of the same licence, from the monorepo
# they are published from (graphql/graphiql, MIT, "GraphQL Contributors").
LICENCE_FROM = {"@graphiql/plugin-explorer": "graphiql/LICENSE"}


def sums() -> str:
    lines = []
    for path in sorted(p for p in VENDOR.rglob("*") if p.is_file() and p != SUMS):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        lines.append(f"{digest}  {path.relative_to(VENDOR).as_posix()}\n")
    return "".join(lines)


def copy() -> None:
    shutil.rmtree(VENDOR, ignore_errors=True)
    for package, files in FILES.items():
        for source, name in files.items():
            target = VENDOR / package.replace("@graphiql/", "graphiql-") / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(MODULES / package / source, target)
        if package in LICENCE_FROM:
            shutil.copyfile(MODULES / LICENCE_FROM[package], target.parent / "LICENSE")


def main() -> None:
    if sys.argv[1:] == ["--check"]:
        if SUMS.read_text() != sums():
            raise SystemExit(f"{VENDOR} differs from {SUMS}: run `make assets`")
        return
    copy()
    SUMS.write_text(sums())


if __name__ == "__main__":
    main()
