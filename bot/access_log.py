"""The web server's access log: one line a request, without the query string.

aiohttp's default format logs the request line (`%r`), query and all, and the download
links carry their capability in the query (`?token=…`): anyone who reads the log could
download as the link's member. This logger writes the method, the path alone, the status,
the size and the time taken; no client address or headers either (nothing the operators
need to see which person asked).
"""

from __future__ import annotations

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse


class PathOnlyAccessLogger(AbstractAccessLogger):
    """Logs `GET /panels/…/meetings.ics 200 1234 0.012s`: never the query string."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        """Write one request's line (and the same fields as `extra`, for JSON formatters)."""
        method, path = request.method, request.path
        status, size = response.status, response.body_length
        self.logger.info(
            "%s %s %s %s %.3fs",
            method,
            path,
            status,
            size,
            time,
            extra={"method": method, "path": path, "status": status, "size": size},
        )
