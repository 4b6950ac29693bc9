"""@remote: the methods of an endpoint that RpcServer may run; anything else is NoSuchMethod.

A manager marks exactly the messages its service's rpcapi.py sends, so run, stop, reconcile
and the rest of its public methods are never reachable from the bus.
"""
import inspect
import types

_MARK = "_bus_remote"


def remote(method):
    """Mark a method as callable over the bus (its name is the message)."""
    if method.__name__.startswith("_"):
        raise ValueError(f"{method.__qualname__}: a private method cannot be a bus message")
    setattr(method, _MARK, True)
    return method


def remote_methods(endpoint) -> dict:
    """{name: method} of what endpoint (an instance: bound; a class: plain functions) serves.

    Read from the class, so an instance attribute or a property never counts."""
    cls = endpoint if isinstance(endpoint, type) else type(endpoint)
    marked = {}
    for name in dir(cls):
        function = inspect.getattr_static(cls, name)
        if getattr(function, _MARK, False) is True:  # `is True`: a Mock answers any attribute
            marked[name] = function if endpoint is cls else types.MethodType(function, endpoint)
    return marked
