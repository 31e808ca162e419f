"""click's own messages (usage errors, help page words, prompts) in the language in force.

click writes its messages through the standard library's ``gettext`` in the default
domain, which kitops does not use: every ``click`` module binds ``_`` (and some
``ngettext``) at import. ``speak_kitops`` rebinds them, once, to ``kitops.i18n``'s, so
"Missing option '--qty'." comes out as "Fehlende Option '--qty'." under ``--locale de``
(the neutral ``en`` reads the code's English, as before). The messages themselves are
listed below with the markers babel extracts, so the German catalog holds them; the list
follows click's wording (a new click release that rewords one shows up as English, never
as an error). Developer errors (a command defined wrongly) stay out: nobody using kitops
meets them.
"""

from __future__ import annotations

import importlib

from kitops.i18n import N_, ngettext
from kitops.i18n import gettext as _gettext

__all__ = ["CLICK_MESSAGES", "CLICK_MODULES", "plural_messages", "speak_kitops"]

# the click modules that call ``_`` or ``ngettext`` for what a person reads
CLICK_MODULES = (
    "click.core",
    "click.decorators",
    "click.exceptions",
    "click.formatting",
    "click.parser",
    "click.termui",
    "click.types",
    "click.utils",
)

CLICK_MESSAGES = (
    # click.exceptions: usage errors
    N_("Error: {message}"),
    N_("Try '{command} {option}' for help."),
    N_("Invalid value: {message}"),
    N_("Invalid value for {param_hint}: {message}"),
    N_("Missing argument"),
    N_("Missing option"),
    N_("Missing parameter"),
    N_("Missing {param_type}"),
    N_("Missing parameter: {param_name}"),
    N_("No such option {name!r}."),
    N_("No such command {name!r}."),
    N_("unknown error"),
    N_("Could not open file {filename!r}: {message}"),
    # click.parser
    N_("Option {name!r} does not take a value."),
    N_("Argument {name!r} takes {nargs} values."),
    # click.core: help pages, prompts, the version
    N_("Usage:"),
    N_("Options"),
    N_("Commands"),
    N_("Positional arguments"),
    N_("Aborted!"),
    N_("deprecated"),
    N_("Missing command."),
    N_("env var: {var}"),
    N_("default: {default}"),
    N_("(dynamic)"),
    N_("Show this message and exit."),
    N_("Show the version and exit."),
    N_("Do you want to continue?"),
    N_("Confirm the action without prompting."),
    # click.termui
    N_("Repeat for confirmation"),
    N_("Error: The two entered values do not match."),
    N_("Error: invalid input"),
    N_("Press any key to continue..."),
    # click.types
    N_("Choose from:\n\t{choices}"),
    N_("{value!r} is not a valid {number_type}."),
    N_("{value} is not in the range {range}."),
    N_("{value!r} is not a valid boolean. Recognized values: {states}"),
    N_("{value!r} is not a valid UUID."),
    N_("file"),
    N_("directory"),
    N_("path"),
    N_("{name} {filename!r} does not exist."),
    N_("{name} {filename!r} is a file."),
    N_("{name} {filename!r} is a directory."),
    N_("{name} {filename!r} is not readable."),
    N_("{name} {filename!r} is not writable."),
    N_("{name} {filename!r} is not executable."),
)


def plural_messages(n: int) -> tuple[str, ...]:
    """click's messages with a singular and a plural, as the language in force says them
    for ``n`` (written here so that babel extracts them; the tests read them back)."""
    return (
        ngettext(
            "Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})", n
        ),
        ngettext("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)", n),
        ngettext(
            "Option {name!r} requires an argument.",
            "Option {name!r} requires {nargs} arguments.",
            n,
        ),
        ngettext("{value!r} is not {choice}.", "{value!r} is not one of {choices}.", n),
        ngettext(
            "{value!r} does not match the format {format}.",
            "{value!r} does not match the formats {formats}.",
            n,
        ),
        ngettext(
            "Takes {nargs} values but 1 was given.", "Takes {nargs} values but {len} were given.", n
        ),
        ngettext(
            "{len_type} values are required, but {len_value} was given.",
            "{len_type} values are required, but {len_value} were given.",
            n,
        ),
    )


def speak_kitops() -> None:
    """Make click's modules translate through kitops' catalogs, in the language in force
    when each message is made. Idempotent; the command line calls it once, as it loads."""
    for name in CLICK_MODULES:
        module = importlib.import_module(name)
        if hasattr(module, "_"):
            module._ = _gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext  # type: ignore[attr-defined]
