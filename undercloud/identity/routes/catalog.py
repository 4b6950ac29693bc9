"""Identity routes: the service catalog's regions, services and endpoints.

Tokens carry the catalog built from these rows. A region may name its own id; an
endpoint needs an existing service (and region, when it names one).
"""
import peewee
from flask import Blueprint, g

from undercloud import db
from undercloud.common.errors import BadRequest, Conflict, Forbidden
from undercloud.common.validation import validate
from undercloud.identity import lookup, policy, views
from undercloud.identity.models import CatalogService, Endpoint, Region

blueprint = Blueprint("identity_catalog", __name__)

# Keystone allows 255 characters; ids here are stored in 64 (BaseModel's id column).
REGION_ID = {"type": "string", "minLength": 1, "maxLength": 64}
_REGION_FIELDS = {"description": {"type": ["string", "null"]},
                  "parent_region_id": {"anyOf": [REGION_ID, {"type": "null"}]}}
CREATE_REGION = {"type": "object", "required": ["region"], "additionalProperties": False,
                 "properties": {"region": {"type": "object", "properties": {
                     **_REGION_FIELDS, "id": {"type": "string", "maxLength": 64}}}}}
UPDATE_REGION = {"type": "object", "required": ["region"], "additionalProperties": False,
                 "properties": {"region": {"type": "object", "minProperties": 1, "properties": {
                     **_REGION_FIELDS, "id": {"type": "string"}}}}}

_SERVICE_FIELDS = {"type": {"type": "string", "minLength": 1, "maxLength": 255},
                   "name": {"type": "string", "maxLength": 255},
                   "enabled": {"type": "boolean"},
                   "description": {"type": ["string", "null"]}}
CREATE_SERVICE = {"type": "object", "required": ["service"], "additionalProperties": False,
                  "properties": {"service": {"type": "object", "required": ["type"],
                                             "properties": _SERVICE_FIELDS}}}
UPDATE_SERVICE = {"type": "object", "required": ["service"], "additionalProperties": False,
                  "properties": {"service": {"type": "object", "minProperties": 1,
                                             "properties": {**_SERVICE_FIELDS,
                                                            "id": {"type": "string"}}}}}

INTERFACES = ["admin", "internal", "public"]
_ENDPOINT_FIELDS = {"interface": {"enum": INTERFACES},
                    "service_id": {"type": "string"},
                    "url": {"type": "string", "maxLength": 225,
                            "pattern": "^[a-zA-Z0-9+.-]+:.+"},
                    "region_id": {"type": ["string", "null"]},
                    "region": {"type": ["string", "null"]},
                    "enabled": {"type": "boolean"}}
CREATE_ENDPOINT = {"type": "object", "required": ["endpoint"], "additionalProperties": False,
                   "properties": {"endpoint": {"type": "object",
                                               "required": ["interface", "service_id", "url"],
                                               "properties": _ENDPOINT_FIELDS}}}
UPDATE_ENDPOINT = {"type": "object", "required": ["endpoint"], "additionalProperties": False,
                   "properties": {"endpoint": {"type": "object", "minProperties": 1,
                                               "properties": {**_ENDPOINT_FIELDS,
                                                              "id": {"type": "string"}}}}}


def _extra(body: dict, fields: dict, current: dict | None = None) -> dict:
    extra = dict(current or {})
    extra.update({k: v for k, v in body.items() if k not in fields and k not in views.RESERVED})
    return extra


def _not_in_table(attribute: str, table: str) -> BadRequest:
    """Keystone's ValidationError wording for a reference to a row that is not there."""
    return BadRequest(f"Expecting to find {attribute} in {table}. The server could not comply "
                      "with the request since it is either malformed or otherwise incorrect. "
                      "The client is assumed to be in error.")


# --- regions -------------------------------------------------------------------------------

def _create_region(region_id: str, body: dict):
    try:
        with db.transaction():
            if Region.get_or_none(Region.id == region_id):
                raise Conflict("Conflict occurred attempting to store region - "
                               f"Duplicate ID, {region_id}.")
            parent_id = body.get("parent_region_id")
            if parent_id:
                lookup.get_region(parent_id)
            region = Region.create(id=region_id, description=body.get("description") or "",
                                   parent_region_id=parent_id,
                                   extra=_extra(body, _REGION_FIELDS))
    except peewee.IntegrityError:
        raise Conflict("Conflict occurred attempting to store region - "
                       f"Duplicate ID, {region_id}.") from None
    return {"region": views.region(region)}, 201


