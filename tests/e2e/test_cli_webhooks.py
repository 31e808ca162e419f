"""`kitops webhook` as an admin types it: add, list, events, remove; bad input is one line
and exit 2, nothing written."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest


@pytest.fixture
def secret_file(tmp_path: Path) -> str:
    path = tmp_path / "hook.secret"
    path.write_text("whsec-e2e-secret\n")
    os.chmod(path, 0o600)
    return str(path)


def test_add_list_and_remove_a_webhook(cli, secret_file):
    added = cli("webhook", "add", "https://erp.example/hooks?token=abc123",
                   "--events", "lot.recalled,po.sent", "--secret-file", secret_file)  # fmt: skip
    assert added.code == 0, added.err
    assert "gets lot.recalled,po.sent" in added.out
    assert "abc123" not in added.out  # a credential in the URL is masked
    listed = cli("webhook", "list", "--json")
    assert listed.code == 0, listed.err
    [hook] = json.loads(listed.out)
    assert hook["events"] == ["lot.recalled", "po.sent"]
    assert (hook["active"], hook["pending"], hook["delivered"]) == (True, 0, 0)
    assert "whsec" not in listed.out
    removed = cli("webhook", "remove", str(hook["id"]))
    assert removed.code == 0, removed.err
    assert json.loads(cli("webhook", "list", "--json").out)[0]["active"] is False
    assert "lot.recalled" in cli("webhook", "events").out


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["http://erp.example/x", "--events", "lot.recalled"], "URL 'http://erp.example/x'"),
        (["https://erp.example/x", "--events", "lot.exploded"], "--events 'lot.exploded'"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(cli, secret_file, args, says):
    result = cli("webhook", "add", *args, "--secret-file", secret_file)
    assert result.code == 2
    assert says in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert "Traceback" not in result.err
    assert json.loads(cli("webhook", "list", "--json").out) == []


def test_a_secret_file_others_may_read_is_refused(cli, tmp_path):
    loose = tmp_path / "loose.secret"
    loose.write_text("whsec\n")
    os.chmod(loose, 0o644)
    result = cli("webhook", "add", "https://erp.example/x", "--events", "all",
                    "--secret-file", str(loose))  # fmt: skip
    assert result.code == 2
    assert "chmod 600" in result.err
    assert json.loads(cli("webhook", "list", "--json").out) == []
