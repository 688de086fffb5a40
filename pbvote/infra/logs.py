"""Log lines as one JSON object each (LOG_FORMAT = "json", PBVOTE_LOG_FORMAT=json), for
production: pbvote's loggers and the job worker write to standard error through
python-json-logger, and gunicorn's logs follow through config/gunicorn.conf.py. What is
logged does not change (tests/security scans the JSON lines for secrets like any other)."""
from __future__ import annotations

import logging
import sys

JSON_FIELDS = ("asctime", "levelname", "name", "message")
_HANDLER_NAME = "pbvote-json"


def json_formatter() -> logging.Formatter:
    from pythonjsonlogger.json import JsonFormatter

    return JsonFormatter(" ".join(f"%({field})s" for field in JSON_FIELDS),
                         rename_fields={"asctime": "time", "levelname": "level",
                                        "name": "logger"},
                         datefmt="%Y-%m-%dT%H:%M:%S%z")


def configure(config, stream=None) -> logging.Handler | None:
    """Send pbvote's log records to `stream` (standard error) as JSON lines when configured;
    returns the handler (once per process and stream)."""
    if (config.get("LOG_FORMAT") or "text") != "json":
        return None
    logger = logging.getLogger("pbvote")
    for existing in list(logger.handlers):
        if existing.get_name() == _HANDLER_NAME:
            if stream is None or getattr(existing, "stream", None) is stream:
                return existing
            logger.removeHandler(existing)  # another stream asked for: it replaces the old
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(json_formatter())
    logger.addHandler(handler)
    logger.setLevel(getattr(logging, str(config.get("LOG_LEVEL") or "INFO").upper(),
                            logging.INFO))
    logger.propagate = False
    return handler
