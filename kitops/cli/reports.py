"""``kitops report NAME``: the manager reports, one command per registry entry.

The commands are built from ``kitops.reports.registry`` (which loads no database
code), so a report added there appears here with its options, its help and every format.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from kitops.cli.context import Context, pass_context
from kitops.cli.help import command, group
from kitops.i18n import N_, _
from kitops.reports.registry import REPORTS, ReportSpec

_EXTENSIONS = {".csv": "csv", ".json": "json", ".html": "html", ".htm": "html"}


@group(
    help=N_(
        "Manager reports: stock, expiring, kits, demand, cover, wastage, valuation, "
        "movements.\n\n"
        "Every report takes --clinic, --as-of, --format table|csv|json|html and --out "
        "FILE; the formats show the same numbers. --format html writes one "
        "self-contained page with charts."
    ),
)
def report() -> None: ...


def _table_width() -> int:
    if sys.stdout.isatty():
        return min(100, shutil.get_terminal_size((100, 24)).columns)
    return 100


def _run(ctx: Context, spec: ReportSpec, params: dict[str, Any]) -> None:
    from kitops.documents.report_files import parse_format, render
    from kitops.domain.text import visible
    from kitops.reports.registry import run_report
    from kitops.services.dto.reports import ReportRequest

    out: str | None = params.pop("out")
    fmt: str | None = params.pop("fmt")
    if fmt is None and out:
        fmt = _EXTENSIONS.get(Path(out).suffix.lower())
    chosen = parse_format(fmt)
    request = ReportRequest(
        clinic=params.pop("clinic"),
        as_of=params.pop("as_of"),
        options=dict(params),
    )
    # a report for one clinic in its locale; for every clinic, the language in force
    with ctx.documents_for(clinic=request.clinic):
        result = run_report(ctx.uow(readonly=True), spec.name, request)
        content = render(result, chosen, width=100 if out else _table_width())
    if not out:
        # to a terminal: any control character a cell holds shows escaped
        if chosen != "json":  # JSON: written escaped already (report_files.render_json)
            content = visible(content, keep_newlines=True)
        click.echo(content, nl=not content.endswith("\n"))
        return
    try:
        Path(out).write_text(content, encoding="utf-8")
    except OSError as error:
        from kitops.errors import InvalidInput

        raise InvalidInput("out", out, error.strerror or _("cannot be written")) from None
    click.echo(
        _("report {name} ({format}) written to {path}").format(
            name=spec.name, format=chosen, path=out
        )
    )


def _command(spec: ReportSpec) -> click.Command:
    def callback(ctx: Context, **params: Any) -> None:
        _run(ctx, spec, params)

    callback.__doc__ = spec.description
    wrapped: Callable[..., None] = pass_context(callback)
    options = [
        click.option(
            "--clinic", metavar="LOC", help=N_("Only this clinic (default: every clinic).")
        ),
        click.option(
            "--as-of",
            "as_of",
            metavar="YYYY-MM-DD",
            help=N_("The report day (default: today in the clinic's time zone)."),
        ),
        click.option(
            "--format",
            "fmt",
            metavar="table|csv|json|html",
            help=N_("Output format (default: table, or from the --out file's extension)."),
        ),
        click.option("--out", metavar="FILE", help=N_("Write to FILE instead of the terminal.")),
    ]
    for option in spec.options:
        flag = f"--{option.name}"
        default = f" Default: {option.default}." if option.default else ""
        options.append(
            click.option(flag, option.name, metavar=option.metavar, help=option.help + default)
        )
    for decorate in reversed(options):
        wrapped = decorate(wrapped)
    return command(spec.name, help=spec.description, short_help=spec.summary)(wrapped)


for _spec in REPORTS.values():
    report.add_command(_command(_spec))
