"""An image's data life cycle: upload, stage, import, and cleaning up after each.

queued -> saving -> active for PUT .../file; queued -> uploading (staged) -> importing ->
active for the glance-direct import. Status changes are short conditional updates, so two
clients cannot both start an upload and a deleted image is noticed when its data lands.
Whatever goes wrong (a client that disconnects included) the image returns to queued and no
partial data is left in the store or the staging area.
"""
import json
import logging
import shutil
import subprocess
import threading

from undercloud import db
from undercloud.common import errors
from undercloud.image import quotas, stores
from undercloud.image.incoming import HASH_ALGO, Incoming
from undercloud.image.models import Image, ImageTask

LOG = logging.getLogger(__name__)
QEMU_IMG_TIMEOUT = 30
IMPORT_METHODS = ["glance-direct"]


class Gone(errors.ApiError):
    code, title = 410, "Gone"


def _chunk_size(config) -> int:
    return config["image"]["upload_chunk_size"]


def require_formats(image: Image):
    missing = [name for name in ("disk_format", "container_format") if not getattr(image, name)]
    if missing:
        noun = "Property" if len(missing) == 1 else "Properties"
        raise errors.BadRequest(f"{noun} {', '.join(missing)} must be set prior to saving data.")


def transition(image_id: str, current: str, new: str):
    """Move the image from `current` to `new` status, or 409 saying what its status is."""
    with db.transaction():
        changed = Image.update(status=new, updated_at=db.utcnow()) \
            .where(Image.id == image_id, Image.status == current).execute()
        if not changed:
            row = Image.get_or_none(Image.id == image_id)
            if row is None:
                raise errors.NotFound(f"No image found with ID {image_id}")
            raise errors.Conflict(f"Image status transition from {row.status} to {new} is "
                                  "not allowed")


def _back_to_queued(image_id: str, current: str):
    """After a failed upload/stage/import: queued again, with no size (as Glance resets it)."""
    try:
        with db.transaction():
            Image.update(status="queued", size=None, virtual_size=None, staged_size=None,
                         updated_at=db.utcnow()) \
                .where(Image.id == image_id, Image.status == current).execute()
    except Exception:
        LOG.exception("image %s: could not reset status %s to queued", image_id, current)


def virtual_size(store, location: str, disk_format: str | None, size: int) -> int | None:
    """The disk size a guest sees: the data size for raw and iso, qemu-img's answer for qcow2."""
    if disk_format in ("raw", "iso"):
        return size
    if disk_format != "qcow2":
        return None
    path, qemu_img = store.local_path(location), shutil.which("qemu-img")
    if not path or not qemu_img:
        return None
    try:
        # -f: never let qemu-img probe (a raw image must not be read as qcow2).
        result = subprocess.run([qemu_img, "info", "--output=json", "-f", "qcow2", path],
                                capture_output=True, timeout=QEMU_IMG_TIMEOUT, check=True)
        value = json.loads(result.stdout).get("virtual-size")
    except (subprocess.SubprocessError, OSError, ValueError) as exc:
        LOG.info("image at %s: qemu-img info found no qcow2 virtual size (%s)", location, exc)
        return None
    return value if isinstance(value, int) else None


def upload(config, image: Image, stream, declared_size: int | None,
           expected_md5: str | None) -> None:
    """PUT /v2/images/{id}/file: stream the data into the store and make the image active."""
    require_formats(image)
    maximum, message = quotas.upload_limit(config, image.owner, declared_size)
    transition(image.id, "queued", "saving")
    store, location, published = stores.store(config), None, False
    try:
        incoming = Incoming(stream, _chunk_size(config), expected_size=declared_size,
                            expected_md5=expected_md5, limit=(maximum, message))
        location = store.add(image.id, incoming)
        virtual = virtual_size(store, location, image.disk_format, incoming.size)
        with db.transaction():
            published = bool(Image.update(
                status="active", size=incoming.size, virtual_size=virtual,
                checksum=incoming.checksum, os_hash_algo=HASH_ALGO,
                os_hash_value=incoming.hash_value, location=location,
                updated_at=db.utcnow()).where(Image.id == image.id,
                                              Image.status == "saving").execute())
        if not published:
            raise Gone(f"Image {image.id} could not be found after upload. The image may have "
                       "been deleted during the upload, cleaning up the chunks uploaded.")
    except BaseException as exc:
        if location and not published:
            store.delete(location)
        _back_to_queued(image.id, "saving")
        LOG.info("image %s: upload stopped (%s: %s); the image is queued again", image.id,
                 exc.__class__.__name__, exc)
        raise


