"""Identity routes: application credentials."""
from flask import Blueprint

blueprint = Blueprint("identity_application_credentials", __name__)
