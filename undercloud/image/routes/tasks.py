"""Image task route: GET /v2/images/{id}/tasks, the imports of an image (API 2.12)."""
from flask import Blueprint

from undercloud.image import policy, views
from undercloud.image.models import ImageTask

blueprint = Blueprint("image_tasks", __name__)


@blueprint.get("/v2/images/<image_id>/tasks")
def image_tasks(image_id):
    image = policy.find_image(image_id)
    policy.enforce("get_image", image)
    tasks = ImageTask.select().where(ImageTask.image == image.id) \
        .order_by(ImageTask.created_at, ImageTask.id)
    return {"tasks": [views.task(task) for task in tasks]}
