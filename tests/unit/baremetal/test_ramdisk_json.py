"""The ramdisk's JSON writer (json.awk), run with the same busybox awk the ramdisk runs: what
the agent posts must parse as the JSON the API expects, whatever the strings hold."""
import json
import os
import shutil
import subprocess

import pytest

pytestmark = pytest.mark.skipif(shutil.which("busybox") is None,
                                reason="busybox is not installed (Debian package busybox-static)")
REPO = os.path.join(os.path.dirname(__file__), "..", "..", "..")
SCRIPTS = os.path.join(REPO, "images", "deploy-ramdisk", "rootfs", "usr", "lib", "stackbox")
READER = os.path.join(REPO, "images", "tiny-guest", "rootfs", "usr", "lib", "stackbox",
                      "jsonflat.awk")


def write(*fields):
    text = "".join(f"{path}\t{kind}\t{value}\n" for path, kind, value in fields)
    result = subprocess.run(["busybox", "awk", "-f", os.path.join(SCRIPTS, "json.awk")],
                            input=text.encode(), capture_output=True, check=True)
    return json.loads(result.stdout)


def test_nested_objects_and_arrays_in_line_order():
    assert write(("cpu.count", "num", "2"), ("cpu.model_name", "str", "QEMU Virtual CPU"),
                 ("disks.0.name", "str", "/dev/vda"), ("disks.0.size", "num", "134217728"),
                 ("disks.1.name", "str", "/dev/vdb"), ("disks.1.rotational", "bool", "0"),
                 ("macs.0", "str", "52:54:00:00:00:01"), ("macs.1", "str", "52:54:00:00:00:02"),
                 ("deep.a.b.c", "num", "1"), ("deep.a.d", "bool", "true"),
                 ("bmc_address", "null", "")) == {
        "cpu": {"count": 2, "model_name": "QEMU Virtual CPU"},
        "disks": [{"name": "/dev/vda", "size": 134217728},
                  {"name": "/dev/vdb", "rotational": False}],
        "macs": ["52:54:00:00:00:01", "52:54:00:00:00:02"],
        "deep": {"a": {"b": {"c": 1}, "d": True}},
        "bmc_address": None}


def test_empty_containers_and_numbers_that_are_not():
    assert write(("disks", "[]", ""), ("extra", "{}", ""), ("n", "num", "-3.5"),
                 ("bad", "num", "12abc"), ("empty", "num", "")) == {
        "disks": [], "extra": {}, "n": -3.5, "bad": None, "empty": None}


@pytest.mark.parametrize("text", [
    'quote " backslash \\ slash /',
    "tab\there, carriage\rreturn, bell\x07 backspace\b formfeed\f escape\x1b",
    "utf-8 stays: Dell™ 東京 é",
    "",
    "trailing spaces   ",
])
def test_strings_are_escaped(text):
    assert write(("model", "str", text)) == {"model": text}


def test_a_field_is_all_text_after_the_second_tab():
    assert write(("error", "str", "a\tb\tc")) == {"error": "a\tb\tc"}


def test_the_readers_flat_form_of_an_answer():
    # The agent reads answers with the tiny guest's jsonflat.awk: a heartbeat's command.
    answer = {"command": {"name": "write_image", "params": {
        "url": "http://10.0.0.1:8088/images/x/tiny.raw", "checksum": "ab" * 32,
        "checksum_algo": "sha256", "disk_format": "raw", "target_disk": None}}}
    result = subprocess.run(["busybox", "awk", "-f", READER], input=json.dumps(answer),
                            capture_output=True, text=True, check=True)

    assert result.stdout.splitlines() == [
        "command.name\twrite_image",
        "command.params.url\thttp://10.0.0.1:8088/images/x/tiny.raw",
        f"command.params.checksum\t{'ab' * 32}",
        "command.params.checksum_algo\tsha256",
        "command.params.disk_format\traw",
        "command.params.target_disk\tnull"]


def test_the_agent_reads_json_null_as_empty(tmp_path):
    flat = tmp_path / "answer.flat"
    flat.write_text("command.name\twrite_image\ncommand.params.target_disk\tnull\n")
    lib = os.path.join(SCRIPTS, "lib.sh")
    result = subprocess.run(["busybox", "sh", "-c", f'. {lib}; echo "[$(value command.name '
                             f'{flat})] [$(value command.params.target_disk {flat})]"'],
                            capture_output=True, text=True, check=True)

    assert result.stdout == "[write_image] []\n"


def test_the_agent_refuses_to_run_outside_the_ramdisk():
    # It wipes disks and powers off: as anything but PID 1 it must do nothing at all.
    result = subprocess.run(["busybox", "sh", os.path.join(SCRIPTS, "agent.sh")],
                            capture_output=True, text=True, env={"IPA_MODE": "clean"})

    assert (result.returncode, result.stderr) == \
        (1, "agent.sh runs only as the ramdisk's /init\n")
