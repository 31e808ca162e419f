"""Layer boundaries and the fast start of the command line."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _modules(package: str) -> list[Path]:
    """The package's files, without kitops/tui: that link to tui/ is the UI's."""
    return [
        path
        for path in (ROOT / package).rglob("*.py")
        if not any(parent.is_symlink() for parent in path.relative_to(ROOT).parents)
    ]


def _imported_modules(package: str, *, files: list[Path] | None = None) -> set[str]:
    found: set[str] = set()
    for path in _modules(package) if files is None else files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
    return found


def test_importing_the_cli_loads_neither_textual_nor_stripe_nor_the_orm():
    code = (
        "import sys, kitops.cli; "
        "bad = [m for m in ('textual', 'stripe', 'sqlalchemy', 'kitops.data.schema') "
        "if m in sys.modules]; print(','.join(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""


def test_domain_imports_only_the_standard_library_and_dateutil():
    # and iso4217: the ISO 4217 table as data (no dependencies), which Money reads
    allowed_roots = {"kitops", "dateutil", "iso4217"} | set(sys.stdlib_module_names)
    for module in _imported_modules("kitops/domain"):
        root = module.split(".")[0]
        assert root in allowed_roots, module
        if root == "kitops":
            assert module.startswith(("kitops.domain", "kitops.errors", "kitops.i18n")), module


def test_kitops_never_imports_textual():
    assert not any(m.split(".")[0] in ("textual", "tui") for m in _imported_modules("kitops"))


def test_only_the_tui_command_imports_the_ui():
    """The UI ships as kitops.tui; the rest of kitops sees it only where `kitops tui` starts
    it (the upward import declared in pyproject.toml's import-linter contract)."""
    importers = [
        str(path.relative_to(ROOT))
        for path in _modules("kitops")
        if any(m.startswith("kitops.tui") for m in _imported_modules("kitops", files=[path]))
    ]
    assert importers == ["kitops/cli/app.py"]


def test_the_ui_imports_itself_relatively_and_never_as_a_top_level_tui():
    assert not any(m == "tui" or m.startswith("tui.") for m in _imported_modules("tui"))


def test_the_layer_contracts_hold():
    """import-linter's contracts in pyproject.toml: cli | tui -> jobs -> bootstrap ->
    views | reports | documents -> services -> data | payments -> domain -> errors."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_tui_uses_the_service_layer_not_the_database():
    for module in _imported_modules("tui"):
        assert not module.startswith(("sqlalchemy", "kitops.data")), module


def test_only_the_payments_adapter_imports_stripe():
    for path in (ROOT / "kitops").rglob("*.py"):
        if "payments" in path.parts:
            continue
        assert "import stripe" not in path.read_text(encoding="utf-8"), path


def test_the_tui_command_loads_textual_only_when_it_runs():
    code = (
        "import sys\n"
        "from kitops.cli import run\n"
        "run(['tui', '--help'])\n"
        "print('loaded:' + ','.join(m for m in ('textual', 'kitops.tui.app') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out.splitlines()[-1] == "loaded:"


def test_kitops_help_loads_no_web_server():
    """``kitops --help`` (and every command but ``serve``) starts without the web stack:
    FastAPI, Starlette and uvicorn load only when the server runs."""
    code = (
        "import sys\n"
        "from kitops.cli import run\n"
        "run(['--help'])\n"
        "web = ('fastapi', 'starlette', 'uvicorn', 'kitops.web')\n"
        "print('loaded:' + ','.join(m for m in web if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out.splitlines()[-1] == "loaded:"


def test_a_command_imports_its_own_module_and_no_other_commands():
    """The root group imports a command's module when the command is asked for
    (kitops.cli.app.COMMANDS): ``kitops stock`` loads kitops.cli.stock and none of the
    other command modules; ``kitops --help`` lists every command."""
    code = (
        "import sys\n"
        "from kitops.cli import run\n"
        "run(['stock', '--help'])\n"
        "print('loaded:' + ','.join(sorted(m for m in sys.modules if m.startswith('kitops.cli.'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    shared = ("app", "click_texts", "collector", "context", "help", "output")
    assert out.splitlines()[-1] == "loaded:" + ",".join(
        f"kitops.cli.{name}" for name in sorted((*shared, "stock"))
    )


def test_the_root_group_names_every_command_module():
    """Every command the lazy root group lists is found where COMMANDS says, a group
    that another module adds to carries those commands too."""
    from kitops.cli.app import COMMANDS, cli

    listed = {name: command.name for name, command in cli.commands.items()}
    assert set(listed) == {*COMMANDS, "tui"}
    assert all(name == shown for name, shown in listed.items())
    assert "label" in cli.commands["location"].commands  # type: ignore[attr-defined]
    assert "card" in cli.commands["course"].commands  # type: ignore[attr-defined]
    assert "set-email" in cli.commands["user"].commands  # type: ignore[attr-defined]


# What the everyday commands never need: the UI, the web stack, payments, papers and
# charts, the migration tool, the translation tooling (kitops start-up: README, Performance)
NOT_FOR_EVERYDAY = (
    "textual", "stripe", "fastapi", "starlette", "uvicorn", "httpx", "jinja2", "PIL", "fpdf",
    "pygal", "segno", "alembic", "babel", "kitops.web", "kitops.tui", "kitops.documents",
    "kitops.payments", "kitops.jobs",
)  # fmt: skip
# ...nor, run in this order in one process, the services only another use case needs:
# a trace the kits service (a recall's), a receipt or move the purchasing service (a
# receipt against an order's), kit list the catalogue service (assembly's); the users'
# service and its DTOs (a PIN check, a write-off's limit), the repositories none of them
# reads (the unit of work makes each on first use), and the DTOs of another use case
# (the stock listing makes none: it prints tuples)
_UNREAD = [
    "kitops.services.users", "kitops.services.dto.users", "kitops.data.repositories.orders",
    "kitops.data.repositories.purchasing", "kitops.data.repositories.clinic_calendar",
]  # fmt: skip
_LISTING = [
    *_UNREAD, "kitops.services.dto.stock", "kitops.services.dto.lots",
    "kitops.data.repositories.courses", "kitops.data.repositories.kits",
    "kitops.data.repositories.plans",
]  # fmt: skip
NOT_YET = {
    "stock --json": _LISTING,
    "stock --location LON": _LISTING,
    "trace PTT6-A0519": ["kitops.services.kits", "kitops.services.dto.stock", *_UNREAD],
    "receive CHX-0.5 --qty 1 --location LON-SHELF": ["kitops.services.purchasing", *_UNREAD],
    "move CHX-0.5 --qty 1 --from LON-SHELF --to LON-STORE": [
        "kitops.services.purchasing",
        *_UNREAD,
    ],
    "kit list": ["kitops.services.purchasing", "kitops.services.catalog", *_UNREAD],
}
EVERYDAY = (
    ("stock", "--json"),
    ("stock", "--location", "LON"),
    ("trace", "PTT6-A0519"),
    ("receive", "CHX-0.5", "--qty", "1", "--location", "LON-SHELF"),
    ("move", "CHX-0.5", "--qty", "1", "--from", "LON-SHELF", "--to", "LON-STORE"),
    ("kit", "list"),
)


@pytest.mark.demo_data
def test_everyday_commands_load_only_what_they_need(db_url: str) -> None:
    """stock, trace, receive, move and kit list, run as the command line runs them, import
    none of the heavy modules other commands use (and ``--json`` no rich: no table), nor
    the other database's SQLAlchemy dialect (its package is some 25 ms) or driver. One
    process runs them in turn, so the first command that loads one is the one named (and
    NOT_YET names what a command must still not have loaded by its turn)."""
    sqlite = db_url.startswith("sqlite")
    other = (
        ["sqlalchemy.dialects.postgresql", "psycopg"] if sqlite else ["sqlalchemy.dialects.sqlite"]
    )
    not_loaded = [*NOT_FOR_EVERYDAY, *other]
    code = (
        "import json, sys\n"
        "from kitops.cli import run\n"
        "shown = {}\n"
        "for command in json.loads(sys.argv[1]):\n"
        "    done = run(['--db', sys.argv[2], '--user', 'tester', *command])\n"
        "    named = ' '.join(command)\n"
        "    wanted = json.loads(sys.argv[3]) + json.loads(sys.argv[4]).get(named, [])\n"
        "    heavy = [m for m in wanted if m in sys.modules]\n"
        "    table = 'rich' in sys.modules\n"
        "    shown[named] = [done, heavy, table]\n"
        "print(json.dumps(shown))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(EVERYDAY), db_url, json.dumps(not_loaded),
         json.dumps(NOT_YET)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    shown = json.loads(out.splitlines()[-1])
    assert [done for done, _, _ in shown.values()] == [0] * len(EVERYDAY), shown
    assert {command: heavy for command, (_, heavy, _) in shown.items() if heavy} == {}
    assert shown["stock --json"][2] is False  # a JSON answer draws no table


@pytest.mark.demo_data
def test_the_collector_is_back_on_once_a_command_opens_its_database(db_url: str) -> None:
    """``kitops`` holds the garbage collector while a command imports (kitops.cli.collector)
    and turns it back on, the imports frozen, when the command opens its database: a
    long command (a count, the web server) collects its garbage as usual."""
    code = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('collector:', gc.isenabled(), gc.get_freeze_count() > 0))\n"
        "from kitops.cli import main\n"
        "sys.argv = ['kitops', '--db', sys.argv[1], '--user', 'tester', 'stock', '--json']\n"
        "main()\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, db_url], capture_output=True, text=True, check=True
    ).stdout
    assert out.splitlines()[-1] == "collector: True True"


def test_the_tui_paints_its_first_screen_before_loading_the_orm():
    """The app shell and the dashboard import no SQLAlchemy: the database opens in a
    worker thread while the first frame paints."""
    code = (
        "import sys, kitops.tui.app, kitops.tui.screens.dashboard; "
        "print(','.join(m for m in ('sqlalchemy', 'kitops.data') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""


def test_kitops_never_asks_the_database_for_the_time():
    """Every date and time comes from Python's clock (so `pytest --today` pins all of it and
    the SQLite runs of `make test-dates` stand for PostgreSQL too), never from the server's
    ``now()``, ``CURRENT_DATE`` or ``CURRENT_TIMESTAMP``."""
    import re

    server_clock = re.compile(
        r"func\.(now|current_date|current_timestamp|localtimestamp)\b"
        r"|\b(CURRENT_DATE|CURRENT_TIMESTAMP|LOCALTIMESTAMP|transaction_timestamp|"
        r"statement_timestamp|clock_timestamp)\b|[^.\w]now\(\)",
        re.IGNORECASE,
    )
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for package in ("kitops", "tui", "migrations")
        for path in (ROOT / package).rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if server_clock.search(line) and not line.strip().startswith("NEW.db_time :=")
    ]
    assert found == []
    # the one use of the server's clock: PostgreSQL stamps ledger and audit rows with it
    # (migration 0017) for whoever audits the database itself; kitops never reads it back
    readers = [
        f"{path.relative_to(ROOT)}"
        for package in ("kitops", "tui")
        for path in (ROOT / package).rglob("*.py")
        if "db_time" in path.read_text(encoding="utf-8")
    ]
    assert readers == ["kitops/data/schema.py"]
