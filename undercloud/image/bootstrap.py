"""Every start: make the store folders and recover from uploads a stop interrupted.

Runs before the API serves, so nothing is writing: leftover temporary files are removed,
images caught in saving go back to queued, and imports caught halfway go back to uploading
when their staged data survived (queued otherwise), as if the client had never finished.
"""
import logging
import os

from undercloud import db
from undercloud.image import stores
from undercloud.image.models import Image, ImageTask

LOG = logging.getLogger(__name__)


def bootstrap(config):
    store, staging = stores.store(config), stores.staging(config)
    for directory in (getattr(store, "directory", None), staging.directory):
        if directory:
            os.makedirs(directory, mode=0o750, exist_ok=True)
    for name in store.sweep() + staging.sweep():
        LOG.warning("removed %s, left by an interrupted image upload", name)
    with db.transaction():
        for image in Image.select().where(Image.status.in_(["saving", "importing",
                                                            "uploading"])):
            staged = os.path.exists(staging.local_path(staging.location(image.id)))
            if image.status in ("importing", "uploading") and staged:
                status = "uploading"
            else:
                status = "queued"
            if status != image.status:
                LOG.warning("image %s was %s when stackbox stopped; it is %s again",
                            image.id, image.status, status)
            Image.update(status=status, size=None, virtual_size=None,
                         staged_size=image.staged_size if status == "uploading" else None) \
                .where(Image.id == image.id).execute()
        ImageTask.update(status="failure", message="stackbox stopped during the import") \
            .where(ImageTask.status.in_(["pending", "processing"])).execute()
