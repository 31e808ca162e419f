"""The command palette (ctrl+p): every screen and action by name, and "find lot / kit /
course" for whatever code is typed."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from kitops.domain.courses import parse_patient_ref
from kitops.domain.ledger import parse_lot_code
from kitops.errors import InvalidInput
from kitops.i18n import _
from kitops.i18n import gettext as translated
from kitops.reports.registry import REPORTS

if TYPE_CHECKING:
    from .app import KitopsApp


class KitopsCommands(Provider):
    @property
    def kitops(self) -> KitopsApp:
        return cast("KitopsApp", self.app)

    def commands(self) -> list[tuple[str, Callable[[], object], str]]:
        app = self.kitops
        go = app.open_screen
        # names and help in the language in force when the palette opens
        return [
            (_("Dashboard"), partial(go, "dashboard"), _("today's work per clinic (F2)")),
            (_("Stock"), partial(go, "stock"), _("lots by clinic and location (F3)")),
            (_("Receive stock"), partial(go, "receive"), _("scan a supplier's label (F4)")),
            (_("Kits"), partial(go, "kits"), _("kits, labels, ship, hand over, return (F5)")),
            (
                _("Assemble kits"),
                partial(go, "kits", tab="assemble"),
                _("with the shortfall first"),
            ),
            (_("Kits to ship"), partial(go, "kits", status="reserved"), _("reserved kits")),
            (
                _("Pick list"),
                app.action_show_pick_list,
                _("scan the kits due to go out (k on Kits)"),
            ),
            (_("Courses"), partial(go, "courses"), _("courses, calendars, fulfil (F6)")),
            (_("New course"), partial(go, "courses", tab="new"), _("with a calendar preview")),
            (
                _("Batch assignment"),
                partial(go, "courses", tab="batch"),
                _("reserve kits due soon"),
            ),
            (_("Orders"), partial(go, "orders"), _("orders and payments for courses (F7)")),
            (_("New order"), partial(go, "orders", create=True), _("an order for a course")),
            (_("Unpaid orders"), partial(go, "orders", status="open"), _("orders not yet paid")),
            (_("Purchase orders"), partial(go, "purchasing"), _("open purchase orders (F8)")),
            (
                _("Draft purchase orders"),
                partial(go, "purchasing", status="draft"),
                _("to approve"),
            ),
            (
                _("Run reorder now"),
                partial(go, "purchasing", reorder=True),
                _("dry run, then confirm"),
            ),
            (_("Reports"), partial(go, "reports"), _("manager reports, charts, export (F9)")),
            *[
                (
                    _("Report: {name}").format(name=translated(spec.label)),
                    partial(go, "reports", report=spec.name),
                    translated(spec.summary),
                )
                for spec in REPORTS.values()
            ],
            (
                _("Count sheet"),
                app.action_count_sheet,
                _("count a place by scanning (C on Stock)"),
            ),
            (
                _("Lots awaiting release"),
                partial(go, "stock", show="quarantine"),
                _("quarantine"),
            ),
            (_("Lots expiring"), partial(go, "stock", show="expiring"), _("within 90 days")),
            (_("Expired stock"), partial(go, "stock", show="expired"), _("to write off")),
            (_("Toggle light/dark theme"), app.action_toggle_dark, "ctrl+t"),
            (_("Log out / switch user"), app.action_log_out, "ctrl+u"),
        ]

    async def discover(self) -> Hits:
        for name, action, help_text in self.commands():
            yield DiscoveryHit(name, action, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, action, help_text in self.commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), action, help=help_text)
        for score, text, action, help_text in self.finds(query):
            yield Hit(score, text, action, help=help_text)

    def finds(self, query: str) -> list[tuple[float, str, Callable[[], object], str]]:
        """ "Find ..." choices for typed text, what its shape says it is first: a patient
        reference, a kit serial or a course number above everything else; a lot code, a
        kit, a patient after. Text that cannot be one of them offers no choice for it, so
        the top choice never fails on the shape of the text."""
        code = query.strip()
        if not code or " " in code:
            return []
        app = self.kitops
        choices: list[tuple[str, str, Callable[[], object], str]] = []
        if COURSE_NUMBER.fullmatch(code):
            number = int(code)
            choices.append(
                (
                    "course",
                    _("Course {number}").format(number=number),
                    partial(app.open_screen, "courses", search=str(number), select=number),
                    _("the course with this number, its calendar, kits and payment"),
                )
            )
        if _can_be(parse_lot_code, code):
            choices.append(
                (
                    "lot",
                    _("Find lot {code}").format(code=code),
                    partial(app.show_trace, code),
                    _("trace the lot: where it is, kits, courses, write-offs"),
                )
            )
        choices.append(
            (
                "kit",
                _("Find kit {code}").format(code=code),
                partial(app.open_screen, "kits", search=code),
                _("kits whose serial, patient or location matches"),
            )
        )
        if _can_be(parse_patient_ref, code):
            choices.append(
                (
                    "patient",
                    _("Find course for patient {code}").format(code=code),
                    partial(app.open_screen, "courses", search=code),
                    _("courses by patient reference (also number or plan)"),
                )
            )
        first = shape_of(code)
        ranked = sorted(choices, key=lambda choice: choice[0] != first)  # stable otherwise
        # the shape's choice above any command; the rest below every command that matches
        return [
            (1.0 if first and i == 0 else 0.05 - i * 0.01, text, action, help_text)
            for i, (_, text, action, help_text) in enumerate(ranked)
        ]


# what typed text looks like: the demo's and the clinics' own forms
COURSE_NUMBER = re.compile(r"[0-9]{1,9}")
KIT_SERIAL = re.compile(r"K[0-9]{7}", re.IGNORECASE)
PATIENT_REF = re.compile(r"P-[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*", re.ASCII)


def shape_of(code: str) -> str | None:
    """The kind of record typed text most likely names, or None when it could be any."""
    if COURSE_NUMBER.fullmatch(code):
        return "course"
    if KIT_SERIAL.fullmatch(code):
        return "kit"
    if PATIENT_REF.fullmatch(code) and any(c.isdigit() for c in code):
        return "patient"
    return None


def _can_be(parse: Callable[[str], str], code: str) -> bool:
    try:
        parse(code)
    except InvalidInput:
        return False
    return True
