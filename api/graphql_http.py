"""GraphQL over HTTP as the spec (graphql-over-http) has it, on top of strawberry's view: the
`application/graphql-response+json` media type negotiated with its status codes (4xx when
the request never ran), a mutation over GET refused with 405, and every refusal a JSON error
with a code rather than text. Also GraphiQL, served from fugong's own files."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.types import ExecutionResult

from api.pages import page
from api.refusal import refuse
from schema.context import Context
from schema.framework import HTTPException, InvalidOperationTypeError, PreExecutionError

GRAPHQL_RESPONSE = "application/graphql-response+json"
CODES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


def wants_graphql_response(accept: str) -> bool:
    """Whether the client accepts application/graphql-response+json (then it is answered so)."""
    return any(
        part.split(";")[0].strip().lower() == GRAPHQL_RESPONSE
        and "q=0" not in part.replace(" ", "").split(";")[1:]
        for part in accept.split(",")
    )


class GraphQLOverHTTP(GraphQL[Context, None]):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await self.run(request)
        except HTTPException as error:
            # 405 names what would have worked: POST for a mutation sent by GET.
            allow = [(b"allow", b"POST" if scope["method"] == "GET" else b"GET, POST")]
            code = CODES.get(error.status_code, "BAD_REQUEST")
            headers = allow if error.status_code == 405 else []
            await refuse(send, error.status_code, code, error.reason, headers)
            return
        await response(scope, receive, send)

    async def run(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        response = await super().run(request, *args, **kwargs)
        if not isinstance(response, Response) or response.media_type != "application/json":
            return response
        if wants_graphql_response(request.headers.get("accept", "")):
            response.headers["content-type"] = GRAPHQL_RESPONSE
            # A request that never ran (unparsable, invalid, over a limit) has no data: 400.
            if getattr(request.state, "not_executed", False) and response.status_code == 200:
                response.status_code = 400
        return response

    async def process_result(self, request: Any, result: ExecutionResult) -> Any:
        processed = await super().process_result(request, result)
        if isinstance(result, PreExecutionError):  # unparsable, invalid, over a limit
            request.state.not_executed = True
            if wants_graphql_response(request.headers.get("accept", "")):
                processed.pop("data", None)  # the spec: no data entry when nothing ran
        return processed

    async def execute_operation(self, request: Any, request_adapter: Any, **kwargs: Any) -> Any:
        try:
            return await super().execute_operation(
                request=request, request_adapter=request_adapter, **kwargs
            )
        except HTTPException as error:
            if isinstance(error.__cause__, InvalidOperationTypeError):
                raise HTTPException(405, f"{error.reason}: send it by POST") from None
            raise

    async def render_graphql_ide(self, request: Request) -> Response:
        return page("graphiql")
