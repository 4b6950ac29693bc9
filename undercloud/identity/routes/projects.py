"""Identity routes: projects (/v3/projects) and their tags.

Projects form a tree inside their domain: parent_id is the parent project, or the
domain for a top-level project. A project with children cannot be deleted, nor
disabled while a child is enabled. As in Keystone, a domain is also reachable here
as a project acting as a domain (is_domain true).
"""
import peewee
from flask import Blueprint, g, request

from undercloud import db
from undercloud.common.errors import BadRequest, Conflict, Forbidden, NotFound
from undercloud.common.validation import check, validate
from undercloud.identity import lookup, policy, revocation, views
from undercloud.identity.models import DEFAULT_DOMAIN_ID, Domain, Project, RoleAssignment
from undercloud.identity.routes import domains as domain_routes
from undercloud.identity.routes.domains import NAME, RESOURCE_OPTIONS, TAG, TAGS

blueprint = Blueprint("identity_projects", __name__)

# Keystone's [DEFAULT] max_project_tree_depth, plus one for the domain at the top.
MAX_TREE_DEPTH = 5 + 1

ID = {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[a-zA-Z0-9-]+$"}

_FIELDS = {"name": NAME, "description": {"type": ["string", "null"]},
           "enabled": {"type": "boolean"}, "tags": TAGS, "options": RESOURCE_OPTIONS,
           "is_domain": {"type": "boolean"},
           "domain_id": {"anyOf": [ID, {"type": "null"}]},
           "parent_id": {"anyOf": [ID, {"type": "null"}]}}
CREATE = {"type": "object", "required": ["project"], "additionalProperties": False,
          "properties": {"project": {"type": "object", "required": ["name"],
                                     "properties": _FIELDS}}}
UPDATE = {"type": "object", "required": ["project"], "additionalProperties": False,
          "properties": {"project": {"type": "object", "minProperties": 1,
                                     "properties": _FIELDS}}}
TAGS_BODY = {"type": "object", "required": ["tags"], "additionalProperties": False,
             "properties": {"tags": TAGS}}


def _duplicate(name: str, project_id: str) -> Conflict:
    return Conflict("Conflict occurred attempting to store project - it is not permitted to "
                    "have two projects with either the same name or same id in the same "
                    f"domain: name is {name}, project id {project_id}.")


def _extra(body: dict, current: dict | None = None) -> dict:
    extra = dict(current or {})
    extra.update({k: v for k, v in body.items() if k not in _FIELDS and k not in views.RESERVED})
    return extra


def ancestors(project: Project) -> list[Project]:
    """The project's parents, nearest first (the domain is not among them)."""
    found, seen = [], {project.id}
    parent_id = project.parent_id
    while parent_id and parent_id not in seen:
        parent = Project.get_or_none(Project.id == parent_id)
        if parent is None:
            break
        found.append(parent)
        seen.add(parent.id)
        parent_id = parent.parent_id
    return found


def subtree(project: Project) -> list[Project]:
    """Every project below this one, parents before children."""
    found, frontier = [], [project.id]
    while frontier:
        children = list(Project.select().where(Project.parent.in_(frontier)).order_by(Project.name))
        found.extend(children)
        frontier = [c.id for c in children]
    return found


def _target(row, project_id: str) -> dict:
    if isinstance(row, Domain):
        return {"project": {"id": row.id, "domain_id": None, "name": row.name}}
    if row is None:
        return {"project": {"id": project_id}}
    return {"project": {"id": row.id, "domain_id": row.domain_id, "name": row.name}}


def find_for(action: str, project_id: str, domains: bool = False):
    """The project (or, with `domains`, a domain acting as one) after the caller passed
    `action` on it: 403 comes before 404, as in Keystone."""
    row = Project.get_or_none(Project.id == project_id)
    if row is None and domains:
        row = Domain.get_or_none(Domain.id == project_id)
    policy.enforce(action, _target(row, project_id))
    if row is None:
        lookup.get_project(project_id)
    return row


def _parent_for(body: dict, domain_id: str | None) -> tuple[Project | None, str]:
    """(parent project or None, domain id) for a new project, checked as Keystone does."""
    parent_id = body.get("parent_id")
    if parent_id and parent_id != domain_id:
        parent = Project.get_or_none(Project.id == parent_id)
        if parent is None:
            if Domain.get_or_none(Domain.id == parent_id) and domain_id in (None, parent_id):
                return None, parent_id  # a domain named as parent: a top-level project
            raise BadRequest(f"Could not find project: {parent_id}.")
        if domain_id and parent.domain_id != domain_id:
            raise BadRequest(f"Cannot create project, since it specifies its domain_id "
                             f"{domain_id}, but specifies a parent in a different domain "
                             f"({parent.domain_id}).")
        return parent, parent.domain_id
    return None, domain_id


@blueprint.post("/v3/projects")
@validate(CREATE)
def create_project():
    body = g.body["project"]
    if body.get("is_domain"):
        if body.get("domain_id") or body.get("parent_id"):
            raise BadRequest("only root projects are allowed to act as domains.")
        policy.enforce("identity:create_project", {"project": body})
        return {"project": views.domain_as_project(domain_routes.add(body))}, 201
    # Keystone's default: the token's domain, else the default domain.
    default_domain = g.context.domain_id or DEFAULT_DOMAIN_ID
    policy.enforce("identity:create_project",
                   {"project": {**body, "domain_id": body.get("domain_id") or default_domain}})
    parent, domain_id = _parent_for(body, body.get("domain_id"))
    domain_id = domain_id or default_domain
    name = body["name"].strip()
    project_id = db.new_id()
    try:
        with db.transaction():
            if Domain.get_or_none(Domain.id == domain_id) is None:
                raise BadRequest(f"Could not find domain: {domain_id}.")
            if parent is not None:
                parents = [parent, *ancestors(parent)]
                for above in parents:
                    if not above.enabled:
                        raise BadRequest("cannot create a project in a branch containing a "
                                         f"disabled project: {above.id}")
                if len(parents) + 2 > MAX_TREE_DEPTH:
                    raise Forbidden(f"Max hierarchy depth reached for {parent.id} branch.")
            if Project.get_or_none(Project.domain == domain_id, Project.name == name):
                raise _duplicate(name, project_id)
            project = Project.create(
                id=project_id, name=name, domain=domain_id, parent=parent,
                description=body.get("description") or "", enabled=body.get("enabled", True),
                tags=body.get("tags") or [],
                options=lookup.merge_options({}, body.get("options")), extra=_extra(body))
    except peewee.IntegrityError:
        raise _duplicate(name, project_id) from None
    return {"project": views.project(project)}, 201


def _tag_filter(refs: list[dict]) -> list[dict]:
    """Keystone's tags, tags-any, not-tags and not-tags-any filters (comma separated)."""
    for key in ("tags", "tags-any", "not-tags", "not-tags-any"):
        if key not in request.args:
            continue
        wanted = {t for t in request.args[key].split(",") if t}
        test = all if key.endswith("tags") else any
        keep = not key.startswith("not-")
        refs = [r for r in refs if test(t in r["tags"] for t in wanted) == keep]
    return refs


@blueprint.get("/v3/projects")
def list_projects():
    context = g.context
    policy.enforce("identity:list_projects",
                   {"domain_id": context.domain_id} if context.domain_id else None)
    if "is_domain" in request.args and views.as_boolean(request.args["is_domain"]):
        domains = Domain.select().order_by(Domain.name)
        if context.domain_id:
            domains = domains.where(Domain.id == context.domain_id)
        return views.collection("projects", [views.domain_as_project(d) for d in domains],
                                filters=("name", "enabled"))
    projects = Project.select().order_by(Project.name)
    if context.domain_id:
        # A domain-scoped reader sees only the projects of their domain.
        projects = projects.where(Project.domain == context.domain_id)
    refs = _tag_filter([views.project(p) for p in projects])
    return views.collection("projects", refs,
                            filters=("domain_id", "enabled", "name", "parent_id"))


def _as_flag(name: str) -> bool:
    return name in request.args and request.args[name] != "0"


@blueprint.get("/v3/projects/<project_id>")
def show_project(project_id):
    project = find_for("identity:get_project", project_id, domains=True)
    if isinstance(project, Domain):
        return {"project": views.domain_as_project(project)}
    body = views.project(project)
    if _as_flag("parents_as_list") and _as_flag("parents_as_ids"):
        raise BadRequest("Cannot use parents_as_list and parents_as_ids query params at the "
                         "same time.")
    if _as_flag("subtree_as_list") and _as_flag("subtree_as_ids"):
        raise BadRequest("Cannot use subtree_as_list and subtree_as_ids query params at the "
                         "same time.")
    if _as_flag("parents_as_list"):
        body["parents"] = [{"project": views.project(p)} for p in ancestors(project)]
    elif _as_flag("parents_as_ids"):
        nested = None  # {parent: {grandparent: {domain: None}}}
        for parent in [project.domain_id] + [p.id for p in reversed(ancestors(project))]:
            nested = {parent: nested}
        body["parents"] = nested
    if _as_flag("subtree_as_list"):
        body["subtree"] = [{"project": views.project(p)} for p in subtree(project)]
    elif _as_flag("subtree_as_ids"):
        body["subtree"] = _subtree_ids(project.id)
    return {"project": body}


def _subtree_ids(project_id: str) -> dict | None:
    children = Project.select(Project.id).where(Project.parent == project_id)
    return {c.id: _subtree_ids(c.id) for c in children} or None


@blueprint.patch("/v3/projects/<project_id>")
@validate(UPDATE)
def update_project(project_id):
    project = find_for("identity:update_project", project_id, domains=True)
    update = g.body["project"]
    if isinstance(project, Domain):
        return {"project": views.domain_as_project(_update_acting_domain(project, update))}
    disabled = False
    try:
        with db.transaction():
            project = lookup.get_project(project_id)
            lookup.check_update_allowed("project", project.id, project.options, update)
            if "domain_id" in update and update["domain_id"] != project.domain_id:
                raise BadRequest("Cannot change Domain ID")
            parent_id = project.parent_id or project.domain_id
            if "parent_id" in update and update["parent_id"] != parent_id:
                raise Forbidden("Update of `parent_id` is not allowed.")
            if update.get("is_domain"):
                raise BadRequest("Update of `is_domain` is not allowed.")
            if "name" in update:
                name = update["name"].strip()
                if name != project.name and Project.get_or_none(
                        Project.domain == project.domain_id, Project.name == name):
                    raise _duplicate(name, project.id)
                project.name = name
            if "enabled" in update and update["enabled"] != project.enabled:
                _check_enabled_change(project, update["enabled"])
                disabled = not update["enabled"]
                project.enabled = update["enabled"]
            if "description" in update:
                project.description = update["description"] or ""
            if "tags" in update:
                project.tags = update["tags"] or []
            if "options" in update:
                project.options = lookup.merge_options(project.options, update["options"])
            project.extra = _extra(update, project.extra)
            project.save()
    except peewee.IntegrityError:
        raise _duplicate(update.get("name"), project_id) from None
    if disabled:
        revocation.revoke(project_id=project.id)
    return {"project": views.project(project)}


def _update_acting_domain(domain: Domain, update: dict) -> Domain:
    if update.get("is_domain") is False:
        raise BadRequest("Update of `is_domain` is not allowed.")
    if update.get("domain_id") or update.get("parent_id"):
        raise Forbidden("Update of `parent_id` is not allowed.")
    return domain_routes.change(domain.id, {k: v for k, v in update.items()
                                            if k not in ("is_domain", "domain_id", "parent_id")})


def _check_enabled_change(project: Project, enabled: bool):
    if enabled and any(not p.enabled for p in ancestors(project)):
        raise Forbidden(f"Cannot enable project {project.id} since it has disabled parents")
    if not enabled and any(child.enabled for child in subtree(project)):
        raise Forbidden(f"Cannot disable project {project.id} since its subtree contains "
                        "enabled projects.")


@blueprint.delete("/v3/projects/<project_id>")
def delete_project(project_id):
    row = find_for("identity:delete_project", project_id, domains=True)
    if isinstance(row, Domain):
        domain_routes.remove(row.id, BadRequest(
            "cannot delete an enabled project acting as a domain. Please disable the "
            f"project {row.id} first."))
        return "", 204
    with db.transaction():
        project = lookup.get_project(project_id)
        lookup.check_delete_allowed("project", project.id, project.options)
        if Project.select().where(Project.parent == project.id).exists():
            raise Forbidden(f"Cannot delete the project {project.id} since it is not a leaf in "
                            "the hierarchy. Use the cascade option if you want to delete a "
                            "whole subtree.")
        A = RoleAssignment
        A.delete().where(A.target_id == project.id,
                         A.type.in_([A.USER_PROJECT, A.GROUP_PROJECT])).execute()
        project.delete_instance()
    revocation.revoke(project_id=project_id)
    return "", 204


def _tags_body(project: Project) -> dict:
    return {"tags": list(project.tags or []),
            "links": {"self": request.base_url}}


@blueprint.get("/v3/projects/<project_id>/tags")
def list_project_tags(project_id):
    return _tags_body(find_for("identity:list_project_tags", project_id))


@blueprint.put("/v3/projects/<project_id>/tags")
@validate(TAGS_BODY)
def replace_project_tags(project_id):
    find_for("identity:update_project_tags", project_id)
    with db.transaction():
        project = lookup.get_project(project_id)
        lookup.check_update_allowed("project", project.id, project.options, {"tags": []})
        project.tags = g.body["tags"]
        project.save()
    return _tags_body(project)


@blueprint.delete("/v3/projects/<project_id>/tags")
def delete_project_tags(project_id):
    find_for("identity:delete_project_tags", project_id)
    with db.transaction():
        project = lookup.get_project(project_id)
        lookup.check_update_allowed("project", project.id, project.options, {"tags": []})
        project.tags = []
        project.save()
    return "", 204


@blueprint.get("/v3/projects/<project_id>/tags/<tag>")
def check_project_tag(project_id, tag):
    project = find_for("identity:get_project_tag", project_id)
    if tag not in (project.tags or []):
        raise NotFound(f"Could not find project tag: {tag}.")
    return "", 204


@blueprint.put("/v3/projects/<project_id>/tags/<tag>")
def add_project_tag(project_id, tag):
    find_for("identity:create_project_tag", project_id)
    check(tag, TAG)
    with db.transaction():
        project = lookup.get_project(project_id)
        lookup.check_update_allowed("project", project.id, project.options, {"tags": []})
        tags = list(project.tags or [])
        if tag not in tags:
            tags.append(tag)
        check(tags, TAGS)
        project.tags = tags
        project.save()
    return "", 201, {"Location": request.base_url}


@blueprint.delete("/v3/projects/<project_id>/tags/<tag>")
def delete_project_tag(project_id, tag):
    find_for("identity:delete_project_tag", project_id)
    with db.transaction():
        project = lookup.get_project(project_id)
        lookup.check_update_allowed("project", project.id, project.options, {"tags": []})
        if tag not in (project.tags or []):
            raise NotFound(f"Could not find project tag: {tag}.")
        project.tags = [t for t in project.tags if t != tag]
        project.save()
    return "", 204
