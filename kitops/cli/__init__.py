"""The ``kitops`` command line: thin commands over the service layer.

Errors become exit codes here and nowhere else: 2 for bad input (one line naming the
field and the value), 1 for a refusal, never a traceback. Heavy modules (SQLAlchemy,
the models, stripe, Textual) are imported inside the commands that need them, so
``kitops --help`` stays fast.
"""

from __future__ import annotations

import os
import sys

import click

from kitops.cli import collector
from kitops.cli.app import cli
from kitops.domain.text import visible
from kitops.errors import KitopsError
from kitops.filemodes import kitops_files
from kitops.i18n import _, kept_locale, locale_from_environment, set_default_locale
from kitops.secrets import mask

__all__ = ["cli", "main", "run"]


def _say(message: str) -> None:
    # a message may quote a value a person typed or a row holds: control characters show
    # escaped, and secrets in URLs masked
    click.echo(f"kitops: {visible(mask(message), keep_newlines=True)}", err=True)


def run(argv: list[str] | None = None) -> int:
    """Run one command and return its exit code; the language it chose (--locale, the
    user's) lasts until its last line is written, and no longer."""
    with kept_locale():
        return _run(argv)


def _run(argv: list[str] | None) -> int:
    # the environment's language from the first word on: the root --help and a usage error
    # in the root options come before the root command (which sets it again) runs
    set_default_locale(locale_from_environment())
    try:
        with kitops_files():  # every file kitops creates is 0600 (kitops.filemodes)
            ended = cli.main(args=argv, prog_name="kitops", standalone_mode=False)
        # a command that ends with click's Exit(code) (`tui`, `stripe sync`): outside
        # standalone mode click returns that code instead of raising it
        if isinstance(ended, int) and not isinstance(ended, bool):
            return ended
    except click.exceptions.NoArgsIsHelpError as error:
        click.echo(error.format_message())
        return 0
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.Abort:
        click.echo(err=True)  # end the unanswered prompt's line, as click itself does
        _say(_("aborted, nothing was changed"))
        return 1
    except click.ClickException as error:
        _say(_("error: {message}").format(message=" ".join(error.format_message().split())))
        return error.exit_code
    except KitopsError as error:
        _say(error_line(error))
        return error.exit_code
    except KeyboardInterrupt:
        _say(_("interrupted, the open transaction was rolled back"))
        return 130
    except BrokenPipeError:
        return 0
    except Exception as error:  # last resort: one line, never a traceback
        if os.environ.get("KITOPS_DEBUG"):
            raise
        refusal = _database_refusal(error)
        if refusal is not None:
            _say(str(refusal))
            return refusal.exit_code
        _say(
            _("internal error ({kind}): {error}; set KITOPS_DEBUG=1 for details").format(
                kind=type(error).__name__, error=error
            )
        )
        return 70
    finally:
        from kitops.bootstrap import close_databases

        close_databases()
    return 0


def error_line(error: KitopsError) -> str:
    """The line a refusal prints: a bad value as ``FIELD VALUE: REASON`` with the field's
    name as the command line spells it (never translated) and the wording around it in the
    language in force; any other refusal as its message."""
    return str(error)  # InvalidInput's reads as kitops.i18n.bad_input_line says


def _database_refusal(error: Exception) -> KitopsError | None:
    """A database error that escaped the unit of work (opening the connection, checking
    the schema revision, an administrative command): the server is unreachable, the
    database missing, a lock held, a permission refused. One line, exit 1, through the
    same translation the unit of work uses. SQLAlchemy is only looked at if loaded."""
    if "sqlalchemy" not in sys.modules:
        return None
    from sqlalchemy import exc as sa_exc

    if not isinstance(error, sa_exc.DBAPIError):
        return None
    from kitops.services.unit_of_work import translate

    return translate(error)


def main() -> None:
    """The ``kitops`` command: one command per process, its start-up imports made with the
    garbage collector resting (``kitops.cli.collector``)."""
    collector.pause()
    sys.exit(run())
