"""Imports run one way: the import-linter contracts in pyproject.toml (services never import
each other but through rpcapi.py; common, db and bus know no service; lab imports no service;
cmd, deploy, serve/lab, services, client/host, common/db/bus are layers) all hold."""
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=REPO, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
