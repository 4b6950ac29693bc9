"""A service manager answers its topics on the bus and reconciles from the DB."""
import threading

from undercloud.bus import RpcClient
from undercloud.common.manager import Manager


class CountingManager(Manager):
    service = "testing"
    reconcile_interval = 0.1

    def __init__(self, config):
        super().__init__(config, host="host1")
        self.passes = 0

    def reconcile(self):
        self.passes += 1
        if self.passes == 2:
            raise RuntimeError("a failed pass must not stop the manager")


def test_manager_answers_its_topics_and_keeps_reconciling(make_cfg, run_broker, wait_for):
    cfg = make_cfg()
    run_broker(cfg)
    manager = CountingManager(cfg)
    thread = threading.Thread(target=manager.run, daemon=True)
    thread.start()
    client = RpcClient(cfg)
    try:
        answer = wait_for(lambda: _try_ping(client, "testing.host1"))
        assert answer["service"] == "testing" and answer["host"] == "host1"
        assert wait_for(lambda: manager.passes >= 4)
    finally:
        manager.stop()
        thread.join(10)
        client.close()
    assert not thread.is_alive()


def _try_ping(client, topic):
    try:
        return client.call(topic, "ping", timeout=0.5)
    except Exception:
        return None
