"""Identity routes: domains."""
from flask import Blueprint

blueprint = Blueprint("identity_domains", __name__)
