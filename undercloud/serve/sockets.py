"""The API listening sockets, bound by the supervisor and inherited by the API process.

Binding here lets a busy port fail early with its name, and keeps the ports
open across API restarts so clients queue instead of being refused.
"""
import errno
import socket


class PortInUse(Exception):
    pass


def listen(address: str, port: int, service: str, key: str | None = None) -> socket.socket:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((address, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(f"port {port} ({service}) is already in use on {address}; "
                            f"stop what holds it or set {key or 'ports.' + service} in the config") from None
        raise PortInUse(f"cannot listen on {address}:{port} ({service}): {exc.strerror}") from None
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def listen_all(config, services) -> dict[str, socket.socket]:
    """One socket per enabled service; close the ones made if any port is busy."""
    made = {}
    try:
        for service in services:
            made[service.name] = listen(config["bind"], config.port(service.name), service.name)
        bus_probe = listen(config["bus"]["host"] or config["bind"], config["bus"]["port"],
                           "bus", key="bus.port")
        bus_probe.close()  # the broker binds it itself; this only names a busy port early
    except PortInUse:
        for sock in made.values():
            sock.close()
        raise
    return made
