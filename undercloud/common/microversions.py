"""Microversion negotiation: OpenStack-API-Version and the legacy per-service headers."""
import re
from dataclasses import dataclass, field
from functools import total_ordering

from undercloud.common.errors import BadRequest, NotAcceptable

_VERSION = re.compile(r"^([1-9]\d*)\.(0|[1-9]\d*)$")


@total_ordering
@dataclass(frozen=True)
class APIVersion:
    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> "APIVersion":
        match = _VERSION.match(text.strip())
        if not match:
            raise BadRequest(f"Invalid microversion {text!r}: expected the form "
                             "MAJOR.MINOR, such as 2.1, or 'latest'.")
        return cls(int(match.group(1)), int(match.group(2)))

    def __lt__(self, other):
        return (self.major, self.minor) < (other.major, other.minor)

    def __str__(self):
        return f"{self.major}.{self.minor}"


@dataclass(frozen=True)
class Microversions:
    """What one service supports, and which headers carry its version."""
    service_type: str                  # the word in "OpenStack-API-Version: compute 2.79"
    minimum: str
    maximum: str
    legacy_header: str | None = None   # e.g. X-OpenStack-Nova-API-Version
    min_max_headers: bool = False      # Ironic sends its range on every response
    aliases: tuple = field(default=())  # other words clients may use for the service

    @property
    def min(self) -> APIVersion:
        return APIVersion.parse(self.minimum)

    @property
    def max(self) -> APIVersion:
        return APIVersion.parse(self.maximum)

    def requested(self, headers) -> str | None:
        """The version text the client asked for, or None for the default."""
        names = {self.service_type, *self.aliases}
        for entry in headers.get("OpenStack-API-Version", "").split(","):
            parts = entry.strip().split(None, 1)
            if len(parts) == 2 and parts[0].lower() in names:
                return parts[1]
        if self.legacy_header:
            return headers.get(self.legacy_header)
        return None

    def negotiate(self, headers) -> APIVersion:
        """The version to serve, or 400/406 naming what was wrong and the range."""
        text = self.requested(headers)
        if text is None:
            return self.min
        if text.strip().lower() == "latest":
            return self.max
        version = APIVersion.parse(text)
        if not self.min <= version <= self.max:
            raise NotAcceptable(f"Version {version} is not supported by the API. "
                                f"Minimum is {self.min} and maximum is {self.max}.")
        return version

    def response_headers(self, version: APIVersion | None) -> dict:
        headers = {}
        vary = ["OpenStack-API-Version"]
        if version is not None:
            headers["OpenStack-API-Version"] = f"{self.service_type} {version}"
        if self.legacy_header:
            vary.append(self.legacy_header)
            if version is not None:
                headers[self.legacy_header] = str(version)
        if self.min_max_headers and self.legacy_header:
            stem = self.legacy_header.removesuffix("-Version")
            headers[f"{stem}-Minimum-Version"] = self.minimum
            headers[f"{stem}-Maximum-Version"] = self.maximum
        headers["Vary"] = ", ".join(vary)
        return headers
