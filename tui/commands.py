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
        return [
            ("Dashboard", partial(go, "dashboard"), "today's work per clinic (F2)"),
            ("Stock", partial(go, "stock"), "lots by clinic and location (F3)"),
            ("Receive stock", partial(go, "receive"), "scan a supplier's label (F4)"),
            ("Kits", partial(go, "kits"), "kits, labels, ship, hand over, return (F5)"),
            ("Assemble kits", partial(go, "kits", tab="assemble"), "with the shortfall first"),
            ("Kits to ship", partial(go, "kits", status="reserved"), "reserved kits"),
            ("Pick list", app.action_show_pick_list, "scan the kits due to go out (k on Kits)"),
            ("Courses", partial(go, "courses"), "courses, calendars, fulfil (F6)"),
            ("New course", partial(go, "courses", tab="new"), "with a calendar preview"),
            ("Batch assignment", partial(go, "courses", tab="batch"), "reserve kits due soon"),
            ("Orders", partial(go, "orders"), "orders and payments for courses (F7)"),
            ("New order", partial(go, "orders", create=True), "an order for a course"),
            ("Unpaid orders", partial(go, "orders", status="open"), "orders not yet paid"),
            ("Purchase orders", partial(go, "purchasing"), "open purchase orders (F8)"),
            ("Draft purchase orders", partial(go, "purchasing", status="draft"), "to approve"),
            ("Run reorder now", partial(go, "purchasing", reorder=True), "dry run, then confirm"),
            ("Reports", partial(go, "reports"), "manager reports, charts, export (F9)"),
            *[
                (f"Report: {spec.name}", partial(go, "reports", report=spec.name), spec.summary)
                for spec in REPORTS.values()
            ],
            ("Count sheet", app.action_count_sheet, "count a place by scanning (C on Stock)"),
            ("Lots awaiting release", partial(go, "stock", show="quarantine"), "quarantine"),
            ("Lots expiring", partial(go, "stock", show="expiring"), "within 90 days"),
            ("Expired stock", partial(go, "stock", show="expired"), "to write off"),
            ("Toggle light/dark theme", app.action_toggle_dark, "ctrl+t"),
            ("Log out / switch user", app.action_log_out, "ctrl+u"),
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
                    f"Course {number}",
                    partial(app.open_screen, "courses", search=str(number), select=number),
                    "the course with this number, its calendar, kits and payment",
                )
            )
        if _can_be(parse_lot_code, code):
            choices.append(
                (
                    "lot",
                    f"Find lot {code}",
                    partial(app.show_trace, code),
                    "trace the lot: where it is, kits, courses, write-offs",
                )
            )
        choices.append(
            (
                "kit",
                f"Find kit {code}",
                partial(app.open_screen, "kits", search=code),
                "kits whose serial, patient or location matches",
            )
        )
        if _can_be(parse_patient_ref, code):
            choices.append(
                (
                    "patient",
                    f"Find course for patient {code}",
                    partial(app.open_screen, "courses", search=code),
                    "courses by patient reference (also number or plan)",
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
