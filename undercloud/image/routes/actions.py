"""Image action routes: deactivate and reactivate an image (POST .../actions/...)."""
import logging

from flask import Blueprint, current_app, g

from undercloud import db
from undercloud.common import errors
from undercloud.image import policy
from undercloud.image.models import Image

LOG = logging.getLogger(__name__)
blueprint = Blueprint("image_actions", __name__)

# action -> (the status it applies to, the status it leaves the image in)
ACTIONS = {"deactivate": ("active", "deactivated"), "reactivate": ("deactivated", "active")}


@blueprint.post("/v2/images/<image_id>/actions/<action>")
def image_action(image_id, action):
    if action not in ACTIONS:
        raise errors.NotFound(f"Unknown image action {action!r}; use deactivate or reactivate.")
    image = policy.find_image(image_id)
    policy.enforce(action, image)
    current, new = ACTIONS[action]
    with db.transaction():
        changed = Image.update(status=new, updated_at=db.utcnow()) \
            .where(Image.id == image.id, Image.status == current).execute()
        if not changed:
            row = Image.get_or_none(Image.id == image.id)
            if row is None:
                raise errors.NotFound(f"No image found with ID {image.id}")
            status = row.status
            if status != new:  # deactivating a deactivated image changes nothing
                raise errors.Forbidden(f"Not allowed to {action} image in status '{status}'")
    LOG.info("image %s: %sd by project %s", image.id, action, g.context.project_id)
    return current_app.response_class(status=204)
