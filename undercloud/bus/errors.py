"""The bus's exceptions, and how a handler's exception crosses the wire.

A handler's exception travels as its class name and message. Classes marked
with ``@remotable`` are raised again on the caller as themselves; any other
class arrives as ``RemoteError`` carrying the remote class name.
"""


class BusError(Exception):
    """Something went wrong on the bus itself."""


class BusTimeout(BusError):
    """No reply arrived in time."""

    def __init__(self, topic: str, method: str, seconds: float):
        super().__init__(f"no reply to '{method}' on topic '{topic}' within {seconds:g} s "
                         f"(is the service for '{topic}' running and the broker reachable?)")
        self.topic = topic
        self.method = method
        self.seconds = seconds


class NoPeer(BusError):
    """The broker knows no peer serving the topic."""

    def __init__(self, topic: str):
        super().__init__(f"no peer is serving topic '{topic}' "
                         f"(start the service that listens on '{topic}')")
        self.topic = topic


class RemoteError(BusError):
    """A handler raised an exception the caller has no class for."""

    def __init__(self, exc_type: str, message: str):
        super().__init__(f"{exc_type}: {message}")
        self.exc_type = exc_type
        self.message = message


# Class name -> class, for exceptions that cross the bus as themselves.
REMOTABLE: dict[str, type[BaseException]] = {}


def remotable(cls):
    """Mark an exception class so callers receive it as itself, not RemoteError."""
    known = REMOTABLE.get(cls.__name__)
    if known is not None and _where(known) != _where(cls):
        raise ValueError(f"remotable exception name '{cls.__name__}' is taken by "
                         f"{_where(known)}; rename {_where(cls)}")
    REMOTABLE[cls.__name__] = cls
    return cls


def _where(cls) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def to_wire(exc: BaseException) -> dict:
    return {"type": type(exc).__name__, "message": str(exc)}


def from_wire(error: dict) -> Exception:
    """The exception the caller raises for a handler's error."""
    exc_type, message = error.get("type", "Exception"), error.get("message", "")
    cls = REMOTABLE.get(exc_type)
    if cls is not None:
        try:
            return cls(message)
        except Exception:  # its constructor wants more than a message
            pass
    return RemoteError(exc_type, message)
