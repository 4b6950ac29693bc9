"""Image's tables: images, their free-form properties, tags, members and import tasks."""
import uuid

import peewee

from undercloud.db import BaseModel, JSONField, TimestampedModel


def new_image_id() -> str:
    """Glance's ids are dashed UUIDs (its schema's `id` pattern requires the dashes)."""
    return str(uuid.uuid4())


class Image(TimestampedModel):
    id = peewee.CharField(primary_key=True, max_length=36, default=new_image_id)
    name = peewee.CharField(max_length=255, null=True)
    status = peewee.CharField(max_length=30, default="queued", index=True)
    visibility = peewee.CharField(max_length=20, default="shared", index=True)
    protected = peewee.BooleanField(default=False)
    os_hidden = peewee.BooleanField(default=False)
    owner = peewee.CharField(max_length=255, null=True, index=True)
    container_format = peewee.CharField(max_length=32, null=True)
    disk_format = peewee.CharField(max_length=32, null=True)
    min_disk = peewee.IntegerField(default=0)
    min_ram = peewee.IntegerField(default=0)
    size = peewee.BigIntegerField(null=True)
    virtual_size = peewee.BigIntegerField(null=True)
    checksum = peewee.CharField(max_length=32, null=True)
    os_hash_algo = peewee.CharField(max_length=64, null=True)
    os_hash_value = peewee.CharField(max_length=128, null=True)
    # Where the store keeps the data (a driver URL such as file:///...); never shown.
    location = peewee.TextField(null=True)
    # Bytes waiting in the staging area for a glance-direct import; counted in quotas.
    staged_size = peewee.BigIntegerField(null=True)


class ImageProperty(BaseModel):
    """An additional property (os_distro, hw_*, anything the owner sets): name -> string."""
    image = peewee.ForeignKeyField(Image, backref="properties", on_delete="CASCADE")
    name = peewee.CharField(max_length=255)
    value = peewee.TextField(null=True)

    class Meta:
        indexes = ((("image", "name"), True), (("name", "value"), False))


class ImageTag(BaseModel):
    image = peewee.ForeignKeyField(Image, backref="tag_rows", on_delete="CASCADE")
    value = peewee.CharField(max_length=255)

    class Meta:
        indexes = ((("image", "value"), True), (("value",), False))


class ImageMember(TimestampedModel):
    """A project an image is shared with, and whether that project accepted it."""
    image = peewee.ForeignKeyField(Image, backref="members", on_delete="CASCADE")
    member = peewee.CharField(max_length=255, index=True)
    status = peewee.CharField(max_length=20, default="pending")

    class Meta:
        indexes = ((("image", "member"), True),)


class ImageTask(TimestampedModel):
    """One import of an image (Glance's api_image_import task), shown at /v2/images/{id}/tasks."""
    id = peewee.CharField(primary_key=True, max_length=36, default=new_image_id)
    image = peewee.ForeignKeyField(Image, backref="tasks", on_delete="CASCADE")
    type = peewee.CharField(max_length=30, default="api_image_import")
    status = peewee.CharField(max_length=20, default="pending")
    owner = peewee.CharField(max_length=255, null=True)
    user_id = peewee.CharField(max_length=255, null=True)
    request_id = peewee.CharField(max_length=64, null=True)
    input = JSONField(default=dict)
    result = JSONField(null=True)
    message = peewee.TextField(default="")
    expires_at = peewee.DateTimeField(null=True)


TABLES = [Image, ImageProperty, ImageTag, ImageMember, ImageTask]
