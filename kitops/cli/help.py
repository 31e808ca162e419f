"""Help texts in the language in force when they are shown.

click reads a command's help and its options' help when the module is imported, before
the language is known; the texts are marked with ``N_`` there and translated here, at the
moment ``--help`` (or a group's list of commands) is written. Every command and group of
the command line is made with ``command`` and ``group`` from this module (a group's own
``.command()`` and ``.group()`` make the same classes), which
tests/e2e/test_cli_german.py checks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from kitops.i18n import N_
from kitops.i18n import gettext as translated

__all__ = ["KitopsCommand", "KitopsGroup", "command", "group"]

# what click itself writes into a help page, in English there
USAGE = N_("Usage:")
SECTIONS = (N_("Options"), N_("Commands"))
CLICK_HELP = (N_("Show this message and exit."), N_("Show the version and exit."))


class KitopsFormatter(click.HelpFormatter):
    """click's help formatter with its "Usage:" and section headings translated."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        if prefix is None:
            prefix = f"{translated(USAGE)} "
        super().write_usage(prog, args, prefix)

    def section(self, name: str) -> Any:
        return super().section(translated(name))


class KitopsContext(click.Context):
    """A context whose help pages use ``KitopsFormatter``."""

    formatter_class = KitopsFormatter


class TranslatedHelp(click.Command):
    """A command whose help, short help and options' help are translated when shown."""

    context_class = KitopsContext

    @contextmanager
    def _speaking(self, ctx: click.Context | None = None) -> Iterator[None]:
        params = self.get_params(ctx) if ctx is not None else list(self.params)
        saved = (self.help, self.short_help, [getattr(p, "help", None) for p in params])
        try:
            if self.help:
                self.help = translated(self.help)
            if self.short_help:
                self.short_help = translated(self.short_help)
            for param in params:
                text = getattr(param, "help", None)
                if text:
                    param.help = translated(text)
            yield
        finally:
            self.help, self.short_help, helps = saved
            for param, text in zip(params, helps, strict=True):
                if text is not None:
                    param.help = text

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with self._speaking(ctx):
            super().format_help(ctx, formatter)

    def get_short_help_str(self, limit: int = 45) -> str:
        with self._speaking():
            return super().get_short_help_str(limit)


class KitopsCommand(TranslatedHelp):
    """A command of the command line (its help translated when shown)."""


class KitopsGroup(TranslatedHelp, click.Group):
    """A group of commands (its help, and its commands', translated when shown)."""

    command_class = KitopsCommand
    group_class = type  # a subgroup is a KitopsGroup too


def command(name: str | None = None, **attrs: Any) -> Callable[[Callable[..., Any]], click.Command]:
    """``click.command`` making a ``KitopsCommand``."""
    return click.command(name, cls=KitopsCommand, **attrs)


def group(name: str | None = None, **attrs: Any) -> Callable[[Callable[..., Any]], click.Group]:
    """``click.group`` making a ``KitopsGroup``."""
    return click.group(name, cls=KitopsGroup, **attrs)
