"""The RPC contract, in the spirit of Nova's compute test_rpcapi: every message an rpcapi.py
sends lands on a @remote method of the manager serving its topic, with arguments that method
takes; and every @remote method is some rpcapi's message, so nothing else is reachable.

The rpcapi modules and the managers are found, not listed: every undercloud/*/rpcapi.py, and
every manager process in the services registry.
"""
import ast
import collections
import importlib
import inspect
from pathlib import Path
from types import SimpleNamespace

import pytest

import undercloud
from undercloud.bus import remote_methods
from undercloud.serve.manager import load_manager, processes_of
from undercloud.services import SERVICES

HOST = "host1"
SOURCE = Path(undercloud.__file__).parent


class RecordingClient:
    """Stands in for RpcClient: records each message instead of sending it."""

    def __init__(self):
        self.sent = []   # (topic, method, kwargs)

    def call(self, topic, method, timeout=None, **kwargs):
        self.sent.append((topic, method, kwargs))

    def cast(self, topic, method, **kwargs):
        self.sent.append((topic, method, kwargs))

    fanout = cast


def _client_classes() -> list[type]:
    modules = [importlib.import_module(f"undercloud.{path.parent.name}.rpcapi")
               for path in sorted(SOURCE.glob("*/rpcapi.py"))]
    return [cls for module in modules for name, cls in inspect.getmembers(module, inspect.isclass)
            if cls.__module__ == module.__name__ and not name.startswith("_")
            and not issubclass(cls, BaseException)]


def _placeholders(function) -> list[dict]:
    """The method's arguments twice: required ones only, and every one (defaults replaced)."""
    parameters = [p for p in list(inspect.signature(function).parameters.values())[1:]  # self
                  if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    every = {p.name: HOST if p.name == "host" else f"<{p.name}>" for p in parameters}
    required = {p.name: every[p.name] for p in parameters if p.default is p.empty}
    return [required] if required == every else [required, every]


CASES = [pytest.param(cls, name, arguments, id=f"{cls.__module__.split('.')[1]}."
                      f"{cls.__name__}.{name}-{'all' if number else 'required'}")
         for cls in _client_classes()
         for name, function in inspect.getmembers(cls, inspect.isfunction)
         if not name.startswith("_")
         for number, arguments in enumerate(_placeholders(function))]

MANAGERS = [load_manager(process) for process in processes_of(SERVICES.values())]


def _topics(manager: type) -> list[str]:
    # The property reads only service and host, so no manager (libvirt, DB...) is built.
    return manager.topics.fget(SimpleNamespace(service=manager.service, host=HOST))


def _serving() -> dict[str, list[type]]:
    """topic -> the manager classes on it."""
    serving = collections.defaultdict(list)
    for manager in MANAGERS:
        for topic in _topics(manager):
            serving[topic].append(manager)
    return serving


SERVING = _serving()


def _send(client_class, method, arguments) -> list[tuple[str, str, dict]]:
    client = RecordingClient()
    getattr(client_class(None, client=client), method)(**arguments)
    return client.sent


def _target(topic: str) -> type:
    managers = SERVING.get(topic, [])
    assert len(managers) == 1, f"topic {topic!r} is served by {managers} (want one manager)"
    return managers[0]


@pytest.mark.parametrize("client_class, method, arguments", CASES)
def test_an_rpcapi_message_reaches_a_remote_method_that_takes_its_arguments(
        client_class, method, arguments):
    sent = _send(client_class, method, arguments)

    assert sent, f"{client_class.__name__}.{method} sent nothing on the bus"
    for topic, name, kwargs in sent:
        manager = _target(topic)
        function = remote_methods(manager).get(name)
        assert function, f"{manager.__name__}.{name} (topic {topic}) is not marked @remote"
        try:
            inspect.signature(function).bind(None, **kwargs)  # None stands for self
        except TypeError as exc:
            pytest.fail(f"{manager.__name__}.{name} does not take {sorted(kwargs)}: {exc}")


def test_every_remote_method_is_the_message_of_some_rpcapi():
    sent = {(_target(topic).__name__, name)
            for case in CASES for topic, name, _ in _send(*case.values)}
    marked = {(manager.__name__, name) for manager in MANAGERS for name in remote_methods(manager)}

    # Unsent remote methods would be reachable from the bus without a contract: unmark them.
    assert sorted(marked - sent) == []


def test_the_contract_covers_every_manager():
    assert {manager.__name__ for manager in MANAGERS} == {
        "ComputeConductor", "ComputeManager", "NetworkServer", "NetworkAgent",
        "BaremetalConductor"}
    assert all(remote_methods(manager) for manager in MANAGERS)


def test_only_rpcapi_modules_send_on_the_bus():
    # The bus itself, the typed clients, and health's ping of the broker may hold an RpcClient.
    allowed = ("bus/", "serve/health.py")
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        relative = path.relative_to(SOURCE).as_posix()
        if relative.startswith(allowed) or relative.endswith("/rpcapi.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text(), relative)):
            bare_client = isinstance(node, ast.Name) and node.id == "RpcClient"
            reached_through = (isinstance(node, ast.Attribute)  # e.g. agents.client.cast(...)
                               and node.attr in ("call", "cast", "fanout")
                               and isinstance(node.value, ast.Attribute)
                               and node.value.attr == "client")
            if bare_client or reached_through:
                found.append(f"{relative}:{node.lineno}")

    assert found == [], "bus messages sent outside an rpcapi.py: add them to its client"
