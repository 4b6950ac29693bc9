"""RPC over the bus: call, cast, fanout, errors and timeouts, as a service would use them."""
import datetime
import logging
import os
import queue
import threading
import time

import pytest

from undercloud.bus import BusTimeout, NoPeer, RemoteError, remotable, remote

pytestmark = pytest.mark.timeout(30)


@remotable
class InstanceNotFound(Exception):
    """A compute error callers know, so it crosses the bus as itself."""


class Compute:
    """A stand-in compute manager."""

    def __init__(self, name="compute-1"):
        self.name = name
        self.received = queue.Queue()

    @remote
    def add(self, a, b):
        return a + b

    @remote
    def echo(self, **kwargs):
        return kwargs

    @remote
    def whoami(self):
        return self.name

    @remote
    def sleep(self, seconds):
        time.sleep(seconds)
        return "slept"

    @remote
    def fail(self, message):
        raise ValueError(message)

    @remote
    def show_instance(self, instance_id):
        raise InstanceNotFound(f"instance {instance_id} could not be found")

    @remote
    def record(self, **kwargs):
        self.received.put((self.name, kwargs))

    def _reset_everything(self):
        return "should never run"

    def stop(self):
        return "public, but not a message: should never run"


def test_call_returns_the_result(serve, client):
    serve("compute.host1", Compute())

    assert client.call("compute.host1", "add", a=2, b=3) == 5


def test_kwargs_round_trip_with_datetimes_as_iso_strings(serve, client):
    serve("compute.host1", Compute())
    launched = datetime.datetime(2024, 5, 1, 12, 30, tzinfo=datetime.timezone.utc)

    result = client.call("compute.host1", "echo", name="vm-1", flavor={"vcpus": 2, "ram": 512},
                         networks=["private", "public"], launched_at=launched, note=None)

    assert result == {"name": "vm-1", "flavor": {"vcpus": 2, "ram": 512},
                      "networks": ["private", "public"],
                      "launched_at": "2024-05-01T12:30:00+00:00", "note": None}


