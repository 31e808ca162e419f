"""The error contract: 0 done, 1 refused, 2 bad input; one line, never a traceback;
a refused command writes nothing. The last tests run the installed ``kitops`` script."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from e2e_support import assert_bad_input, assert_refused

from kitops.cli import run

KITOPS = str(Path(sys.executable).parent / "kitops")

BAD_INPUT = [
    # command, then the strings the one stderr line must contain (field and value)
    (["stock", "--sku", "NOPE"], "sku", "NOPE"),
    (["stock", "--location", "ATLANTIS"], "location", "ATLANTIS"),
    (["catalog", "add-recipe", "KIT-HOME-6W", "GHOST=1"], "component", "GHOST"),
    (["catalog", "add-recipe", "KIT-HOME-6W", "SERUM-5ML=-3"], "SERUM-5ML", "-3"),
    (["catalog", "add-recipe", "KIT-HOME-6W", "SERUM-5ML=0"], "SERUM-5ML", "0"),
    (["location", "add", "X-1", "--name", "X", "--parent", "ATLANTIS"], "parent", "ATLANTIS"),
    (["location", "add", "ROM", "--name", "Rome", "--timezone", "Rome/Italy"], "timezone",
     "Rome/Italy"),
    (["catalog", "add-product", "N", "--name", "N", "--kind", "consumable", "--gtin",
      "5060999900015"], "gtin", "5060999900015"),
    (["catalog", "add-product", "N", "--name", "N", "--kind", "serum_vial", "--ml", "-1"], "ml",
     "-1"),
    (["catalog", "add-product", "N", "--name", "N", "--kind", "gel"], "--kind", "gel"),
    (["location", "add", "N", "--name", "N", "--kind", "cupboard"], "--kind", "cupboard"),
    (["demo", "--as-of", "2026-02-30"], "as_of", "2026-02-30"),
    (["demo", "--as-of", "tomorrow"], "as_of", "tomorrow"),
    (["stock", "--colour", "red"], "--colour"),
    (["--colour", "red", "stock"], "--colour"),
    (["stok"], "stok"),
    (["catalog", "add-product", "N", "--kind", "consumable"], "--name"),
    (["catalog", "add-recipe", "KIT-HOME-6W"], "COMPONENT_SKU=QTY"),
    (["stock", "--location"], "--location"),
    (["import", "suppliers", "x.csv"], "suppliers"),
]  # fmt: skip

REFUSED = [
    (["catalog", "add-product", "SERUM-5ML", "--name", "S", "--kind", "serum_vial", "--ml", "5"],
     "SERUM-5ML"),
    (["location", "add", "VIE", "--name", "Vienna", "--timezone", "Europe/Vienna"], "VIE"),
    (["demo"], "already holds data"),
    (["demo", "--as-of", "2026-11-22", "--json"], "already holds data"),
]  # fmt: skip


def test_bad_input_exits_2_with_one_line_naming_field_and_value_and_writes_nothing(demo, snapshot):
    before = snapshot()
    for args, *needles in BAD_INPUT:
        result = demo(*args)
        assert_bad_input(result, *needles)
        assert result.err.startswith("kitops: "), result.err
        assert result.out == "", (args, result.out)
    assert snapshot() == before


def test_refusal_exits_1_with_one_line_and_writes_nothing(demo, snapshot):
    before = snapshot()
    for args, needle in REFUSED:
        result = demo(*args)
        assert_refused(result, needle)
        assert result.out == "", (args, result.out)
    assert snapshot() == before


def test_help_and_version_exit_0_without_a_database(capsys):
    for args in (["--help"], ["stock", "--help"], ["import", "-h"], ["catalog"], ["db"]):
        code = run(args)
        out, err = capsys.readouterr()
        assert code == 0, (args, err)
        assert "Usage:" in out, args
        assert err == ""
    assert run(["--version"]) == 0
    assert capsys.readouterr().out.startswith("kitops, version ")


# --- the installed script, as a user runs it (SQLite only) -------------------------------


def kitops_process(tmp_path, *args):
    env = {**os.environ, "KITOPS_DATABASE_URL": f"sqlite:///{tmp_path / 'kitops.db'}"}
    env.pop("KITOPS_DEBUG", None)
    return subprocess.run(
        [KITOPS, *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_installed_script_help_exits_0(tmp_path):
    for args in (["--help"], []):
        done = kitops_process(tmp_path, *args)
        assert done.returncode == 0, (args, done.stderr)
        assert "Usage: kitops" in done.stdout
        assert "Exit codes" in done.stdout
        assert done.stderr == ""
    assert not (tmp_path / "kitops.db").exists(), "help must not touch the database"


def test_installed_script_unknown_option_exits_2_with_one_line(tmp_path):
    done = kitops_process(tmp_path, "stock", "--no-such-option")
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "--no-such-option" in lines[0]
    assert "Traceback" not in done.stderr


def test_installed_script_on_an_unmigrated_database_exits_1_without_traceback(tmp_path):
    done = kitops_process(tmp_path, "stock")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "kitops db upgrade" in lines[0]
    assert "kitops.db" in lines[0]  # the database it looked at, from KITOPS_DATABASE_URL


def test_installed_script_demo_reset_without_yes_and_no_answer_changes_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'kitops.db'}"
    assert run(["--db", url, "--user", "tester", "db", "upgrade"]) == 0
    assert run(["--db", url, "--user", "tester", "demo", "--as-of", "2026-11-22"]) == 0
    with sqlite3.connect(tmp_path / "kitops.db") as conn:
        rows_before = conn.execute("SELECT count(*) FROM audit_log").fetchone()

    done = kitops_process(tmp_path, "demo", "--reset")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "nothing was changed" in done.stderr

    with sqlite3.connect(tmp_path / "kitops.db") as conn:
        assert conn.execute("SELECT count(*) FROM audit_log").fetchone() == rows_before
        assert conn.execute("SELECT count(*) FROM products").fetchone() == (9,)


def test_a_command_that_ends_with_its_own_exit_code_keeps_it(monkeypatch):
    """`kitops tui` and `kitops stripe sync` end with click's Exit(code) (the UI's own
    code; 1 when an event could not be handled): the code reaches the shell and cron,
    instead of 0. The terminal UI itself is not the point here: it is replaced by one that
    ends at once with code 3."""
    import kitops.tui.app

    monkeypatch.setattr(kitops.tui.app, "run", lambda **_: 3)
    assert run(["tui"]) == 3
    monkeypatch.setattr(kitops.tui.app, "run", lambda **_: 0)
    assert run(["tui"]) == 0
