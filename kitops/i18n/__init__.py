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

Who reads which language (``resolve_locale``): the ``--locale`` option, else the user's own
language, else their clinic's locale, else the environment (``LANGUAGE``, ``LC_ALL``,
``LC_MESSAGES``, ``LANG``). A document for one clinic (a label, a purchase order, a
patient's calendar, a course card, a report for that clinic) is made in the clinic's
locale: ``use_clinic_locale(locale)`` around where it is made, which leaves the language
alone when ``--locale`` forced one (``force_locale``). Any locale Babel knows
(``parse_locale``) is accepted for formats; its texts are English until kitops ships a
catalog for its language (``has_catalog``).
"""

from __future__ import annotations

import gettext as _gettext
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING

from kitops.errors import render_bad_input_with

if TYPE_CHECKING:
    import datetime as dt

    from kitops.i18n.formats import MoneyLike

__all__ = [
    "DEFAULT_LOCALE",
    "DOMAIN",
    "LOCALE_DIR",
    "N_",
    "UnknownLocale",
    "_",
    "bad_input_line",
    "current_locale",
    "force_locale",
    "forced_locale",
    "format_date",
    "format_money",
    "gettext",
    "has_catalog",
    "install_translations",
    "kept_locale",
    "locale_from_environment",
    "ngettext",
    "normalize_locale",
    "parse_locale",
    "pgettext",
    "resolve_locale",
    "set_default_locale",
    "translations",
    "use_clinic_locale",
    "use_locale",
]

DOMAIN = "kitops"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DEFAULT_LOCALE = "en"

_default_locale = DEFAULT_LOCALE
_override: ContextVar[str | None] = ContextVar("kitops_locale", default=None)
_loaded: dict[str, _gettext.NullTranslations] = {}
_forced: str | None = None  # the --locale option: documents follow it too


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


def force_locale(tag: str | None) -> str | None:
    """The ``--locale`` option: the process speaks ``tag`` and documents for a clinic
    follow it instead of the clinic's locale (``use_clinic_locale``). ``None`` lifts it
    (the language set stays). Returns the normalised tag."""
    global _forced
    _forced = normalize_locale(tag) if tag else None
    if _forced is not None:
        set_default_locale(_forced)
    return _forced


def forced_locale() -> str | None:
    """The locale ``--locale`` forced, if any."""
    return _forced


@contextmanager
def kept_locale() -> Iterator[None]:
    """Whatever the block sets as the process's language (and ``--locale``) is undone
    when it ends: one command run in a process that runs many (the tests, a shell)."""
    global _default_locale, _forced
    saved = (_default_locale, _forced)
    try:
        yield
    finally:
        _default_locale, _forced = saved


@contextmanager
def use_clinic_locale(tag: str | None) -> Iterator[str]:
    """Within the block, speak a clinic's locale (a document for that clinic): ``tag``,
    unless ``--locale`` forced another, or ``None`` (the clinic has none: keep the
    language in force)."""
    with use_locale(None if _forced else tag) as chosen:
        yield chosen


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


class UnknownLocale(ValueError):
    """A locale tag Babel does not know; the text is the reason (the caller names the
    field: ``InvalidInput(field, value, str(error))``)."""


_TAG = re.compile(r"[A-Za-z]{2,3}(?:[_-][A-Za-z0-9]{2,8}){0,3}")


def parse_locale(tag: str) -> str:
    """A locale tag as kitops stores it, if Babel (CLDR) knows it: ``de-AT``, ``de_at``
    and ``de_AT.UTF-8`` → ``de_AT``. Raises ``UnknownLocale`` otherwise."""
    from babel import Locale, UnknownLocaleError

    value = tag.strip().split(".", 1)[0]
    if not _TAG.fullmatch(value):
        raise UnknownLocale(_("must be a locale such as en, de or de_AT"))
    try:
        return str(Locale.parse(value.replace("-", "_")))
    except (UnknownLocaleError, ValueError):
        raise UnknownLocale(_("is not a locale kitops knows (such as en, de or de_AT)")) from None


def has_catalog(tag: str) -> bool:
    """Whether kitops speaks ``tag``'s language (English, or a catalog in ``kitops/locale``
    for the locale or its language); formats follow any locale all the same."""
    key = normalize_locale(tag)
    language = key.split("_", 1)[0]
    if language == DEFAULT_LOCALE:
        return True
    for name in dict.fromkeys((key, language)):
        folder = LOCALE_DIR / name / "LC_MESSAGES"
        if (folder / f"{DOMAIN}.mo").is_file() or (folder / f"{DOMAIN}.po").is_file():
            return True
    return False


def resolve_locale(
    *,
    override: str | None = None,
    user_language: str | None = None,
    clinic_locale: str | None = None,
    environ: dict[str, str] | None = None,
) -> str:
    """The language a person reads kitops in: the ``--locale`` option, else the user's own
    language (``user set-language``), else their clinic's locale (the one clinic they are
    limited to, else the database's only clinic), else the environment's
    (``locale_from_environment``). Returns the normalised tag."""
    for chosen in (override, user_language, clinic_locale):
        if chosen and chosen.strip():
            return normalize_locale(chosen)
    return locale_from_environment(environ)


def N_(message: str) -> str:
    """Mark a string for the catalog without translating it here (module constants)."""
    return message


def bad_input_line(field: str, value: object, reason: str) -> str:
    """A bad value as ``FIELD VALUE: REASON``, the field as the command line spells it
    (never translated), "(missing)" for no value, in the language in force: what
    ``str(InvalidInput)`` says wherever it is shown."""
    shown = gettext("(missing)") if value is None or value == "" else repr(value)
    return gettext("{field} {value}: {reason}").format(field=field, value=shown, reason=reason)


render_bad_input_with(bad_input_line)


def format_date(value: dt.date | None) -> str:
    """A day (or a moment, to the minute) inside a message, as the language in force
    writes it: ``2026-12-04`` in the neutral ``en``, ``4.12.2026`` in German
    (``kitops.i18n.formats``; Babel is loaded only when a message shows one); no day
    at all reads "none"."""
    import datetime as dt

    from kitops.i18n import formats

    if value is None:
        return gettext("none")
    if isinstance(value, dt.datetime):
        return formats.datetime(value)
    return formats.date(value)


def format_money(value: MoneyLike) -> str:
    """An amount inside a message, as the language in force writes it: ``315.00 GBP`` in
    the neutral ``en``, ``315,00 £`` in German."""
    from kitops.i18n import formats

    return formats.money(value)
