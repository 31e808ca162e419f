"""Secrets: from the environment or a file only its owner can read; never printed."""

from __future__ import annotations

import os

import pytest
from e2e_support import assert_bad_input
from sqlalchemy.engine import make_url

PASSWORD = "s3cret-Pw-4711"


@pytest.fixture
def plain(capsys, monkeypatch):
    """``plain(*args)`` → Result of ``kitops ARGS`` with no --db and no --user given."""
    from kitops.cli import run

    monkeypatch.setenv("KITOPS_USER", "tester")
    monkeypatch.delenv("KITOPS_DATABASE_URL", raising=False)

    def invoke(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = run(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return invoke


def secret_file(tmp_path, name: str, content: str, mode: int) -> str:
    path = tmp_path / name
    path.write_text(content + "\n", encoding="utf-8")
    os.chmod(path, mode)
    return str(path)


def test_the_database_url_comes_from_a_file_only_its_owner_reads(
    plain, db_url, tmp_path, monkeypatch
):
    shared = secret_file(tmp_path, "db-url-shared", db_url, 0o644)
    monkeypatch.setenv("KITOPS_DATABASE_URL_FILE", shared)
    code, out, err = plain("stock")
    assert code == 2, err
    assert err.strip().splitlines() == [
        f"kitops: KITOPS_DATABASE_URL_FILE {shared!r}: others may read it (mode 0644); "
        f"`chmod 600 {shared}`"
    ]
    assert out == ""
    private = secret_file(tmp_path, "db-url", db_url, 0o600)
    monkeypatch.setenv("KITOPS_DATABASE_URL_FILE", private)
    code, out, err = plain("stock", "--json")
    assert (code, out.strip()) == (0, "[]"), err
    monkeypatch.setenv("KITOPS_DATABASE_URL", db_url)
    code, _, err = plain("stock")
    assert code == 2
    assert "KITOPS_DATABASE_URL and KITOPS_DATABASE_URL_FILE are both set" in err


def test_missing_and_empty_secret_files_are_bad_input(plain, tmp_path, monkeypatch):
    monkeypatch.setenv("KITOPS_DATABASE_URL_FILE", str(tmp_path / "absent"))
    code, _, err = plain("stock")
    assert code == 2
    assert "cannot be read" in err
    monkeypatch.setenv("KITOPS_DATABASE_URL_FILE", secret_file(tmp_path, "empty", "", 0o600))
    code, _, err = plain("stock")
    assert code == 2
    assert "is empty" in err


def test_the_stripe_key_file_must_be_private_too(demo, tmp_path, monkeypatch):
    monkeypatch.delenv("KITOPS_STRIPE_API_KEY", raising=False)
    key = secret_file(tmp_path, "stripe-key", "sk_test_" + PASSWORD, 0o640)
    monkeypatch.setenv("KITOPS_STRIPE_API_KEY_FILE", key)
    result = demo("stripe", "sync")
    assert_bad_input(result, "KITOPS_STRIPE_API_KEY_FILE", "chmod 600")
    assert PASSWORD not in result.err + result.out


def test_a_password_in_the_database_url_never_reaches_the_output(plain, db_url, backend):
    if backend == "postgresql":
        url = make_url(db_url).set(password=PASSWORD).render_as_string(hide_password=False)
    else:
        url = f"postgresql://kitops:{PASSWORD}@127.0.0.1:1/nowhere"  # nothing listens there
    seen = []
    for args in (
        ["--db", url, "db", "current"],
        ["--db", url, "db", "current", "--json"],
        ["--db", url, "stock"],
        ["--db", url.replace("postgresql", "postgresql+nosuchdriver", 1), "stock"],
        ["--db", url.replace("postgresql", "oracle", 1), "stock"],
    ):
        code, out, err = plain(*args)
        seen.append((args[-1], code, out + err))
        assert PASSWORD not in out + err, (args, out, err)
    if backend == "postgresql":  # the server accepts the test's connections without one
        assert seen[0][1] == 0
        assert ":***@" in seen[0][2]
    assert any("***" in text for _, _, text in seen), seen
