"""The broker's bookkeeping: silent peers are forgotten, garbage never stops it."""
import pytest
import zmq

from undercloud.bus import NoPeer, wire

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def raw_peer(cfg):
    """A bare DEALER speaking the wire protocol by hand, as a misbehaving peer would."""
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(cfg.bus_url)
    yield sock
    sock.close()


def test_a_peer_that_stops_saying_hello_is_forgotten(monkeypatch, raw_peer, client, wait_for):
    monkeypatch.setattr(wire, "FORGET_AFTER_SECONDS", 0.3)
    hello = wire.dumps({"name": "ghost", "topics": ["compute.ghost"]})
    raw_peer.send_multipart([wire.HELLO, hello])
    assert raw_peer.poll(5000) and raw_peer.recv_multipart() == [wire.WELCOME]
    assert client.ping_broker(timeout=5)["peers"] == {"compute.ghost": ["ghost"]}

    # No more HELLOs: within a sweep or two the broker lets it go.
    assert wait_for(lambda: client.ping_broker(timeout=5)["peers"] == {}, timeout=5)
    with pytest.raises(NoPeer):
        client.call("compute.ghost", "whoami", timeout=5)


def test_malformed_messages_do_not_stop_the_broker(raw_peer, client):
    for frames in ([b"Z"], [wire.CALL], [wire.HELLO, b"not json"], [wire.HELLO, b"[1, 2]"],
                   [wire.REPLY, b"nobody", b"1", b"{}"], [wire.NOTIFY, b"x"],
                   [wire.PING], [wire.CAST, b"compute", b"", b"m"]):
        raw_peer.send_multipart(frames)

    assert client.ping_broker(timeout=5)["peers"] == {}