def stage(config, image: Image, stream, declared_size: int | None) -> None:
    """PUT /v2/images/{id}/stage: keep the data in the staging area for a later import."""
    maximum, message = quotas.upload_limit(config, image.owner, declared_size)
    transition(image.id, "queued", "uploading")
    staging, location, kept = stores.staging(config), None, False
    try:
        incoming = Incoming(stream, _chunk_size(config), expected_size=declared_size,
                            limit=(maximum, message), hashing=False)
        location = staging.add(image.id, incoming)
        with db.transaction():
            kept = bool(Image.update(staged_size=incoming.size, updated_at=db.utcnow())
                        .where(Image.id == image.id, Image.status == "uploading").execute())
        if not kept:
            raise Gone(f"Image {image.id} could not be found after staging. The image may "
                       "have been deleted meanwhile; the staged data was removed.")
    except BaseException as exc:
        if location and not kept:
            staging.delete(location)
        _back_to_queued(image.id, "uploading")
        LOG.info("image %s: staging stopped (%s: %s); the image is queued again", image.id,
                 exc.__class__.__name__, exc)
        raise


def start_import(config, image: Image, import_request: dict, context, request_id) -> ImageTask:
    """POST /v2/images/{id}/import (glance-direct): record the task, import on a thread."""
    if image.status != "uploading":
        raise errors.Conflict("Image needs to be staged before 'glance-direct' method can be "
                              f"used (image {image.id} is {image.status}).")
    require_formats(image)
    with db.transaction():
        transition(image.id, "uploading", "importing")
        task = ImageTask.create(
            image=image.id, status="processing", owner=image.owner, user_id=context.user_id,
            request_id=request_id,
            input={"image_id": image.id, "import_req": import_request,
                   "backend": [stores.STORE_ID]})
    threading.Thread(target=_import, args=(config, image.id, task.id),
                     name=f"image-import-{image.id}", daemon=True).start()
    return task


def _import(config, image_id: str, task_id: str):
    store, staging = stores.store(config), stores.staging(config)
    location, published = None, False
    try:
        image = Image.get_by_id(image_id)
        with staging.open(staging.location(image_id)) as source:
            incoming = Incoming(source, _chunk_size(config), expected_size=image.staged_size)
            location = store.add(image_id, incoming)
        virtual = virtual_size(store, location, image.disk_format, incoming.size)
        with db.transaction():
            published = bool(Image.update(
                status="active", size=incoming.size, virtual_size=virtual, staged_size=None,
                checksum=incoming.checksum, os_hash_algo=HASH_ALGO,
                os_hash_value=incoming.hash_value, location=location,
                updated_at=db.utcnow()).where(Image.id == image_id,
                                              Image.status == "importing").execute())
            if published:  # in the same transaction: no one sees it active, its task running
                _task_update(task_id, "success", "", {"image_id": image_id}).execute()
        if not published:
            raise Gone(f"image {image_id} was deleted during its import")
        LOG.info("image %s: imported %d bytes from staging", image_id, incoming.size)
        staging.delete(staging.location(image_id))
    except Exception as exc:
        LOG.exception("image %s: import failed", image_id)
        if published:
            return  # only removing the staged copy failed; discard() removes it with the image
        if location:
            store.delete(location)
        staging.delete(staging.location(image_id))
        _back_to_queued(image_id, "importing")
        _finish_task(task_id, "failure", str(exc) or exc.__class__.__name__, None)
    finally:
        db.database.close()


def _task_update(task_id: str, status: str, message: str, result):
    return ImageTask.update(status=status, message=message, result=result,
                            updated_at=db.utcnow()).where(ImageTask.id == task_id)


def _finish_task(task_id: str, status: str, message: str, result):
    try:
        with db.transaction():
            _task_update(task_id, status, message, result).execute()
    except Exception:
        LOG.exception("import task %s: could not record status %s", task_id, status)


def discard(config, image: Image):
    """Remove a deleted image's data from the store and the staging area."""
    if image.location:
        stores.store(config).delete(image.location)
    staging = stores.staging(config)
    staging.delete(staging.location(image.id))