@blueprint.post("/v3/regions")
@validate(CREATE_REGION)
def create_region():
    policy.enforce("identity:create_region")
    body = g.body["region"]
    return _create_region(body.get("id") or db.new_id(), body)


@blueprint.put("/v3/regions/<region_id>")
@validate(CREATE_REGION)
def create_region_with_id(region_id):
    policy.enforce("identity:create_region")
    body = g.body["region"]
    if "id" in body and body["id"] != region_id:
        raise BadRequest(f'Conflicting region IDs specified: "{region_id}" != "{body["id"]}"')
    if len(region_id) > REGION_ID["maxLength"]:
        raise BadRequest(f"Invalid region id {region_id!r}: at most "
                         f"{REGION_ID['maxLength']} characters.")
    return _create_region(region_id, body)


@blueprint.get("/v3/regions")
def list_regions():
    policy.enforce("identity:list_regions")
    regions = [views.region(r) for r in Region.select().order_by(Region.id)]
    return views.collection("regions", regions, filters=("parent_region_id",))


@blueprint.get("/v3/regions/<region_id>")
def show_region(region_id):
    policy.enforce("identity:get_region")
    return {"region": views.region(lookup.get_region(region_id))}


def _check_parent(region_id: str, parent_id: str):
    """The new parent must exist and must not be the region or one of its descendants."""
    lookup.get_region(parent_id)
    seen, step = set(), parent_id
    while step and step not in seen:
        if step == region_id:
            raise BadRequest(f"The specified parent region {parent_id} would create a "
                             "circular region hierarchy.")
        seen.add(step)
        above = Region.get_or_none(Region.id == step)
        step = above.parent_region_id if above else None


@blueprint.patch("/v3/regions/<region_id>")
@validate(UPDATE_REGION)
def update_region(region_id):
    policy.enforce("identity:update_region")
    update = g.body["region"]
    if "id" in update and update["id"] != region_id:
        raise BadRequest("Cannot change ID")
    with db.transaction():
        region = lookup.get_region(region_id)
        if update.get("parent_region_id"):
            _check_parent(region.id, update["parent_region_id"])
        if "parent_region_id" in update:
            region.parent_region_id = update["parent_region_id"]
        if "description" in update:
            region.description = update["description"] or ""
        region.extra = _extra({k: v for k, v in update.items() if k != "id"},
                              _REGION_FIELDS, region.extra)
        region.save()
    return {"region": views.region(region)}


def _region_subtree(region_id: str) -> list[str]:
    found, frontier = [region_id], [region_id]
    while frontier:
        children = [r.id for r in Region.select(Region.id)
                    .where(Region.parent_region_id.in_(frontier))]
        frontier = [c for c in children if c not in found]
        found.extend(frontier)
    return found


@blueprint.delete("/v3/regions/<region_id>")
def delete_region(region_id):
    policy.enforce("identity:delete_region")
    with db.transaction():
        lookup.get_region(region_id)
        doomed = _region_subtree(region_id)
        if Endpoint.select().where(Endpoint.region_id.in_(doomed)).exists():
            raise Forbidden(f"Unable to delete region {region_id} because it or its child "
                            "regions have associated endpoints.")
        # Keystone deletes the child regions along with it.
        Region.delete().where(Region.id.in_(doomed)).execute()
    return "", 204


# --- services ------------------------------------------------------------------------------

@blueprint.post("/v3/services")
@validate(CREATE_SERVICE)
def create_service():
    policy.enforce("identity:create_service")
    body = g.body["service"]
    with db.transaction():
        service = CatalogService.create(type=body["type"], name=body.get("name") or "",
                                        description=body.get("description") or "",
                                        enabled=body.get("enabled", True),
                                        extra=_extra(body, _SERVICE_FIELDS))
    return {"service": views.service(service)}, 201


@blueprint.get("/v3/services")
def list_services():
    policy.enforce("identity:list_services")
    services = [views.service(s) for s in CatalogService.select()
                .order_by(CatalogService.type, CatalogService.name)]
    return views.collection("services", services, filters=("type", "name"))


