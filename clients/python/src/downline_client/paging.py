"""Iteration over downline's paged lists (AIP-158: page_size, page_token, next_page_token)."""

from __future__ import annotations

from typing import Any, Callable, Iterator, TypeVar

Request = TypeVar("Request")

#: The most pages one iteration follows: a server bug that repeats a token
#: must not loop forever.
MAX_PAGES = 10_000_000


def pages(method: Callable[[Request], Any], request: Request, items: str, page_size: int = 0) -> Iterator[Any]:
    """Yields every item of a paged list, following ``next_page_token`` to the end.

    ``method`` is a stub method (``client.genealogy.ListDownline``), ``request``
    its first request (left unchanged: a copy is paged), ``items`` the name of
    the response's repeated field (``"members"``). ``page_size`` 0 keeps the
    request's own (or the server's default).
    """
    request = type(request).FromString(request.SerializeToString())  # type: ignore[attr-defined]
    if page_size:
        request.page_size = page_size  # type: ignore[attr-defined]
    seen = set()
    for _ in range(MAX_PAGES):
        response = method(request)
        yield from getattr(response, items)
        token = response.next_page_token
        if not token:
            return
        if token in seen:
            raise RuntimeError(f"the server repeated page token {token!r}")
        seen.add(token)
        request.page_token = token  # type: ignore[attr-defined]
    raise RuntimeError(f"more than {MAX_PAGES} pages")
