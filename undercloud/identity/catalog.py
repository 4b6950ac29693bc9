"""The service catalog a token carries, built from the catalog tables.

Endpoint URLs may hold Keystone's templates, ``$(project_id)s`` or
``%(project_id)s``; a project-scoped token gets them filled in, and other
tokens leave such endpoints out (as Keystone does). The tables change rarely,
so the rows are cached per process and re-read when a cheap query says they
changed.
"""
import json
import re
import threading

from undercloud import db
from undercloud.identity.models import CatalogService, Endpoint

_TEMPLATE = re.compile(r"[$%]\(([A-Za-z_]+)\)s")

_lock = threading.Lock()
_cached = {"signature": None, "services": [], "by_project": {}, "json_by_project": {}}


def _signature():
    """Counts and newest change of both tables, in one round trip."""
    parts = ", ".join(f"(SELECT COUNT(*) FROM {t}), (SELECT MAX(updated_at) FROM {t})"
                      for t in (CatalogService._meta.table_name, Endpoint._meta.table_name))
    return tuple(str(value) for value in db.database.execute_sql(f"SELECT {parts}").fetchone())


def _load() -> list[dict]:
    """Enabled services with their enabled endpoints, URLs still templates."""
    services = {s.id: {"id": s.id, "type": s.type, "name": s.name, "endpoints": []}
                for s in CatalogService.select().where(CatalogService.enabled == True)  # noqa: E712
                .order_by(CatalogService.type, CatalogService.id)}
    for endpoint in (Endpoint.select().where(Endpoint.enabled == True)  # noqa: E712
                     .order_by(Endpoint.interface, Endpoint.id)):
        if endpoint.service_id in services:
            services[endpoint.service_id]["endpoints"].append({
                "id": endpoint.id, "interface": endpoint.interface,
                "region_id": endpoint.region_id, "url": endpoint.url})
    return list(services.values())


def _fill(url: str, values: dict) -> str | None:
    """The URL with its templates filled, or None when a value is missing (skip it)."""
    missing = []

    def value(match):
        name = match.group(1)
        if values.get(name) is None:
            missing.append(name)
            return ""
        return values[name]
    filled = _TEMPLATE.sub(value, url)
    return None if missing else filled


def _render(services: list[dict], project_id: str | None) -> list[dict]:
    values = {"project_id": project_id, "tenant_id": project_id}
    catalog = []
    for service in services:
        endpoints = []
        for endpoint in service["endpoints"]:
            url = _fill(endpoint["url"], values)
            if url is not None:
                endpoints.append({"id": endpoint["id"], "interface": endpoint["interface"],
                                  "region": endpoint["region_id"],
                                  "region_id": endpoint["region_id"], "url": url})
        catalog.append({"endpoints": endpoints, "id": service["id"], "type": service["type"],
                        "name": service["name"]})
    return catalog


def for_scope(project_id: str | None = None) -> list[dict]:
    """The catalog for a token scoped to project_id (None: domain or system scope)."""
    signature = _signature()
    with _lock:
        if signature != _cached["signature"]:
            _cached.update(signature=signature, services=_load(), by_project={},
                           json_by_project={})
        by_project = _cached["by_project"]
        catalog = by_project.get(project_id)
        if catalog is None:
            if len(by_project) > 1024:  # bound the memory a churn of projects may take
                by_project.clear()
            catalog = by_project[project_id] = _render(_cached["services"], project_id)
        return catalog


def json_for_scope(project_id: str | None = None) -> str:
    """for_scope() as JSON text, made once per project while the catalog is unchanged."""
    catalog = for_scope(project_id)
    with _lock:
        cached = _cached["json_by_project"]
        text = cached.get(project_id)
        if text is None or text[0] is not catalog:
            if len(cached) > 1024:
                cached.clear()
            text = cached[project_id] = (catalog, json.dumps(catalog, separators=(",", ":")))
        return text[1]


def forget():
    """Drop this process's cached catalog (after a change made here)."""
    with _lock:
        _cached.update(signature=None, services=[], by_project={}, json_by_project={})
