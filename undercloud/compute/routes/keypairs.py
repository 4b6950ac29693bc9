"""os-keypairs: a user's SSH keys, imported or generated (ssh-rsa) here, as in Nova."""
import base64
import datetime
import binascii
import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from flask import Blueprint, g, request

from undercloud import db
from undercloud.common.errors import BadRequest, Conflict, Forbidden, NotFound
from undercloud.common.validation import validate
from undercloud.compute import policy, quotas, schemas, views
from undercloud.compute.models import KeyPair
from undercloud.compute.routes.common import config, integer_arg, no_content, respond

blueprint = Blueprint("compute_keypairs", __name__)


def ssh_fingerprint(public_key: str) -> str:
    """Nova's fingerprint: MD5 of the key blob, colon-separated; 400 for a key it cannot read."""
    try:
        serialization.load_ssh_public_key(public_key.strip().encode())
        blob = base64.b64decode(public_key.strip().split()[1])
    except (ValueError, IndexError, binascii.Error, TypeError):
        raise BadRequest("Keypair data is invalid: failed to generate fingerprint") from None
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, 32, 2))


def x509_fingerprint(certificate: str) -> str:
    try:
        cert = x509.load_pem_x509_certificate(certificate.encode())
    except ValueError:
        raise BadRequest("Keypair data is invalid: failed to generate fingerprint") from None
    digest = cert.fingerprint(hashes.SHA1()).hex()  # noqa: S303 (Nova's x509 fingerprint)
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def generate_rsa() -> tuple[str, str]:
    """(private key PEM, OpenSSH public key) for a fresh 2048-bit RSA key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                           serialization.PublicFormat.OpenSSH).decode()
    return private, f"{public} Generated-by-Nova"


def generate_x509(user_id: str, project_id: str) -> tuple[str, str]:
    """(private key PEM, self-signed certificate PEM), as Nova makes for x509 key pairs."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, user_id or "nova"),
                         x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME,
                                            project_id or "nova")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=3650))
                   .sign(key, hashes.SHA256()))
    private = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    return private, certificate.public_bytes(serialization.Encoding.PEM).decode()


def _numeric_id(row) -> int:
    # Nova's keypair ids are integers; ours are uuids, shown as a stable 31-bit number.
    return int(row.id.replace("-", "")[:7], 16)


def view(row, full: bool = False) -> dict:
    shown = {"name": row.name, "public_key": row.public_key, "fingerprint": row.fingerprint}
    if views.at_least("2.2"):
        shown["type"] = row.type
    if full:
        shown.update({"user_id": row.user_id, "created_at": views.timestamp_micro(row.created_at),
                      "updated_at": None, "deleted_at": None, "deleted": False,
                      "id": _numeric_id(row)})
    return shown


def _user_id() -> str:
    """The user whose keys are meant: the caller, or (2.10+, admins) ?user_id=."""
    user_id = request.args.get("user_id") if views.at_least("2.10") else None
    return user_id or g.context.user_id


def find_keypair(user_id: str, name: str) -> KeyPair:
    row = KeyPair.get_or_none(KeyPair.user_id == user_id, KeyPair.name == name)
    if row is None:
        raise NotFound(f"Keypair {name} not found for user {user_id}")
    return row


@blueprint.get("/v2.1/os-keypairs")
def list_keypairs():
    user_id = _user_id()
    policy.enforce("keypairs:index", user_id=user_id)
    query = KeyPair.select().where(KeyPair.user_id == user_id).order_by(KeyPair.name)
    limit = marker = None
    if views.at_least("2.35"):
        limit = integer_arg(request.args, "limit")
        marker = request.args.get("marker")
    if marker:
        if not KeyPair.select().where(KeyPair.user_id == user_id, KeyPair.name == marker).exists():
            raise BadRequest(f"marker [{marker}] not found")
        query = query.where(KeyPair.name > marker)
    if limit is not None:
        query = query.limit(limit)
    rows = list(query)
    document = {"keypairs": [{"keypair": view(row)} for row in rows]}
    if limit and len(rows) == limit:
        document["keypairs_links"] = [{"rel": "next", "href": f"{request.base_url}?limit={limit}"
                                       f"&marker={rows[-1].name}"}]
    return respond(document)


@blueprint.post("/v2.1/os-keypairs")
@validate(schemas.KEYPAIR_CREATE)
def create_keypair():
    body = g.body["keypair"]
    if "type" in body and not views.at_least("2.2"):
        raise BadRequest("Invalid input for field/attribute keypair. Additional properties are "
                         "not allowed ('type' was unexpected)")
    if "user_id" in body and not views.at_least("2.10"):
        raise BadRequest("Invalid input for field/attribute keypair. Additional properties are "
                         "not allowed ('user_id' was unexpected)")
    user_id = body.get("user_id") or g.context.user_id
    policy.enforce("keypairs:create", user_id=user_id)
    key_type = body.get("type", "ssh")
    name = body["name"]
    private_key = None
    public_key = body.get("public_key")
    if public_key is None:
        private_key, public_key = (generate_x509(user_id, g.context.project_id)
                                   if key_type == "x509" else generate_rsa())
    fingerprint = (x509_fingerprint(public_key) if key_type == "x509"
                   else ssh_fingerprint(public_key))
    with db.transaction():
        quotas.lock_project(f"user:{user_id}")
        used = KeyPair.select().where(KeyPair.user_id == user_id).count()
        limit = quotas.limits(config(), g.context.project_id or "", user_id)["key_pairs"]
        if 0 <= limit <= used:
            raise Forbidden("Quota exceeded, too many key pairs.")
        if KeyPair.select().where(KeyPair.user_id == user_id, KeyPair.name == name).exists():
            raise Conflict(f"Key pair '{name}' already exists.")
        row = KeyPair.create(name=name, user_id=user_id, type=key_type,
                             public_key=public_key.strip() if key_type == "ssh" else public_key,
                             fingerprint=fingerprint)
    shown = view(row)
    shown["user_id"] = user_id
    if private_key:
        shown["private_key"] = private_key
    return respond({"keypair": shown}, 201 if views.at_least("2.2") else 200)


@blueprint.get("/v2.1/os-keypairs/<name>")
def show_keypair(name):
    user_id = _user_id()
    policy.enforce("keypairs:show", user_id=user_id)
    return respond({"keypair": view(find_keypair(user_id, name), full=True)})


@blueprint.delete("/v2.1/os-keypairs/<name>")
def delete_keypair(name):
    user_id = _user_id()
    policy.enforce("keypairs:delete", user_id=user_id)
    find_keypair(user_id, name).delete_instance()
    return no_content(204 if views.at_least("2.2") else 202)
