"""Secrets never reach a log line: keys in URLs, headers and bodies are masked before any handler sees them.

``redact(text)`` masks query parameters that carry credentials (``?api_key=…``, ``&token=…``), bearer
tokens, provider-style keys (``sk-…``), credential headers or JSON members (``x-api-key: …``,
``"authorization": "…"``) and passwords in URLs (``https://user:…@host``). ``install()`` puts a
``RedactingFilter`` on uvicorn's access and error loggers, on Condenser's loggers and on the root
logger's handlers, so the access log's request line is masked as well as the service's own messages.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

MASK = "***"

#: names whose value is a credential, in a query string, a header or a JSON/dict member
_SECRET_NAMES = (r"api[_-]?key|apikey|key|token|access[_-]?token|refresh[_-]?token|id[_-]?token|secret|"
                 r"client[_-]?secret|password|passwd|x[_-]api[_-]key|x[_-]condenser[_-]key|authorization|"
                 r"proxy[_-]authorization|x[_-]goog[_-]api[_-]key|api[_-]?token|auth[_-]?token")

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # ?api_key=sk-...&x=1 (also percent-encoded or in a path after a ?/&/;)
    (re.compile(rf"([?&;](?:{_SECRET_NAMES})=)[^&#\s\"'<>]*", re.IGNORECASE), rf"\g<1>{MASK}"),
    # "x-api-key": "…", 'authorization': '…', x-api-key: …, api_key=… (headers, dict reprs, JSON bodies)
    (re.compile(rf"(\b(?:{_SECRET_NAMES})[\"']?\s*[:=]\s*[\"']?)(?:(?:bearer|basic)\s+)?[^\s\"',;&}}\]]+",
                re.IGNORECASE), rf"\g<1>{MASK}"),
    # Bearer / Basic credentials wherever they appear
    (re.compile(r"\b((?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE), rf"\g<1>{MASK}"),
    # provider keys: OpenAI/Anthropic style sk-..., sk-ant-..., sk-proj-...
    (re.compile(r"\bsk-[A-Za-z0-9_-]{6,}"), f"sk-{MASK}"),
    # https://user:password@host
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^/\s@]+@", re.IGNORECASE), rf"\g<1>{MASK}@"),
)


def redact(text: str) -> str:
    """``text`` with every credential it carries replaced by ``***`` (idempotent)."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redact_arg(value: object) -> object:
    # numbers stay numbers: the access log formats its status code with %d
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bytes | bytearray):
        return redact(bytes(value).decode("utf-8", "replace"))
    if isinstance(value, int | float) or value is None:
        return value
    text = str(value)
    masked = redact(text)
    return value if masked == text else masked  # an object left alone keeps its %r / %d formatting


class RedactingFilter(logging.Filter):
    """Masks credentials in a record's message, arguments and traceback; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_arg(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _redact_arg(v) for k, v in record.args.items()}
        if record.exc_info and not record.exc_text:  # format the traceback now, so it is masked too
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


#: loggers whose records can carry a request line, a header or a body
LOGGERS = ("uvicorn", "uvicorn.access", "uvicorn.error", "condenser", "fastapi")


def _add(filterer: logging.Filterer) -> None:
    if not any(isinstance(f, RedactingFilter) for f in filterer.filters):
        filterer.addFilter(RedactingFilter())


def install(names: Iterable[str] = LOGGERS) -> None:
    """Put a ``RedactingFilter`` on the loggers ``names`` and their existing children, and on the handlers of
    those loggers and of the root logger. Logger filters do not see records propagated from children, hence
    both. Idempotent; call it after logging is configured (``create_app`` does)."""
    prefixes = tuple(names)
    loggers = [logging.getLogger(n) for n in prefixes]
    loggers += [logger for name, logger in list(logging.Logger.manager.loggerDict.items())
                if isinstance(logger, logging.Logger) and name.startswith(tuple(f"{p}." for p in prefixes))]
    for logger in loggers:
        _add(logger)
    for handler in [h for logger in [*loggers, logging.getLogger()] for h in logger.handlers]:
        _add(handler)
    if logging.lastResort is not None:  # what prints a child logger's warning when nothing is configured
        _add(logging.lastResort)
