"""Logging to DATA_DIR/logs/<name>.log, with secrets masked before any line is written."""
import logging
import os
import re

FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s [%(request_id)s] %(message)s"

# Things that must never reach a log: passwords, tokens, keys, URL credentials.
_SECRETS = [
    (re.compile(r'("?(?:password|passwd|secret|token|ipmi_password|pm_password|'
                r'adminPass|auth_token)"?\s*[:=]\s*)("[^"]*"|\'[^\']*\'|[^\s,}&]+)', re.I),
     r"\1***"),
    (re.compile(r"(X-(?:Auth|Subject)-Token:?\s*)\S+", re.I), r"\1***"),
    (re.compile(r"gAAAAA[\w-]{20,}=*"), "***"),               # Fernet tokens
    (re.compile(r"(://[^:/@\s]+:)[^@\s]+@"), r"\1***@"),      # user:password@ in URLs
]


def redact(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFormatter(logging.Formatter):
    def format(self, record):
        if not hasattr(record, "request_id"):
            record.request_id = _request_id()
        return redact(super().format(record))


def _request_id():
    try:
        from flask import g, has_request_context
        if has_request_context():
            return getattr(g, "request_id", "-")
    except ImportError:
        pass
    return "-"


def log_file(config, name: str) -> str:
    directory = config.path("logs")
    os.makedirs(directory, mode=0o750, exist_ok=True)
    return os.path.join(directory, f"{name}.log")


def to_file(config, name: str, logger_name: str = "", propagate: bool = True) -> logging.Logger:
    """Send `logger_name` (the root by default) to logs/<name>.log."""
    logger = logging.getLogger(logger_name)
    handler = logging.FileHandler(log_file(config, name))
    handler.setFormatter(RedactingFormatter(FORMAT))
    logger.addHandler(handler)
    logger.setLevel(config["logging"]["level"])
    logger.propagate = propagate
    return logger


def setup_process(config, name: str):
    """A child process: its own log file for everything under the root logger."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    to_file(config, name)
    # Libraries whose DEBUG dumps every message they parse (pyroute2: each netlink reply).
    for chatty in ("pyroute2",):
        logging.getLogger(chatty).setLevel(max(logging.INFO, root.level))
