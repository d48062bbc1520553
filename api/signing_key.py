"""The key that signs bearer tokens: configured, or made once per machine and kept out of git.

No key is ever printed in code or documentation: with `FUGONG_JWT_SECRET` unset, a development
start generates 48 random bytes into `FUGONG_STATE_DIR/jwt-secret` (owner-only), and every later
start and every worker reads the same file. A deployment must configure its key, since its
hosts must share one.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

MIN_SECRET_BYTES = 32
FILE_NAME = "jwt-secret"


def configured(value: str) -> str:
    if len(value.encode()) < MIN_SECRET_BYTES:
        raise SystemExit(
            f"FUGONG_JWT_SECRET has {len(value.encode())} bytes; it needs at least"
            f" {MIN_SECRET_BYTES}: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    return value


def generated(state_dir: Path) -> str:
    """The machine's own key, made on first use; racing workers all end with the same one."""
    path = state_dir / FILE_NAME
    if not path.exists():
        state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        draft = state_dir / f".{FILE_NAME}.{os.getpid()}"
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_urlsafe(48))
        try:
            os.link(draft, path)  # atomic: the first process to link wins, the others read it
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    if path.stat().st_mode & 0o077:
        raise SystemExit(f"{path} is readable by others: chmod 600 it, or delete it")
    return configured(path.read_text().strip())
