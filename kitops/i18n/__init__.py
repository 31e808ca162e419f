"""Translations: the gettext catalogs in ``kitops/locale`` and the language in force.

Every string a person reads goes through ``_`` (or ``ngettext`` for counts) at the moment
it is shown, so it comes out in the language in force then::

    from kitops.i18n import _, N_, ngettext

    raise Refused(_("lot {lot} is recalled").format(lot=code))
    HEADINGS = (N_("Lot"), N_("Expiry"))       # marked here, translated where shown:
    [_(h) for h in HEADINGS]

Placeholders are named (``{lot}``) and filled with ``str.format`` after translating,
never with an f-string (an f-string is translated after it is filled, so never matches).
Machine interfaces stay untranslated: ``--json`` keys and values, CSV column names, exit
codes, audit action names.

The language in force is the process's default (``set_default_locale``: the CLI sets it
at start, the terminal UI again after a log-in) unless a block overrides it
(``use_locale``: a document for a clinic in the clinic's locale, a web request in its
user's). The override is a context variable, so concurrent web requests and threads
started with a copied context each keep their own.

Catalogs are managed with Babel (``make messages`` extracts and updates them, ``make
catalogs`` compiles them; the wheel's build compiles them too) and read with the standard
library's ``gettext``: ``de_AT`` falls back to ``de``, which falls back to the English in
the code.
"""

from __future__ import annotations

import gettext as _gettext
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

__all__ = [
    "DEFAULT_LOCALE",
    "DOMAIN",
    "LOCALE_DIR",
    "N_",
    "_",
    "current_locale",
    "gettext",
    "install_translations",
    "locale_from_environment",
    "ngettext",
    "normalize_locale",
    "pgettext",
    "set_default_locale",
    "translations",
    "use_locale",
]

DOMAIN = "kitops"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DEFAULT_LOCALE = "en"

_default_locale = DEFAULT_LOCALE
_override: ContextVar[str | None] = ContextVar("kitops_locale", default=None)
_loaded: dict[str, _gettext.NullTranslations] = {}


def normalize_locale(tag: str | None) -> str:
    """``de_AT.UTF-8`` → ``de_AT``, ``de-at`` → ``de_AT``, ``C``/``POSIX``/empty → ``en``.
    The shape only: whether kitops has the language is ``translations``' business (an
    unknown one reads as English)."""
    value = (tag or "").strip()
    value = value.split(".", 1)[0].split("@", 1)[0].replace("-", "_")
    if not value or value in ("C", "POSIX"):
        return DEFAULT_LOCALE
    language, _sep, territory = value.partition("_")
    return f"{language.lower()}_{territory.upper()}" if territory else language.lower()


def locale_from_environment(environ: dict[str, str] | None = None) -> str:
    """The language the environment asks for, as gettext reads it: ``LANGUAGE`` (its first
    entry), ``LC_ALL``, ``LC_MESSAGES``, ``LANG``; English when none is set."""
    env = os.environ if environ is None else environ
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:
            return normalize_locale(value.split(":", 1)[0])
    return DEFAULT_LOCALE


def translations(tag: str) -> _gettext.NullTranslations:
    """The catalog chain for a locale (``de_AT`` → ``de`` → the code's English), loaded
    once per process."""
    key = normalize_locale(tag)
    found = _loaded.get(key)
    if found is None:
        found = _gettext.translation(DOMAIN, LOCALE_DIR, languages=[key], fallback=True)
        _loaded[key] = found
    return found


def install_translations(tag: str, catalog: _gettext.NullTranslations) -> None:
    """Use ``catalog`` for ``tag`` from now on (the tests' pseudo-locale)."""
    _loaded[normalize_locale(tag)] = catalog


def current_locale() -> str:
    """The locale in force here: the innermost ``use_locale``, else the process default."""
    return _override.get() or _default_locale


def set_default_locale(tag: str | None) -> str:
    """Set the process's language (the CLI at start, the terminal UI after a log-in);
    returns the normalised tag."""
    global _default_locale
    _default_locale = normalize_locale(tag)
    return _default_locale


@contextmanager
def use_locale(tag: str | None) -> Iterator[str]:
    """Within the block, speak ``tag`` (``None``: keep the language in force)."""
    chosen = normalize_locale(tag) if tag else current_locale()
    token = _override.set(chosen)
    try:
        yield chosen
    finally:
        _override.reset(token)


def gettext(message: str) -> str:
    """``message`` in the language in force (``message`` itself when it has no translation)."""
    return translations(current_locale()).gettext(message)


_ = gettext


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form for ``n`` in the language in force: ``ngettext("{n} kit", "{n} kits", n)``."""
    return translations(current_locale()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """``message`` disambiguated by ``context`` (a word with two meanings in German)."""
    return translations(current_locale()).pgettext(context, message)


def N_(message: str) -> str:
    """Mark a string for the catalog without translating it here (module constants)."""
    return message
