"""No published key signs a token: a short key is refused, a missing one is generated once and
kept owner-only, a deployment must configure one, and a refused start exits non-zero."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2 as httpx
import jwt
import pytest
from sqlalchemy import Engine, text

from api import signing_key
from api.auth import ALGORITHM, ISSUER
from api.settings import PROJECT_DIR, get_settings

# What signed every development token before this key was generated per machine: published in
# the code and README of earlier versions, so anyone could mint a district officer's token.
OLD_PUBLISHED_SECRET = "fugong-development-secret-not-for-production"
PORT = 8171
FUGONG = str(Path(sys.executable).parent / "fugong")


@pytest.fixture
def environment(monkeypatch, tmp_path):
    for name in ("FUGONG_JWT_SECRET", "FUGONG_ENV", "FUGONG_INTROSPECTION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FUGONG_STATE_DIR", str(tmp_path / "state"))
    get_settings.cache_clear()
    yield tmp_path / "state"
    get_settings.cache_clear()


def test_a_missing_key_is_generated_once_and_kept_owner_only(environment):
    first = get_settings().jwt_secret
    key = environment / signing_key.FILE_NAME
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(environment.stat().st_mode) == 0o700
    assert len(first.encode()) >= signing_key.MIN_SECRET_BYTES and first != OLD_PUBLISHED_SECRET
    get_settings.cache_clear()
    assert get_settings().jwt_secret == first  # tokens survive a restart
    assert ".fugong/" in (PROJECT_DIR / ".gitignore").read_text().splitlines()


def test_a_key_readable_by_others_is_refused(environment):
    get_settings()
    (environment / signing_key.FILE_NAME).chmod(0o644)
    get_settings.cache_clear()
    with pytest.raises(SystemExit, match="readable by others"):
        get_settings()


def test_a_short_key_is_refused(environment, monkeypatch):
    monkeypatch.setenv("FUGONG_JWT_SECRET", "x" * 31)
    with pytest.raises(SystemExit, match="at least 32"):
        get_settings()
    monkeypatch.setenv("FUGONG_JWT_SECRET", "x" * 32)
    get_settings.cache_clear()
    assert get_settings().jwt_secret == "x" * 32


def test_a_deployment_without_a_key_is_refused(environment, monkeypatch):
    monkeypatch.setenv("FUGONG_ENV", "production")
    with pytest.raises(SystemExit, match="FUGONG_JWT_SECRET is not set"):
        get_settings()
    assert not environment.exists()  # no key was made for it


@pytest.mark.parametrize(
    "env", [{"FUGONG_JWT_SECRET": "short"}, {"FUGONG_ENV": "production"}], ids=["short", "unset"]
)
def test_a_refused_start_exits_non_zero_with_two_workers(environment, env):
    started = time.monotonic()
    result = subprocess.run(
        [FUGONG, "serve", "--workers", "2"],
        env={**os.environ, "PORT": str(PORT), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0, result.stdout
    assert "FUGONG_JWT_SECRET" in result.stderr
    assert time.monotonic() - started < 30  # refused at once, not after workers crash-loop


def _forged(account_id: int, secret: str) -> str:
    now = datetime.now(UTC)
    claims = {"sub": str(account_id), "iss": ISSUER, "iat": now, "exp": now + timedelta(hours=1)}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def test_a_default_start_refuses_tokens_forged_with_the_old_published_key(
    environment, engine: Engine, app_url: str
):
    """`fugong serve` as `make run` starts it, on no configuration at all."""
    with engine.connect() as connection:
        district = connection.execute(
            text("SELECT id FROM account WHERE username = 'district'")
        ).scalar_one()
    env = {**os.environ, "PORT": str(PORT), "DATABASE_URL": app_url}
    server = subprocess.Popen([FUGONG, "serve"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{PORT}"
        _wait_for(base, server)
        query = {"query": "{ rentalProperties(first: 1) { totalCount } }"}
        forged = {"Authorization": f"Bearer {_forged(district, OLD_PUBLISHED_SECRET)}"}
        response = httpx.post(f"{base}/graphql", json=query, headers=forged)
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        # Nor are introspection and GraphiQL on, unasked.
        response = httpx.post(f"{base}/graphql", json={"query": "{ __schema { types { name } } }"})
        assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        page = httpx.get(f"{base}/graphql", headers={"Accept": "text/html"})
        assert "graphiql" not in page.text.lower()
    finally:
        server.terminate()
        server.communicate(timeout=30)


def _wait_for(base: str, server: subprocess.Popen[str]) -> None:
    for _ in range(150):
        if server.poll() is not None:
            raise AssertionError(f"the server stopped: {server.stderr.read()}")  # type: ignore[union-attr]
        try:
            if httpx.get(f"{base}/health").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("the server did not answer within 30 s")
