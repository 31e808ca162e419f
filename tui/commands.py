"""The command palette (ctrl+p): every screen and action by name, and "find lot / kit /
course" for whatever code is typed."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

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
        code = query.strip()
        if not code or " " in code:
            return
        app = self.kitops
        yield Hit(
            0.05,
            f"Find lot {code}",
            partial(app.show_trace, code),
            help="trace the lot: where it is, kits, courses, write-offs",
        )
        yield Hit(
            0.04,
            f"Find kit {code}",
            partial(app.open_screen, "kits", search=code),
            help="kits whose serial, patient or location matches",
        )
        yield Hit(
            0.03,
            f"Find course {code}",
            partial(app.open_screen, "courses", search=code),
            help="courses by number, patient reference or plan",
        )
