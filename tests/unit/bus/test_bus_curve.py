"""CurveZMQ: only peers whose public key the broker authorized get an answer."""
import os
import shutil
import stat

import pytest
import zmq

from undercloud.bus import BusTimeout, RpcClient, RpcServer, ensure_keys, remote, wire

pytestmark = pytest.mark.timeout(30)


class Echo:
    @remote
    def echo(self, **kwargs):
        return kwargs


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_ensure_keys_makes_private_key_files_once(make_cfg):
    cfg = make_cfg(curve=True)

    key_dir = ensure_keys(cfg)
    with open(os.path.join(key_dir, "broker.key_secret")) as handle:
        first = handle.read()
    assert ensure_keys(cfg) == key_dir

    assert key_dir == cfg.path("secrets", "bus")
    assert sorted(os.listdir(key_dir)) == [
        "authorized", "broker.key", "broker.key_secret", "peer.key", "peer.key_secret"]
    assert os.listdir(os.path.join(key_dir, "authorized")) == ["peer.key"]
    assert mode(key_dir) == 0o700
    assert mode(os.path.join(key_dir, "authorized")) == 0o700
    for name in ("broker.key_secret", "peer.key_secret", "broker.key", "peer.key"):
        assert mode(os.path.join(key_dir, name)) == 0o600, name
    with open(os.path.join(key_dir, "broker.key_secret")) as handle:
        assert handle.read() == first


@pytest.fixture
def curve_bus(make_cfg, run_broker, tmp_path):
    cfg = make_cfg(curve=True, data_dir=tmp_path / "undercloud")
    run_broker(cfg)
    server = RpcServer(cfg, "compute.host1", Echo(), "compute-1").start()
    assert server.wait_registered(5), "an authorized server could not register"
    yield cfg
    server.stop()


def test_an_authorized_peer_calls_through_a_curve_broker(curve_bus):
    client = RpcClient(curve_bus)

    assert client.call("compute.host1", "echo", timeout=5, flavor="m1.small") == {
        "flavor": "m1.small"}
    assert client.ping_broker(timeout=5)["curve"] is True
    client.close()


def test_a_plain_socket_gets_no_answer(curve_bus):
    plain = zmq.Context.instance().socket(zmq.DEALER)
    plain.setsockopt(zmq.LINGER, 0)
    plain.connect(curve_bus.bus_url)
    try:
        plain.send_multipart([wire.PING, b"1"])
        plain.send_multipart([wire.CALL, b"compute.host1", b"2", b"echo", b"{}"])

        assert plain.poll(1000) == 0
    finally:
        plain.close()


def test_a_peer_with_an_unauthorized_key_gets_no_answer(curve_bus, make_cfg, tmp_path):
    stranger = make_cfg(curve=True, data_dir=tmp_path / "stranger", port=curve_bus["bus"]["port"])
    stranger_keys = ensure_keys(stranger)  # a fresh pair the broker never authorized
    # The stranger knows the real broker's public key, so only its own key is wrong.
    shutil.copyfile(os.path.join(ensure_keys(curve_bus), "broker.key"),
                    os.path.join(stranger_keys, "broker.key"))
    client = RpcClient(stranger)

    with pytest.raises(BusTimeout):
        client.ping_broker(timeout=1)
    with pytest.raises(BusTimeout):
        client.call("compute.host1", "echo", timeout=1, flavor="m1.small")
    client.close()


def test_an_unauthorized_server_never_registers(curve_bus, make_cfg, tmp_path):
    stranger = make_cfg(curve=True, data_dir=tmp_path / "stranger", port=curve_bus["bus"]["port"])
    shutil.copyfile(os.path.join(ensure_keys(curve_bus), "broker.key"),
                    os.path.join(ensure_keys(stranger), "broker.key"))
    impostor = RpcServer(stranger, "scheduler", Echo(), "impostor").start()
    try:
        assert impostor.wait_registered(1.5) is False
        assert "scheduler" not in RpcClient(curve_bus).ping_broker(timeout=5)["peers"]
    finally:
        impostor.stop()


def test_a_host_the_deployer_authorizes_later_joins_without_a_broker_restart(
        curve_bus, make_cfg, tmp_path):
    newcomer = make_cfg(curve=True, data_dir=tmp_path / "newcomer",
                        port=curve_bus["bus"]["port"])
    newcomer_keys = ensure_keys(newcomer)
    shutil.copyfile(os.path.join(ensure_keys(curve_bus), "broker.key"),
                    os.path.join(newcomer_keys, "broker.key"))
    client = RpcClient(newcomer)
    with pytest.raises(BusTimeout):
        client.ping_broker(timeout=1)
    client.close()

    shutil.copyfile(os.path.join(newcomer_keys, "peer.key"),
                    os.path.join(ensure_keys(curve_bus), "authorized", "newcomer.key"))

    # A refused client does not retry its handshake, so each attempt is a fresh process's
    # client; the broker re-reads the folder within a sweep.
    for _ in range(10):
        client = RpcClient(newcomer)
        try:
            answer = client.call("compute.host1", "echo", timeout=1, flavor="m1.tiny")
            break
        except BusTimeout:
            answer = None
        finally:
            client.close()
    assert answer == {"flavor": "m1.tiny"}


def test_an_overcloud_peer_needs_only_its_pair_and_the_brokers_public_key(make_cfg, tmp_path):
    from undercloud.bus import keys
    cfg = make_cfg(curve=True, data_dir=tmp_path / "compute-host")
    folder = tmp_path / "compute-host" / "secrets" / "bus"
    folder.mkdir(parents=True)
    for name, body in (("peer", keys.PEER), ("broker", keys.BROKER)):
        public, secret = zmq.auth.create_certificates(str(folder), body)
        if name == "broker":
            os.unlink(secret)   # a peer host never holds the broker's secret

    peer = keys.peer_keys(cfg)

    assert sorted(os.listdir(folder)) == ["broker.key", "peer.key", "peer.key_secret"]
    assert peer.broker_public == zmq.auth.load_certificate(str(folder / "broker.key"))[0]
