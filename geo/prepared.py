"""Statements built once per shape, not once per request: building a SQLAlchemy statement (and
the cache key SQLAlchemy derives from it) costs more than PostgreSQL takes to answer many of
them. A statement is kept under the key of everything its SQL depends on (layer, the caller's
scope, which filters, the selection), with bindparams for what varies within a shape (the
filter's values, the page size, the cursor), and run with those values bound. (GraphQL keeps
its plans of whole operations here too: schema/operations.py.)"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

SHAPES_KEPT = 1024  # bounded: a shape holds the caller's scope, and callers come and go

_lock = threading.Lock()
_built: OrderedDict[Hashable, Any] = OrderedDict()


def prepared(key: Hashable, build: Callable[[], T]) -> T:
    """What is kept under `key` (never None), built by `build` the first time it is asked for."""
    with _lock:
        found = _built.get(key)
        if found is not None:
            _built.move_to_end(key)
            return found
    statement = build()
    with _lock:
        _built[key] = statement
        if len(_built) > SHAPES_KEPT:
            _built.popitem(last=False)
    return statement