@blueprint.get("/v3/services/<service_id>")
def show_service(service_id):
    policy.enforce("identity:get_service")
    return {"service": views.service(lookup.get_service(service_id))}


@blueprint.patch("/v3/services/<service_id>")
@validate(UPDATE_SERVICE)
def update_service(service_id):
    policy.enforce("identity:update_service")
    update = g.body["service"]
    if "id" in update and update["id"] != service_id:
        raise BadRequest("Cannot change ID")
    with db.transaction():
        service = lookup.get_service(service_id)
        for field in ("type", "name", "enabled"):
            if field in update:
                setattr(service, field, update[field])
        if "description" in update:
            service.description = update["description"] or ""
        service.extra = _extra({k: v for k, v in update.items() if k != "id"},
                               _SERVICE_FIELDS, service.extra)
        service.save()
    return {"service": views.service(service)}


@blueprint.delete("/v3/services/<service_id>")
def delete_service(service_id):
    policy.enforce("identity:delete_service")
    with db.transaction():
        lookup.get_service(service_id).delete_instance()  # its endpoints cascade
    return "", 204


# --- endpoints -----------------------------------------------------------------------------

def _region_for(body: dict) -> dict:
    """Keystone's legacy `region`: an endpoint naming an unknown region creates it."""
    if body.get("region_id") is None and body.get("region") is not None:
        region_id = body["region"]
        if Region.get_or_none(Region.id == region_id) is None:
            Region.create(id=region_id, description="")
        body = {**body, "region_id": region_id}
    return body


def _check_references(body: dict):
    if body.get("region_id") is not None and \
            Region.get_or_none(Region.id == body["region_id"]) is None:
        raise _not_in_table("endpoint region_id", "region table")
    if "service_id" in body and \
            CatalogService.get_or_none(CatalogService.id == body["service_id"]) is None:
        raise _not_in_table("endpoint service_id", "service table")


@blueprint.post("/v3/endpoints")
@validate(CREATE_ENDPOINT)
def create_endpoint():
    policy.enforce("identity:create_endpoint")
    with db.transaction():
        body = _region_for(g.body["endpoint"])
        _check_references(body)
        endpoint = Endpoint.create(service=body["service_id"], interface=body["interface"],
                                   url=body["url"], region_id=body.get("region_id"),
                                   enabled=body.get("enabled", True),
                                   extra=_extra(body, _ENDPOINT_FIELDS))
    return {"endpoint": views.endpoint(endpoint)}, 201


@blueprint.get("/v3/endpoints")
def list_endpoints():
    policy.enforce("identity:list_endpoints")
    endpoints = [views.endpoint(e) for e in Endpoint.select().order_by(Endpoint.id)]
    return views.collection("endpoints", endpoints,
                            filters=("interface", "service_id", "region_id"))


@blueprint.get("/v3/endpoints/<endpoint_id>")
def show_endpoint(endpoint_id):
    policy.enforce("identity:get_endpoint")
    return {"endpoint": views.endpoint(lookup.get_endpoint(endpoint_id))}


@blueprint.patch("/v3/endpoints/<endpoint_id>")
@validate(UPDATE_ENDPOINT)
def update_endpoint(endpoint_id):
    policy.enforce("identity:update_endpoint")
    if "id" in g.body["endpoint"] and g.body["endpoint"]["id"] != endpoint_id:
        raise BadRequest("Cannot change ID")
    with db.transaction():
        endpoint = lookup.get_endpoint(endpoint_id)
        update = _region_for(g.body["endpoint"])
        _check_references(update)
        if "service_id" in update:
            endpoint.service = update["service_id"]
        for field in ("interface", "url", "region_id", "enabled"):
            if field in update:
                setattr(endpoint, field, update[field])
        endpoint.extra = _extra({k: v for k, v in update.items() if k != "id"},
                                _ENDPOINT_FIELDS, endpoint.extra)
        endpoint.save()
    return {"endpoint": views.endpoint(endpoint)}


@blueprint.delete("/v3/endpoints/<endpoint_id>")
def delete_endpoint(endpoint_id):
    policy.enforce("identity:delete_endpoint")
    with db.transaction():
        lookup.get_endpoint(endpoint_id).delete_instance()
    return "", 204
