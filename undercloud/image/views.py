"""How images, members and import tasks look to a client (Glance v2's response bodies)."""
from collections import defaultdict

from undercloud.image import schemas
from undercloud.image.models import ImageProperty, ImageTag

IMAGE_ATTRIBUTES = ("name", "disk_format", "container_format", "visibility", "size",
                    "virtual_size", "status", "checksum", "protected", "min_ram", "min_disk",
                    "owner", "os_hidden", "os_hash_algo", "os_hash_value")


def isotime(moment) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def extras(image_ids) -> tuple[dict, dict]:
    """({image id: {property: value}}, {image id: [tags]}) for a page of images, in two queries."""
    properties, tags = defaultdict(dict), defaultdict(list)
    if image_ids:
        query = ImageProperty.select().where(ImageProperty.image.in_(image_ids)) \
            .order_by(ImageProperty.name)
        for row in query:
            properties[row.image_id][row.name] = row.value
        for row in ImageTag.select().where(ImageTag.image.in_(image_ids)) \
                .order_by(ImageTag.id):
            tags[row.image_id].append(row.value)
    return properties, tags


def image(row, properties: dict | None = None, tags: list | None = None) -> dict:
    if properties is None or tags is None:
        by_id_properties, by_id_tags = extras([row.id])
        properties, tags = by_id_properties[row.id], by_id_tags[row.id]
    # Glance shows a free property without a value as "" (its schema allows only strings).
    view = {name: ("" if value is None and name not in schemas.OPERATOR_PROPERTIES else value)
            for name, value in properties.items()}
    for attribute in IMAGE_ATTRIBUTES:
        view[attribute] = getattr(row, attribute)
    view["id"] = row.id
    view["created_at"] = isotime(row.created_at)
    view["updated_at"] = isotime(row.updated_at)
    view["tags"] = list(tags)
    view["self"] = f"/v2/images/{row.id}"
    view["file"] = f"/v2/images/{row.id}/file"
    view["schema"] = "/v2/schemas/image"
    return view


def images(rows) -> list[dict]:
    properties, tags = extras([row.id for row in rows])
    return [image(row, properties[row.id], tags[row.id]) for row in rows]


def member(row) -> dict:
    return {"member_id": row.member, "image_id": row.image_id, "status": row.status,
            "created_at": isotime(row.created_at), "updated_at": isotime(row.updated_at),
            "schema": "/v2/schemas/member"}


def task(row) -> dict:
    return {"id": row.id, "image_id": row.image_id, "request_id": row.request_id,
            "user_id": row.user_id, "type": row.type, "status": row.status,
            "owner": row.owner, "expires_at": isotime(row.expires_at),
            "created_at": isotime(row.created_at), "updated_at": isotime(row.updated_at),
            "deleted_at": None, "deleted": False, "input": row.input, "result": row.result,
            "message": row.message}
