"""Notifications: a service publishes events; listeners get those matching their prefixes."""
import datetime
import queue
import time

import pytest

from undercloud.bus import Listener, Notifier

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def listen(cfg):
    listeners = []

    def start(prefixes, name):
        events = queue.Queue()
        listener = Listener(cfg, prefixes, events.put, name=name).start()
        assert listener.wait_registered(5), f"{name} never registered with the broker"
        listeners.append(listener)
        return events

    yield start
    for listener in listeners:
        listener.stop()


def test_notifications_reach_only_listeners_whose_prefix_matches(cfg, listen):
    compute_events = listen(["compute.instance."], "telemetry-compute")
    volume_events = listen("volume.", "telemetry-volume")
    everything = listen([""], "audit")
    notifier = Notifier(cfg, "compute.host1")

    notifier.notify("compute.instance.create.end", {"instance_id": "i-1"})
    notifier.notify("volume.attach.end", {"volume_id": "v-1"})
    notifier.notify("image.upload", {"image_id": "img-1"})

    assert compute_events.get(timeout=5)["payload"] == {"instance_id": "i-1"}
    assert volume_events.get(timeout=5)["payload"] == {"volume_id": "v-1"}
    assert [everything.get(timeout=5)["event_type"] for _ in range(3)] == [
        "compute.instance.create.end", "volume.attach.end", "image.upload"]
    time.sleep(0.1)
    assert compute_events.empty() and volume_events.empty()
    notifier.close()


def test_the_envelope_is_oslo_shaped(cfg, listen):
    events = listen("compute.", "telemetry")
    notifier = Notifier(cfg, "compute.host1")
    started = datetime.datetime.now(datetime.timezone.utc)

    sent = notifier.notify("compute.instance.delete.end", {"instance_id": "i-1"})
    envelope = events.get(timeout=5)

    assert envelope == sent
    assert set(envelope) == {"message_id", "publisher_id", "event_type", "priority",
                             "timestamp", "payload"}
    assert envelope["publisher_id"] == "compute.host1"
    assert envelope["priority"] == "INFO"
    assert datetime.datetime.fromisoformat(envelope["timestamp"]) >= started
    notifier.close()


def test_a_failing_callback_does_not_stop_the_listener(cfg):
    seen = queue.Queue()

    def callback(envelope):
        seen.put(envelope["event_type"])
        raise RuntimeError("telemetry store is down")

    listener = Listener(cfg, ["compute."], callback).start()
    try:
        assert listener.wait_registered(5)
        notifier = Notifier(cfg, "compute.host1")
        notifier.notify("compute.a", {})
        notifier.notify("compute.b", {})

        assert [seen.get(timeout=5), seen.get(timeout=5)] == ["compute.a", "compute.b"]
        notifier.close()
    finally:
        listener.stop()