def test_concurrent_calls_from_several_threads_each_get_their_own_answer(serve, client):
    serve("compute.host1", Compute())
    wrong = []

    def caller(number):
        for step in range(50):
            if client.call("compute.host1", "add", a=number, b=step, timeout=10) != number + step:
                wrong.append((number, step))

    threads = [threading.Thread(target=caller, args=(n * 1000,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)

    assert wrong == []


def test_a_slow_call_does_not_hold_up_a_fast_one(serve, client):
    serve("compute.host1", Compute())
    slow = threading.Thread(target=client.call, args=("compute.host1", "sleep"),
                            kwargs={"seconds": 3})
    slow.start()
    time.sleep(0.1)

    assert client.call("compute.host1", "add", a=1, b=1) == 2
    assert slow.is_alive()  # the fast answer came while the slow call was still running
    slow.join(5)


def test_cast_arrives(serve, client):
    compute = Compute()
    serve("compute.host1", compute)

    assert client.cast("compute.host1", "record", instance_id="i-1") is None

    assert compute.received.get(timeout=5) == ("compute-1", {"instance_id": "i-1"})


def test_calls_and_casts_go_to_one_peer_in_turn(serve, client):
    computes = [Compute(f"scheduler-{n}") for n in range(3)]
    for compute in computes:
        serve("scheduler", compute, name=compute.name)

    answers = [client.call("scheduler", "whoami") for _ in range(6)]
    for number in range(6):
        client.cast("scheduler", "record", number=number)

    assert sorted(answers) == sorted([c.name for c in computes] * 2)
    received = [compute.received.get(timeout=5) for compute in computes for _ in range(2)]
    assert sorted(kwargs["number"] for _, kwargs in received) == list(range(6))


def test_fanout_reaches_every_peer_of_the_topic(serve, client):
    computes = [Compute(f"network-{n}") for n in range(3)]
    for compute in computes:
        serve("network", compute, name=compute.name)
    bystander = Compute("volume-1")
    serve("volume", bystander, name=bystander.name)

    client.fanout("network", "record", network_id="net-1")

    for compute in computes:
        assert compute.received.get(timeout=5) == (compute.name, {"network_id": "net-1"})
    time.sleep(0.1)
    assert bystander.received.empty()


def test_call_to_a_topic_nobody_serves_raises_no_peer_at_once(cfg, client):
    # NoPeer, not BusTimeout: the broker answered instead of letting the call wait.
    with pytest.raises(NoPeer, match="compute.nowhere"):
        client.call("compute.nowhere", "add", timeout=60, a=1, b=2)


def test_cast_to_a_topic_nobody_serves_is_dropped_quietly(cfg, client):
    client.cast("compute.nowhere", "record", instance_id="i-1")

    assert client.ping_broker(timeout=5)["peers"] == {}


def test_a_call_that_takes_too_long_raises_bus_timeout(serve, client):
    serve("compute.host1", Compute())
    started = time.monotonic()

    with pytest.raises(BusTimeout) as raised:
        client.call("compute.host1", "sleep", timeout=0.3, seconds=5)

    assert time.monotonic() - started >= 0.3  # never gives up before its timeout
    assert "compute.host1" in str(raised.value) and "sleep" in str(raised.value)
    assert "0.3 s" in str(raised.value)


def test_a_late_reply_to_a_timed_out_call_is_not_taken_for_the_next_answer(serve, client):
    serve("compute.host1", Compute())
    with pytest.raises(BusTimeout):
        client.call("compute.host1", "sleep", timeout=0.1, seconds=0.5)
    time.sleep(0.7)  # the late "slept" reply is now waiting on the socket

    assert client.call("compute.host1", "add", a=20, b=22) == 42


def test_the_default_timeout_comes_from_the_config(make_cfg, run_broker):
    from undercloud.bus import RpcClient, RpcServer

    cfg = make_cfg()
    cfg["bus"]["call_timeout"] = 0.2
    run_broker(cfg)
    server = RpcServer(cfg, "compute.host1", Compute(), "compute-1").start()
    client = RpcClient(cfg)
    try:
        assert server.wait_registered(5)
        with pytest.raises(BusTimeout, match="0.2 s"):
            client.call("compute.host1", "sleep", seconds=1)
    finally:
        client.close()
        server.stop()


def test_a_handler_error_comes_back_as_remote_error(serve, client, caplog):
    serve("compute.host1", Compute())

    with caplog.at_level(logging.ERROR, logger="undercloud.bus"):
        with pytest.raises(RemoteError) as raised:
            client.call("compute.host1", "fail", message="disk full on /var/lib/instances")

    assert raised.value.exc_type == "ValueError"
    assert raised.value.message == "disk full on /var/lib/instances"
    assert "Traceback" in caplog.text  # the traceback stays in the server's log


def test_a_remotable_error_comes_back_as_itself(serve, client):
    serve("compute.host1", Compute())

    with pytest.raises(InstanceNotFound, match="instance i-42 could not be found"):
        client.call("compute.host1", "show_instance", instance_id="i-42")


@pytest.mark.parametrize("method", ["_reset_everything", "__init__", "stop", "name",
                                    "received", "no_such_method"])
def test_private_unmarked_and_unknown_methods_are_refused(serve, client, method):
    serve("compute.host1", Compute())

    with pytest.raises(RemoteError) as raised:
        client.call("compute.host1", method)

    assert raised.value.exc_type == "NoSuchMethod"
    assert method in raised.value.message


def test_a_private_method_cannot_be_marked_remote():
    with pytest.raises(ValueError, match="_reset_everything"):
        remote(Compute._reset_everything)


def test_ping_broker_reports_pid_uptime_and_peers(serve, client):
    serve("compute.host1", Compute(), name="compute-1")

    status = client.ping_broker(timeout=5)

    assert status["pid"] == os.getpid()
    assert status["uptime"] >= 0
    assert status["peers"] == {"compute.host1": ["compute-1"]}


def test_a_stopped_server_is_forgotten_at_once(serve, client):
    server = serve("compute.host1", Compute())
    server.stop()

    with pytest.raises(NoPeer):
        client.call("compute.host1", "add", timeout=5, a=1, b=1)


def test_stopping_a_server_lets_the_call_in_hand_finish(serve, client):
    server = serve("compute.host1", Compute())
    answer = []
    slow = threading.Thread(target=lambda: answer.append(
        client.call("compute.host1", "sleep", timeout=5, seconds=0.5)))
    slow.start()
    time.sleep(0.1)

    server.stop()
    slow.join(5)

    assert answer == ["slept"]


def test_payloads_never_reach_the_logs(serve, client, caplog):
    serve("compute.host1", Compute())

    with caplog.at_level(logging.DEBUG, logger="undercloud.bus"):
        client.call("compute.host1", "echo", admin_password="hunter2-secret")
        client.cast("compute.host1", "record", admin_password="hunter2-secret")
        time.sleep(0.1)

    assert "echo" in caplog.text
    assert "hunter2-secret" not in caplog.text


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_forked_child_calls_with_its_own_sockets(serve, client):
    serve("compute.host1", Compute())
    assert client.call("compute.host1", "add", a=1, b=2) == 3  # the parent's socket exists

    pid = os.fork()
    if pid == 0:
        try:
            os._exit(0 if client.call("compute.host1", "add", timeout=5, a=2, b=2) == 4 else 1)
        except BaseException:
            os._exit(2)
    deadline = time.monotonic() + 10
    while (waited := os.waitpid(pid, os.WNOHANG)) == (0, 0) and time.monotonic() < deadline:
        time.sleep(0.05)
    if waited == (0, 0):
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        pytest.fail("the forked child hung")

    assert os.waitstatus_to_exitcode(waited[1]) == 0
    assert client.call("compute.host1", "add", a=3, b=4) == 7
