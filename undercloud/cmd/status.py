"""`stackbox status`: each service's health, as the supervisor and the probes see it."""
from undercloud import services as registry
from undercloud.serve import health, runfile

NOT_RUNNING = 3  # as `systemctl status` answers for a stopped unit


def status(config) -> int:
    state = runfile.read_state(config)
    if state is None:
        print(f"stackbox is not running (data dir {config['data_dir']})")
        return NOT_RUNNING
    print(f"stackbox serve pid {state['pid']}, data dir {state['data_dir']}")
    print(f"{'SERVICE':<16}{'STATE':<10}{'ENDPOINT':<30}DETAIL")
    children = state.get("children", {})
    rows = [("bus", health.bus_healthy(config), config.bus_url, children.get("bus", {}))]
    for service in registry.enabled(state["services"]):
        rows.append((service.name, health.api_healthy(config, service.name),
                     config.endpoint(service.name), children.get("api", {})))
    healthy = True
    for name, (ok, detail), endpoint, child in rows:
        healthy &= ok
        extra = f"pid {child.get('pid')}, restarts {child.get('restarts', 0)}; " if child else ""
        print(f"{name:<16}{'healthy' if ok else 'DOWN':<10}{endpoint:<30}{extra}{detail}")
    return 0 if healthy else 1
