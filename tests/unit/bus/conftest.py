"""Fixtures for bus tests: a config on a free loopback port, a broker in a thread, servers."""
import threading
import time

import pytest

from tests.fixtures.ports import free_port
from undercloud.bus import Broker, RpcClient, RpcServer
from undercloud.common import config


@pytest.fixture
def wait_for():
    """wait_for(predicate, timeout): predicate()'s first truthy value within timeout, else None."""
    def wait(predicate, timeout=5.0, interval=0.02):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(interval)
        return None
    return wait


@pytest.fixture
def make_cfg(tmp_path):
    def make(curve=False, data_dir=None, port=None):
        cfg = config.load(environ={}, overrides={"data_dir": str(data_dir or tmp_path)})
        cfg["bus"]["port"] = port or free_port()
        cfg["bus"]["curve"] = curve
        return cfg
    return make


@pytest.fixture
def run_broker():
    running = []

    def run(cfg):
        broker = Broker(cfg)
        thread = threading.Thread(target=broker.run, name="test-broker", daemon=True)
        thread.start()
        assert broker.ready.wait(5), "the broker did not start"
        running.append((broker, thread))
        return broker

    yield run
    for broker, thread in running:
        broker.stop()
        thread.join(5)
        assert not thread.is_alive(), "the broker did not stop"


@pytest.fixture
def cfg(make_cfg, run_broker):
    cfg = make_cfg()
    run_broker(cfg)
    return cfg


@pytest.fixture
def serve(cfg):
    """serve(topics, endpoint, name) starts an RpcServer and waits until the broker knows it."""
    servers = []

    def start(topics, endpoint, name="test-server", server_cfg=None, **options):
        server = RpcServer(server_cfg or cfg, topics, endpoint, name, **options).start()
        assert server.wait_registered(5), f"{name} never registered with the broker"
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def client(cfg):
    client = RpcClient(cfg)
    yield client
    client.close()
