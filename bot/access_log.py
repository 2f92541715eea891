"""The web server's access log: one line a request, without the query string.

aiohttp's default format logs the request line (`%r`), query and all, and the download
links carry their capability in the query (`?token=…`): anyone who reads the log could
download as the link's member. This logger writes the method, the path alone, the status,
the size and the time taken; no client address or headers either (nothing the operators
need to see which person asked).

aiohttp's own error lines can quote the request too (a request line too long for the parser
is logged with its first bytes); `redact_tokens` makes those loggers blank any `token=` value.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from aiohttp.abc import AbstractAccessLogger

if TYPE_CHECKING:
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


TOKEN_VALUE = re.compile(r"(token=)[^&\s'\"\\]+", re.IGNORECASE)
# aiohttp's loggers that may quote a request's URL (the access log is ours, above).
AIOHTTP_LOGGERS = ("aiohttp.server", "aiohttp.web", "aiohttp.access")


class RedactTokens(logging.Filter):
    """Blanks every `token=…` value in a record's message and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place (its message, arguments and exception text)."""
        record.msg = TOKEN_VALUE.sub(r"\1…", record.getMessage())
        record.args = ()
        if record.exc_info:
            # The exception's own message may quote the URL: keep only the redacted text.
            text = record.exc_text or logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = text
        if record.exc_text:
            record.exc_text = TOKEN_VALUE.sub(r"\1…", record.exc_text)
        return True


def redact_tokens() -> None:
    """Install `RedactTokens` on aiohttp's loggers (once)."""
    for name in AIOHTTP_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
