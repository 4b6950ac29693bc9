"""The frames peers and the broker exchange, and their JSON bodies.

Peer to broker (the ROUTER prefixes the sender's identity):
    CALL/CAST/FANOUT  [kind, topic, msg_id, method, kwargs]
    REPLY/ERROR       [kind, caller, msg_id, body]
    HELLO             [HELLO, {"name", "topics", "prefixes"}]  (every second)
    BYE               [BYE]
    NOTIFY            [NOTIFY, event_type, envelope]
    PING              [PING, msg_id]
Broker to peer:
    CALL/CAST/FANOUT  [kind, caller, msg_id, method, kwargs]
    REPLY/ERROR/NO_PEER [kind, msg_id, body]
    WELCOME           [WELCOME]  (a new or changed registration was accepted)
    NOTIFY            [NOTIFY, event_type, envelope]
The broker swaps the topic for the caller's identity and never parses bodies.
"""
import datetime
import json
import uuid

CALL = b"C"
CAST = b"S"
FANOUT = b"F"
REPLY = b"R"
ERROR = b"E"
NO_PEER = b"U"
HELLO = b"H"
WELCOME = b"W"
BYE = b"B"
NOTIFY = b"N"
PING = b"P"

# Every peer says HELLO this often; the broker forgets one silent for FORGET_AFTER.
HEARTBEAT_SECONDS = 1.0
FORGET_AFTER_SECONDS = 5.0


def _default(value):
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return list(value)
    raise TypeError(f"cannot send a {type(value).__name__} over the bus "
                    f"(send JSON types, datetimes or UUIDs)")


_encoder = json.JSONEncoder(separators=(",", ":"), default=_default, ensure_ascii=False)


def dumps(value) -> bytes:
    return _encoder.encode(value).encode()


def loads(data: bytes):
    return json.loads(data)
