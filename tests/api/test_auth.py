"""Logging in, and every way a token can be wrong: each refused with 401 and a coded error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlalchemy import Connection, text

from api.auth import ALGORITHM, ISSUER
from api.settings import DEVELOPMENT_SECRET, get_settings
from tests.conftest import GraphQLClient

ME = "{ rentalProperties(first: 1) { totalCount } }"  # scoped: each role sees its own


def token_for(account_id: int, **changes) -> str:
    claims = {
        "sub": str(account_id),
        "iss": ISSUER,
        "iat": datetime.now(UTC),
        "exp": datetime.now(UTC) + timedelta(minutes=5),
    }
    claims.update(changes)
    secret = claims.pop("secret", get_settings().jwt_secret)
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def account_id(db: Connection, username: str) -> int:
    return db.execute(
        text("SELECT id FROM account WHERE username = :u"), {"u": username}
    ).scalar_one()


def refused(client, token: str) -> dict:
    response = client.post(
        "/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    return error


def test_login_gives_a_token_that_works(anonymous: GraphQLClient):
    town = anonymous.login("town")
    assert (
        town.data(ME)["rentalProperties"]["totalCount"]
        < anonymous.login("district").data(ME)["rentalProperties"]["totalCount"]
    )


@pytest.mark.parametrize(("username", "password"), [("town", "wrong"), ("nobody", "demo")])
def test_a_wrong_password_or_user_gets_the_same_answer(anonymous, username, password):
    error = anonymous.error(
        "mutation ($u: String!, $p: String!) { login(username: $u, password: $p) }",
        u=username,
        p=password,
    )
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["message"] == "wrong username or password, or the account is disabled"


def test_expired_token(client, db):
    past = datetime.now(UTC) - timedelta(hours=1)
    error = refused(client, token_for(account_id(db, "town"), exp=past, iat=past))
    assert "expired" in error["message"]


def test_tampered_token(client, db):
    token = token_for(account_id(db, "town"))
    header, payload, signature = token.split(".")
    forged = token_for(account_id(db, "district")).split(".")[1]
    refused(client, f"{header}.{forged}.{signature}")


def test_token_signed_with_another_secret(client, db):
    refused(client, token_for(account_id(db, "district"), secret="x" * 40))


def test_token_with_no_signature_algorithm(client, db):
    unsigned = jwt.encode({"sub": str(account_id(db, "district")), "iss": ISSUER}, None, "none")
    refused(client, unsigned)


def test_disabled_account_stops_at_once(anonymous, client, db):
    town = anonymous.login("town")
    db.execute(text("UPDATE account SET disabled = true WHERE username = 'town'"))
    refused(client, town.headers["Authorization"].removeprefix("Bearer "))
    error = anonymous.error('mutation { login(username: "town", password: "demo") }')
    assert error["extensions"]["code"] == "UNAUTHENTICATED"


def test_malformed_authorization_header(client):
    response = client.post("/graphql", json={"query": ME}, headers={"Authorization": "Basic abc"})
    assert response.status_code == 401


def test_production_refuses_the_development_secret(monkeypatch):
    from api.app import create_app

    settings = get_settings()
    production = type(settings)(**{**settings.__dict__, "environment": "production"})
    assert production.jwt_secret == DEVELOPMENT_SECRET
    with pytest.raises(SystemExit, match="FUGONG_JWT_SECRET"):
        create_app(production)
