"""The provisioning network's HTTP server, a thread of the conductor: iPXE scripts, the deploy
ramdisk, published deploy images, the package repository overcloud hosts install from, and a
proxy for the ramdisk's three agent endpoints to the bare metal API (which binds to loopback;
nodes reach it only through here).

    /ipxe/<name>.ipxe                    <root>/ipxe/
    /ramdisk/vmlinuz, /ramdisk/initrd.img  the configured deploy kernel and ramdisk
    /images/<random>/<name>.raw          <root>/images/
    /configdrives/<random>/<name>.iso    <root>/configdrives/
    /repo/<path>                         <repo_root>/ (DATA_DIR/repo); a folder only as its
                                         index.html (pip reads /repo/python/ so)
    /v1/lookup, /v1/heartbeat/<node>, /v1/continue_inspection   proxied to the API

Every request is logged and kept in `records` (the random path part of an image or a config
drive masked).
"""
import collections
import http.client
import http.server
import json
import logging
import mimetypes
import os
import re
import threading
import time
import urllib.parse

LOG = logging.getLogger(__name__)
# The API answers a heartbeat after a bus call to the conductor (30 s by default).
PROXY_TIMEOUT = 90
RECORDS_KEPT = 2000
AGENT_PATH = re.compile(r"^/v1/(lookup|continue_inspection|heartbeat/[A-Za-z0-9._~-]+)$")
SCRIPT_PATH = re.compile(r"^/ipxe/([a-z0-9-]+\.ipxe)$")
IMAGE_PATH = re.compile(r"^/images/([A-Za-z0-9_-]{16,})/([A-Za-z0-9._-]+\.raw)$")
CONFIGDRIVE_PATH = re.compile(r"^/configdrives/([A-Za-z0-9_-]{16,})/([A-Za-z0-9._-]+\.iso)$")
RAMDISK_PATHS = ("/ramdisk/vmlinuz", "/ramdisk/initrd.img")
REPO_PREFIX = "/repo/"
FORWARDED = ("Content-Type", "Accept", "User-Agent", "X-OpenStack-Ironic-API-Version",
             "OpenStack-API-Version")
RETURNED = ("X-OpenStack-Ironic-API-Minimum-Version",
            "X-OpenStack-Ironic-API-Maximum-Version", "X-OpenStack-Ironic-API-Version",
            "OpenStack-API-Version", "X-OpenStack-Request-Id", "Location")


class HttpError(Exception):
    """The server cannot listen; the message names the address."""


def ironic_error(message: str, server_fault: bool = False) -> bytes:
    """Ironic's error body: a JSON document nested in a string."""
    fault = {"faultcode": "Server" if server_fault else "Client", "faultstring": message,
             "debuginfo": None}
    return json.dumps({"error_message": json.dumps(fault)}).encode()


def repo_file(repo_root: str | None, path: str) -> str | None:
    """The file a /repo/ path names (a folder's index.html for a path ending in /), or None:
    no repository, a hidden or empty name, or a way out of it (.., a symlink leading out)."""
    if repo_root is None:
        return None
    # apt asks a flat repository ("deb URL ./") for ./Packages: "." is no step at all.
    parts = [part for part in urllib.parse.unquote(path[len(REPO_PREFIX):]).split("/")
             if part != "."]
    if not parts:
        return None
    if parts[-1] == "":
        parts[-1] = "index.html"
    if any(part == "" or part.startswith(".") or "\0" in part for part in parts):
        return None
    top = os.path.realpath(repo_root)
    target = os.path.realpath(os.path.join(top, *parts))
    return target if target.startswith(top + os.sep) else None


def masked(path: str) -> str:
    """The path as logs show it: an image's or a config drive's unguessable part hidden."""
    for pattern in (IMAGE_PATH, CONFIGDRIVE_PATH):
        if match := pattern.match(path):
            return f"/{path.split('/')[1]}/***/{match.group(2)}"
    return path


