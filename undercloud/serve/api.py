"""The API process: one gunicorn server hosting every enabled service's app.

The apps share one process tree (a master and a few threaded workers) to keep
the undercloud compact; requests are routed to a service by the local port
they arrived on. Listening sockets come from the supervisor (fd://N).
"""
import argparse
import logging
import signal

from gunicorn.app.base import BaseApplication

from undercloud import services as registry
from undercloud.common import config as configuration
from undercloud.common import logging as logs
from undercloud.common import wsgi
from undercloud.common.process import die_with_parent


class PortDispatcher:
    """A WSGI app that hands each request to the service owning its port."""

    def __init__(self, apps_by_port: dict[int, object]):
        self.apps_by_port = apps_by_port

    def __call__(self, environ, start_response):
        app = self.apps_by_port.get(int(environ.get("SERVER_PORT") or 0))
        if app is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"no service on this port\n"]
        return app(environ, start_response)


def build(config, only=None) -> PortDispatcher:
    """The apps of the enabled services, or of `only` those named."""
    apps = {}
    for service in registry.enabled(only or config["services"]):
        logs.to_file(config, service.name, f"undercloud.{service.name}", propagate=False)
        apps[config.port(service.name)] = wsgi.create_app(config, service)
    return PortDispatcher(apps)


class ApiServer(BaseApplication):
    def __init__(self, config, fds: list[int], only=None, process_name="stackbox-api"):
        self.config, self.fds, self.only, self.process_name = config, fds, only, process_name
        super().__init__()

    def load_config(self):
        api = self.config["api"]
        settings = {
            "bind": [f"fd://{fd}" for fd in self.fds],
            "workers": api["workers"],
            "worker_class": "gthread",
            "threads": api["threads"],
            "preload_app": True,          # workers share the imported code (smaller RSS)
            "graceful_timeout": 5,        # serve must stop within 10 s
            "timeout": 120,
            # Longer than clients' poll intervals (OSC --wait polls every 5 s), so an idle
            # connection is never closed just as the client reuses it.
            "keepalive": 65,
            "errorlog": logs.log_file(self.config, self.process_name.removeprefix("stackbox-")),
            "loglevel": self.config["logging"]["level"].lower(),
            "accesslog": None,            # each service logs its own requests
            "proc_name": self.process_name,
            "post_fork": lambda server, worker: die_with_parent(signal.SIGTERM),
        }
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self):
        return build(self.config, self.only)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="stackbox-api")
    parser.add_argument("--config-json", required=True)
    parser.add_argument("--fd", type=int, action="append", default=[])
    args = parser.parse_args(argv)
    with open(args.config_json) as stream:
        config = configuration.from_json(stream.read())
    logs.setup_process(config, "api")
    logging.getLogger(__name__).info("API process serving %s",
                                     ", ".join(config["services"]))
    ApiServer(config, args.fd).run()


if __name__ == "__main__":
    main()
