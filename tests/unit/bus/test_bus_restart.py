"""The broker as its own process: peers carry on by themselves after it restarts."""
import signal
import subprocess
import sys

import pytest

from undercloud.bus import BusError, RpcClient, RpcServer, remote

pytestmark = pytest.mark.timeout(60)


class Echo:
    @remote
    def echo(self, **kwargs):
        return kwargs


@pytest.fixture
def broker_process(make_cfg, tmp_path):
    """start() runs `python -m undercloud.bus.broker`; every process is killed at the end."""
    cfg = make_cfg()
    config_file = tmp_path / "stackbox.json"
    config_file.write_text(cfg.to_json())
    processes = []

    def start():
        log_file = tmp_path / f"broker-{len(processes)}.log"
        with open(log_file, "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "undercloud.bus.broker", "--config-json", str(config_file)],
                stdout=subprocess.DEVNULL, stderr=log)
        process.log_file = log_file
        processes.append(process)
        return process

    start.cfg = cfg
    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait(5)


def answers(client, timeout=0.5):
    try:
        return client.call("compute.host1", "echo", timeout=timeout, state="ok") == {"state": "ok"}
    except BusError:
        return False


def test_peers_carry_on_after_the_broker_is_killed_and_restarted(broker_process, wait_for):
    cfg = broker_process.cfg
    first = broker_process()
    server = RpcServer(cfg, "compute.host1", Echo(), "compute-1").start()
    client = RpcClient(cfg)
    try:
        assert server.wait_registered(10)
        assert wait_for(lambda: answers(client), timeout=5)

        first.send_signal(signal.SIGKILL)
        first.wait(5)
        second = broker_process()

        assert wait_for(lambda: answers(client), timeout=5, interval=0.1), \
            "the same server and client did not work again within 5 s"
        assert client.ping_broker(timeout=5)["pid"] == second.pid
    finally:
        client.close()
        server.stop()


def test_sigterm_stops_the_broker_cleanly(broker_process, wait_for):
    process = broker_process()
    client = RpcClient(broker_process.cfg)
    assert wait_for(lambda: _ping(client), timeout=10)

    process.send_signal(signal.SIGTERM)

    assert process.wait(5) == 0
    assert "bus broker stopped" in process.log_file.read_text()
    client.close()


def _ping(client):
    try:
        return client.ping_broker(timeout=0.5)
    except BusError:
        return None
