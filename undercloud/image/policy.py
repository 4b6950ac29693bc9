"""Who may do what to an image: Glance's default (secure RBAC) rules, and image visibility.

As in Glance, an image the caller cannot see answers 404 whatever the action, so another
project's private image is indistinguishable from a missing one; an image the caller sees
but may not change answers 403. Which images a project sees is decided in `visible` (Glance
does it in its database layer); the rules below decide the rest.
"""
from flask import g

from undercloud.common.errors import Forbidden, NotFound
from undercloud.common.policy import Enforcer
from undercloud.image.models import Image, ImageMember

RULES = {
    "context_is_admin": "role:admin",
    # Keystone's default roles imply each other: admin > member > reader.
    "reader": "role:reader or role:member or role:admin",
    "member": "role:member or role:admin",
    "project_reader": "rule:reader and project_id:%(project_id)s",
    "project_member": "rule:member and project_id:%(project_id)s",
    "add_image": "rule:context_is_admin or (rule:member and project_id:%(owner)s)",
    "get_images": "rule:context_is_admin or rule:reader",
    "get_image": "rule:context_is_admin or rule:reader",
    "modify_image": "rule:context_is_admin or rule:project_member",
    "publicize_image": "rule:context_is_admin",
    "communitize_image": "rule:context_is_admin or rule:project_member",
    "delete_image": "rule:context_is_admin or rule:project_member",
    "upload_image": "rule:context_is_admin or rule:project_member",
    "download_image": "rule:context_is_admin or rule:member",
    "deactivate": "rule:context_is_admin or rule:project_member",
    "reactivate": "rule:context_is_admin or rule:project_member",
    "add_member": "rule:context_is_admin or rule:project_member",
    "delete_member": "rule:context_is_admin or rule:project_member",
    "get_member": "rule:context_is_admin or (rule:reader and (project_id:%(project_id)s "
                  "or project_id:%(member_id)s))",
    "get_members": "rule:context_is_admin or (rule:reader and (project_id:%(project_id)s "
                   "or project_id:%(member_id)s))",
    "modify_member": "rule:context_is_admin or (rule:member and project_id:%(member_id)s)",
    "get_usage": "rule:context_is_admin or rule:reader",
}

ENFORCER = Enforcer(RULES)


def is_member(image: Image, project_id: str | None) -> bool:
    return bool(project_id) and ImageMember.select().where(
        ImageMember.image == image.id, ImageMember.member == project_id).exists()


def visible(image: Image, context) -> bool:
    """Whether the caller may know the image exists (Glance's is_image_visible)."""
    if context.is_admin:
        return True
    if image.owner is not None and image.owner == context.project_id:
        return True
    if image.visibility in ("public", "community"):
        return True
    return image.visibility == "shared" and is_member(image, context.project_id)


def target(image: Image, member_id: str | None = None) -> dict:
    return {"project_id": image.owner, "owner": image.owner, "visibility": image.visibility,
            "member_id": member_id}


def find_image(image_id: str) -> Image:
    """The image the caller asked for, or 404 when it does not exist or is not theirs to see."""
    image = Image.get_or_none(Image.id == image_id)
    if image is None or not visible(image, g.context):
        raise NotFound(f"No image found with ID {image_id}")
    return image


def enforce(action: str, image: Image | None = None, member_id: str | None = None,
            message: str | None = None, **target_values):
    """403 unless the caller may do `action` to `image` (or to the proposed `target_values`)."""
    values = target(image, member_id) if image is not None else {}
    values.update(target_values)
    if not ENFORCER.allowed(action, g.context.credentials(), values):
        raise Forbidden(message or f"You are not authorized to perform the requested action: "
                                   f"{action}.")


def enforce_visibility(visibility: str, image: Image | None = None, **target_values):
    """Making an image public is admin-only; community needs the owner's member role."""
    if visibility == "public":
        enforce("publicize_image", image, message="You are not authorized to make an image "
                "public; only an administrator may set visibility 'public'.", **target_values)
    elif visibility == "community":
        enforce("communitize_image", image, message="You are not authorized to make this "
                "image a community image.", **target_values)
