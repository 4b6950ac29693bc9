"""A service manager answers its topics on the bus and reconciles from the DB; only its @remote
methods are messages."""
import logging
import threading

import pytest

from undercloud.bus import RemoteError, remote
from undercloud.common.manager import Manager

pytestmark = pytest.mark.timeout(30)
TOPIC = "testing.host1"


class CountingManager(Manager):
    service = "testing"
    reconcile_interval = 0.1

    def __init__(self, config):
        super().__init__(config, host="host1")
        self.passes = 0
        self.torn_down = False

    @remote
    def count_passes(self) -> int:
        return self.passes

    def reconcile(self):
        self.passes += 1
        if self.passes == 2:
            raise RuntimeError("a failed pass must not stop the manager")

    def teardown(self):
        self.torn_down = True


@pytest.fixture
def manager(cfg, wait_for, client):
    """A CountingManager running in a thread, answering on the bus."""
    manager = CountingManager(cfg)
    thread = threading.Thread(target=manager.run, daemon=True)
    thread.start()
    try:
        assert wait_for(lambda: _try_count(client) is not None), "the manager never answered"
        yield manager
    finally:
        manager.stop()
        thread.join(10)
    assert not thread.is_alive()


def test_manager_answers_its_topics_and_keeps_reconciling(manager, client, wait_for):
    assert wait_for(lambda: (_try_count(client) or 0) >= 4)


@pytest.mark.parametrize("method", ["stop", "teardown", "run", "reconcile", "ping"])
def test_a_public_method_that_is_not_remote_is_no_message(manager, client, caplog, method):
    with caplog.at_level(logging.WARNING, logger="undercloud.bus.server"):
        with pytest.raises(RemoteError) as raised:
            client.call(TOPIC, method, timeout=5)

    assert raised.value.exc_type == "NoSuchMethod"
    assert f"has no method '{method}'" in raised.value.message
    assert f"has no method '{method}'" in caplog.text
    assert not manager.stopping.is_set() and not manager.torn_down
    assert client.call(TOPIC, "count_passes", timeout=5) >= 1  # still serving


def _try_count(client):
    try:
        return client.call(TOPIC, "count_passes", timeout=0.5)
    except Exception:
        return None
