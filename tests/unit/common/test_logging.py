"""Secrets never reach a log line."""
import logging

from undercloud.common import config
from undercloud.common import logging as logs


def test_redact_masks_passwords_tokens_and_url_credentials():
    line = logs.redact('{"password": "hunter2", "ipmi_password": "calvin"} '
                       "X-Auth-Token: gAAAAABlongtokenvalue_abcdefghijklmnop "
                       "postgresql://stackbox:s3cret@127.0.0.1/db password=xyz")
    for secret in ("hunter2", "calvin", "gAAAAABlongtokenvalue", "s3cret", "xyz"):
        assert secret not in line
    assert "postgresql://stackbox:***@127.0.0.1/db" in line


def test_file_logging_is_redacted(tmp_path):
    cfg = config.load(environ={}, overrides={"data_dir": str(tmp_path)})
    logger = logs.to_file(cfg, "identity", "undercloud.test.identity", propagate=False)
    logger.warning("login failed for admin with password=%s", "hunter2")
    for handler in logger.handlers:
        handler.flush()
    text = (tmp_path / "logs" / "identity.log").read_text()
    assert "login failed for admin" in text and "hunter2" not in text
    logging.getLogger("undercloud.test.identity").handlers.clear()
