"""Health probes: an API answers its version document; the bus broker answers ping."""
import http.client
import time

from undercloud import services as registry


def api_healthy(config, service_name: str, timeout: float = 1.0) -> tuple[bool, str]:
    """GET / on the service's port: any version document (200 or 300) is healthy."""
    connection = http.client.HTTPConnection(config.host, config.port(service_name),
                                            timeout=timeout)
    try:
        connection.request("GET", "/", headers={"Accept": "application/json"})
        status = connection.getresponse().status
    except OSError as exc:
        return False, exc.strerror or exc.__class__.__name__
    finally:
        connection.close()
    return status in (200, 300), f"HTTP {status}"


def bus_healthy(config, timeout: float = 1.0) -> tuple[bool, str]:
    from undercloud.bus import BusError, RpcClient
    client = RpcClient(config)
    try:
        answer = client.ping_broker(timeout=timeout)
    except BusError as exc:
        return False, str(exc)
    finally:
        client.close()
    return True, f"{sum(len(p) for p in answer.get('peers', {}).values())} peers"


def all_healthy(config) -> dict[str, tuple[bool, str]]:
    results = {"bus": bus_healthy(config)}
    for service in registry.enabled(config["services"]):
        results[service.name] = api_healthy(config, service.name)
    return results


def wait_until_healthy(config, timeout: float, alive=lambda: True) -> dict:
    """Poll until everything answers, the deadline passes, or `alive()` turns false."""
    deadline = time.monotonic() + timeout
    pending = ["bus"] + [s.name for s in registry.enabled(config["services"])]
    results = {}
    while pending and time.monotonic() < deadline and alive():
        for name in list(pending):
            ok, detail = (bus_healthy(config, 0.5) if name == "bus"
                          else api_healthy(config, name, 0.5))
            results[name] = (ok, detail)
            if ok:
                pending.remove(name)
        if pending:
            time.sleep(0.05)
    return results
