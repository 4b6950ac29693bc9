"""The guests' metadata proxy: 169.254.169.254:80 in every router, served by the agent itself.

Each router namespace redirects the address to PORT; the listening socket is made inside the
namespace (by a thread that entered it) and stays there, so one selector thread of the agent
accepts for every router and hands each request to a short thread. A request is answered by
asking the network server which instance has the client's address behind that router, then
forwarding to compute's metadata API with the instance id signed (Neutron's scheme).
"""
import hashlib
import hmac
import http.client
import logging
import selectors
import socket
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler

from undercloud.common import secrets
from undercloud.network.drivers import namespaces

LOG = logging.getLogger(__name__)
PORT = 9697
MAX_REQUESTS = 64          # requests served at once; more wait in the listen queue
REQUEST_SECONDS = 30
FORWARDED = ("Content-Type", "Accept", "User-Agent")


def signature(secret: bytes, instance_id: str) -> str:
    return hmac.new(secret, instance_id.encode(), hashlib.sha256).hexdigest()


def _listen(port: int) -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", port))
    listener.listen(128)
    listener.setblocking(False)
    return listener


class MetadataProxy:
    def __init__(self, config, server_api, port: int = PORT):
        self.config = config
        self.server_api = server_api
        self.port = port
        target = urllib.parse.urlsplit(config.endpoint("metadata"))
        self.target = (target.hostname, target.port or 80)
        self._listeners: dict[str, socket.socket] = {}
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(MAX_REQUESTS)
        self._selector = selectors.DefaultSelector()
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._selector.register(self._wake_reader, selectors.EVENT_READ, None)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="metadata-proxy", daemon=True)
        self._thread.start()
        self._secret: bytes | None = None

    def routers(self) -> set[str]:
        with self._lock:
            return set(self._listeners)

    def serve(self, router_id: str, namespace: str) -> None:
        """Listen in the router's namespace (once)."""
        with self._lock:
            if router_id in self._listeners:
                return
            listener = namespaces.run_in(namespace, _listen, self.port)
            self._listeners[router_id] = listener
            self._selector.register(listener, selectors.EVENT_READ, router_id)
        LOG.info("router %s: metadata proxy listening on port %d", router_id, self.port)
        self._wake()

    def stop(self, router_id: str) -> None:
        with self._lock:
            listener = self._listeners.pop(router_id, None)
            if listener is None:
                return
            self._selector.unregister(listener)
            listener.close()
        LOG.info("router %s: metadata proxy stopped", router_id)
        self._wake()

    def close(self) -> None:
        if self._stopping.is_set():
            return
        for router_id in self.routers():
            self.stop(router_id)
        self._stopping.set()
        self._wake()
        self._thread.join(timeout=5)
        self._selector.close()
        self._wake_reader.close()
        self._wake_writer.close()

    def _wake(self):
        try:
            self._wake_writer.send(b"x")
        except OSError:
            pass

    def _serve(self):
        while not self._stopping.is_set():
            for key, _ in self._selector.select(timeout=1.0):
                if key.data is None:
                    self._wake_reader.recv(4096)
                    continue
                try:
                    connection, address = key.fileobj.accept()
                except (BlockingIOError, OSError):
                    continue  # closed by stop() meanwhile, or another accept won
                if not self._slots.acquire(blocking=False):
                    connection.close()
                    LOG.warning("router %s: metadata proxy busy; dropped a request from %s",
                                key.data, address[0])
                    continue
                threading.Thread(target=self._handle, args=(connection, address, key.data),
                                 name="metadata-request", daemon=True).start()

    def _handle(self, connection, address, router_id):
        try:
            connection.setblocking(True)
            connection.settimeout(REQUEST_SECONDS)
            _Request(connection, address, _Context(self, router_id))
        except Exception:  # one guest's broken request never stops the proxy
            LOG.exception("router %s: metadata request from %s failed", router_id, address[0])
        finally:
            connection.close()
            self._slots.release()

    def secret(self) -> bytes:
        if self._secret is None:
            self._secret = secrets.metadata_secret(self.config)
        return self._secret

    def instance_for(self, address: str, router_id: str) -> dict | None:
        return self.server_api.instance_for_address(address, router_id=router_id)

    def forward(self, method, path, body, headers, instance, client_ip):
        """(status, content type, body) of compute's metadata API for this instance."""
        headers = dict(headers)
        headers.update({"X-Forwarded-For": client_ip,
                        "X-Instance-ID": instance["instance_id"],
                        "X-Tenant-ID": instance["project_id"],
                        "X-Instance-ID-Signature": signature(self.secret(),
                                                             instance["instance_id"])})
        connection = http.client.HTTPConnection(*self.target, timeout=REQUEST_SECONDS)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheader("Content-Type"), response.read()
        finally:
            connection.close()


class _Context:
    """What a request handler needs: the proxy and the router whose namespace it came in by."""

    def __init__(self, proxy, router_id):
        self.proxy = proxy
        self.router_id = router_id


class _Request(BaseHTTPRequestHandler):
    server_version = "Stackbox-Metadata-Proxy"

    def do_GET(self):
        self._proxy()

    def do_HEAD(self):
        self._proxy()

    def do_POST(self):
        self._proxy()

    def do_PUT(self):
        self._proxy()

    def _proxy(self):
        proxy, router_id = self.server.proxy, self.server.router_id
        client_ip = self.client_address[0]
        try:
            instance = proxy.instance_for(client_ip, router_id)
        except Exception:
            LOG.exception("router %s: cannot look up the instance at %s", router_id, client_ip)
            return self._answer(500, b"An unknown error has occurred.\n")
        if not instance:
            LOG.info("router %s: no instance at %s asked for %s", router_id, client_ip,
                     self.path)
            return self._answer(404, b"No instance was found at this address.\n")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {name: self.headers[name] for name in FORWARDED if self.headers.get(name)}
        try:
            status, content_type, data = proxy.forward(self.command, self.path, body, headers,
                                                       instance, client_ip)
        except OSError as exc:
            LOG.error("router %s: the metadata API did not answer for instance %s: %s",
                      router_id, instance["instance_id"], exc)
            return self._answer(500, b"The metadata service is not available.\n")
        if status >= 500:
            LOG.error("router %s: the metadata API answered %d for instance %s", router_id,
                      status, instance["instance_id"])
            return self._answer(500, b"Remote metadata server experienced an internal "
                                     b"server error.\n")
        self._answer(status, data, content_type)

    def _answer(self, status: int, body: bytes, content_type: str | None = None):
        self.send_response(status)
        self.send_header("Content-Type", content_type or "text/plain; charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format, *args):
        LOG.debug("router %s: %s %s", self.server.router_id, self.address_string(),
                  format % args)