class _Handler(http.server.BaseHTTPRequestHandler):
    server_version = "stackbox-provisioning"
    protocol_version = "HTTP/1.0"
    timeout = 120      # seconds a silent client may hold its thread

    def do_GET(self):
        self._serve()

    def do_HEAD(self):
        self._serve()

    def do_POST(self):
        self._serve()

    def _serve(self):
        self.sent = 0
        self.status = None
        files = self.server.files
        path = urllib.parse.urlsplit(self.path).path
        try:
            if AGENT_PATH.match(path):
                self._proxy(files.agent_endpoint, files.max_body)
            elif self.command == "POST":
                self._reply(405, b"Method Not Allowed\n")
            elif match := SCRIPT_PATH.match(path):
                self._send_file(os.path.join(files.root, "ipxe", match.group(1)), "text/plain")
            elif path in RAMDISK_PATHS:
                self._send_file(files.ramdisk[path], "application/octet-stream")
            elif match := IMAGE_PATH.match(path):
                self._send_file(os.path.join(files.root, "images", *match.groups()),
                                "application/octet-stream")
            elif match := CONFIGDRIVE_PATH.match(path):
                self._send_file(os.path.join(files.root, "configdrives", *match.groups()),
                                "application/octet-stream")
            elif path.startswith(REPO_PREFIX):
                self._send_repo_file(files.repo_root, path)
            else:
                self._reply(404, b"Not Found\n")
        except (BrokenPipeError, ConnectionResetError):
            self.status = self.status or 499   # the client went away mid-answer
        files.record(self.client_address[0], self.command, masked(path), self.status,
                     self.sent)

    def _reply(self, status: int, body: bytes, content_type: str = "text/plain",
               headers: dict | None = None):
        self.status = status
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
            self.sent = len(body)

    def _send_file(self, path: str, content_type: str):
        try:
            stream = open(path, "rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return self._reply(404, b"Not Found\n")
        with stream:
            size = os.fstat(stream.fileno()).st_size
            self.status = 200
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            if self.command != "HEAD":
                self.sent = self.connection.sendfile(stream)

    def _send_repo_file(self, repo_root: str | None, path: str):
        target = repo_file(repo_root, path)
        if target is None:
            return self._reply(404, b"Not Found\n")
        if os.path.isdir(target):
            # A folder without its slash: relative links in its index.html need the slash.
            return self._reply(301, b"Moved Permanently\n", headers={"Location": path + "/"})
        self._send_file(target, mimetypes.guess_type(target)[0] or "application/octet-stream")

    def _proxy(self, endpoint: str, max_body: int):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._reply(411, ironic_error("send the body with a Content-Length"),
                               "application/json")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= max_body:
            return self._reply(413, ironic_error(f"the body must be 0 to {max_body} bytes"),
                               "application/json")
        body = self.rfile.read(length) if length else None
        target = urllib.parse.urlsplit(endpoint)
        headers = {name: self.headers[name] for name in FORWARDED if self.headers[name]}
        connection = http.client.HTTPConnection(target.hostname, target.port,
                                                timeout=PROXY_TIMEOUT)
        try:
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
        except (OSError, http.client.HTTPException) as exc:
            LOG.warning("the bare metal API at %s did not answer %s %s: %s", endpoint,
                        self.command, urllib.parse.urlsplit(self.path).path, exc)
            return self._reply(503, ironic_error(f"the bare metal API is unreachable from "
                                                 f"the provisioning network: {exc}", True),
                               "application/json")
        finally:
            connection.close()
        returned = {name: response.headers[name] for name in RETURNED
                    if response.headers[name]}
        self._reply(response.status, answer,
                    response.headers["Content-Type"] or "application/json", returned)

    def log_message(self, format, *args):
        """Requests are logged once, by HttpServer.record."""


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # A stop must not wait on a client gone silent mid-download (a lab host removed first).
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address, files):
        self.files = files
        super().__init__(address, _Handler)


class HttpServer:
    def __init__(self, address: str, port: int, root: str, ramdisk: dict[str, str],
                 agent_endpoint: str, max_body: int, repo_root: str | None = None):
        self.address, self.port, self.root = address, port, root
        self.ramdisk = ramdisk                   # {"/ramdisk/vmlinuz": path, ...}
        self.repo_root = repo_root               # DATA_DIR/repo; None: no /repo/
        self.agent_endpoint = agent_endpoint
        self.max_body = max_body
        self.records = collections.deque(maxlen=RECORDS_KEPT)
        self._server = None
        self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        try:
            self._server = _Server((self.address, self.port), self)
        except OSError as exc:
            raise HttpError(f"the provisioning HTTP server cannot listen on "
                            f"{self.address}:{self.port}: {exc.strerror}") from None
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.1,),
                                        name="provisioning-http", daemon=True)
        self._thread.start()
        LOG.info("provisioning HTTP server on %s:%d", self.address, self.port)

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self._server = self._thread = None
        LOG.info("provisioning HTTP server on %s:%d stopped", self.address, self.port)

    def record(self, client: str, method: str, path: str, status: int | None, sent: int):
        self.records.append({"at": time.time(), "client": client, "method": method,
                             "path": path, "status": status, "bytes": sent})
        LOG.info("HTTP %s %s %s -> %s (%d bytes)", client, method, path, status, sent)
