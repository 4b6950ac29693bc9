"""Per-project image limits (Glance's image_count_total and image_size_total) and usage."""
import peewee

from undercloud.common import errors
from undercloud.image.models import Image

MIB = 1024 * 1024


def image_count(project_id) -> int:
    return Image.select().where(Image.owner == project_id).count()


def bytes_used(project_id) -> int:
    """Stored plus staged bytes of the project's images."""
    total = (Image.select(peewee.fn.COALESCE(peewee.fn.SUM(Image.size), 0)
                          + peewee.fn.COALESCE(peewee.fn.SUM(Image.staged_size), 0))
             .where(Image.owner == project_id).scalar())
    return int(total or 0)


def check_count(config, project_id):
    """413 when the project already has as many images as it may."""
    limit = config["image"]["image_count_total"]
    if limit < 0:
        return
    count = image_count(project_id)
    if count + 1 > limit:
        raise errors.PayloadTooLarge(
            f"Project {project_id} is over a limit for image_count_total: it has {count} "
            f"images and may have at most {limit}; delete images it no longer needs.")


def upload_limit(config, project_id, declared: int | None) -> tuple[int, str]:
    """(bytes an upload may write, the 413 message past that); 413 at once if `declared` is over."""
    cap = config["image"]["image_size_cap"]
    limit_mib = config["image"]["image_size_total"]
    message = f"The incoming image is too large: at most {cap} bytes are accepted per image."
    maximum = cap
    if limit_mib >= 0:
        used = bytes_used(project_id)
        remaining = max(limit_mib * MIB - used, 0)
        if remaining < maximum:
            maximum = remaining
            message = (f"Denying attempt to upload image because it exceeds the quota: "
                       f"project {project_id} uses {used} bytes of its image_size_total "
                       f"limit of {limit_mib} MiB ({remaining} bytes left).")
    if declared is not None and declared > maximum:
        raise errors.PayloadTooLarge(message)
    return maximum, message


def usage(config, project_id) -> dict:
    """GET /v2/info/usage: each limit with what the project uses of it."""
    return {"usage": {
        "image_size_total": {"limit": config["image"]["image_size_total"],
                             "usage": bytes_used(project_id) // MIB},
        "image_count_total": {"limit": config["image"]["image_count_total"],
                              "usage": image_count(project_id)},
    }}
