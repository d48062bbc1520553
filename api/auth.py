"""Bearer tokens: signed JWTs with an expiry, checked on every request against the account as it
stands (geo/callers.py: kept in the process until any account changes)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import jwt
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Receive, Scope, Send

from api.refusal import refuse
from api.settings import Settings
from geo.callers import Callers
from geo.errors import Unauthenticated
from geo.scope import ANONYMOUS, Caller

ALGORITHM = "HS256"
ISSUER = "fugong"


def issue_token(settings: Settings, account_id: int) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": str(account_id),
        "iss": ISSUER,
        "iat": now,
        "exp": now + timedelta(minutes=settings.token_minutes),
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm=ALGORITHM)


def account_of_token(settings: Settings, token: str) -> tuple[int, datetime]:
    """The account a token names, and when the token expires."""
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "sub", "iss"]},
        )
        account_id, expires_at = int(claims["sub"]), datetime.fromtimestamp(claims["exp"], UTC)
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("the token has expired; log in again") from None
    except (jwt.InvalidTokenError, ValueError, TypeError, OverflowError):
        raise Unauthenticated("the token is not one this server signed") from None
    # A token that outlives what this server issues was not issued by it, or under a policy
    # since shortened: either way it is not honoured (a minute's grace for clocks).
    if expires_at > datetime.now(UTC) + timedelta(minutes=settings.token_minutes + 1):
        raise Unauthenticated(
            f"the token lives longer than {settings.token_minutes} minutes; log in again"
        )
    return account_id, expires_at


async def caller_of(
    settings: Settings,
    callers: Callers,
    sessions: sessionmaker[Session],
    authorization: str | None,
) -> Caller:
    """The caller an Authorization header names, until its token expires: anonymous without
    one."""
    if not authorization:
        return ANONYMOUS
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send the token as 'Authorization: Bearer <token>'")
    account_id, expires_at = account_of_token(settings, token.strip())
    return replace(await callers.of(sessions, account_id), expires_at=expires_at)


class Authentication:
    """Puts the caller in `request.state.caller` for every HTTP route; refuses a bad token
    with 401 and a GraphQL-shaped error, so no route ever runs for a caller it cannot name."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        authorization = headers.get(b"authorization", b"").decode("latin-1") or None
        state = scope["app"].state
        try:
            caller = await caller_of(
                self.settings, state.callers, state.databases.primary, authorization
            )
        except Unauthenticated as error:
            await _refuse(send, error.message)
            return
        scope.setdefault("state", {})["caller"] = caller
        await self.app(scope, receive, send)


async def _refuse(send: Send, message: str) -> None:
    challenge = [(b"www-authenticate", b'Bearer realm="fugong"')]
    await refuse(send, 401, "UNAUTHENTICATED", message, challenge)
