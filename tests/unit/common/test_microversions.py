"""Microversion negotiation through both header styles."""
import pytest

from undercloud.common.errors import BadRequest, NotAcceptable
from undercloud.common.microversions import APIVersion, Microversions

NOVA = Microversions("compute", "2.1", "2.79", legacy_header="X-OpenStack-Nova-API-Version")
IRONIC = Microversions("baremetal", "1.1", "1.80",
                       legacy_header="X-OpenStack-Ironic-API-Version", min_max_headers=True)


def test_default_is_the_minimum():
    assert NOVA.negotiate({}) == APIVersion(2, 1)


def test_openstack_api_version_header_and_latest():
    assert NOVA.negotiate({"OpenStack-API-Version": "compute 2.37"}) == APIVersion(2, 37)
    assert NOVA.negotiate({"OpenStack-API-Version": "volume 3.5, compute latest"}) == \
        APIVersion(2, 79)


def test_legacy_header():
    assert NOVA.negotiate({"X-OpenStack-Nova-API-Version": "2.60"}) == APIVersion(2, 60)


def test_outside_the_range_is_406():
    with pytest.raises(NotAcceptable, match="Minimum is 2.1 and maximum is 2.79"):
        NOVA.negotiate({"OpenStack-API-Version": "compute 2.100"})


def test_malformed_is_400():
    with pytest.raises(BadRequest):
        NOVA.negotiate({"OpenStack-API-Version": "compute two"})


def test_versions_compare_numerically():
    assert APIVersion.parse("2.10") > APIVersion.parse("2.9")


def test_response_echoes_and_varies():
    headers = NOVA.response_headers(APIVersion(2, 37))
    assert headers["OpenStack-API-Version"] == "compute 2.37"
    assert headers["X-OpenStack-Nova-API-Version"] == "2.37"
    assert headers["Vary"] == "OpenStack-API-Version, X-OpenStack-Nova-API-Version"
    ironic = IRONIC.response_headers(APIVersion(1, 31))
    assert ironic["X-OpenStack-Ironic-API-Minimum-Version"] == "1.1"
    assert ironic["X-OpenStack-Ironic-API-Maximum-Version"] == "1.80"
