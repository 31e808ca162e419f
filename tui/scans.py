"""What a scan opens when the screen has no use of its own for it, with the next action
one key away (``kitops.services.scans`` says what the code names):

- a lot's label or code: the stock list filtered to the lot (release, quarantine, recall,
  move, count, write off, trace on its keys);
- a kit's label: the kit list filtered to the kit (ship, hand over, return, label);
- a location's label: the stock list filtered to the place;
- a course card: the course in the course list.

A scan that names nothing rings the terminal bell and says in words what is wrong with
it. Also here: the confirmation a course card answers (``CourseCardConfirm``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

from kitops.i18n import N_, _

from .base import translate
from .modals import ConfirmDialog

if TYPE_CHECKING:
    from kitops.services.dto.scans import Scanned

    from .app import KitopsApp


# what a scan named, as the notification's title says it
SCANNED_TITLES = {
    "lot": N_("Scanned lot"),
    "kit": N_("Scanned kit"),
    "location": N_("Scanned location"),
    "course": N_("Scanned course"),
}


def open_scanned(app: KitopsApp, found: Scanned) -> None:
    from kitops.services.dto.scans import ScannedCourse, ScannedKit, ScannedLocation

    if isinstance(found, ScannedKit):
        app.open_screen("kits", search=found.serial, status="all")
    elif isinstance(found, ScannedLocation):
        app.open_screen("stock", location=found.location, show="all")
    elif isinstance(found, ScannedCourse):
        app.open_screen("courses", course=found.course_id, select=found.course_id)
    else:
        app.open_screen("stock", lot=found.lot, show="all", scanned_lot=found.lot)
    title = SCANNED_TITLES.get(found.kind)
    shown = translate(title) if title else _("Scanned {kind}").format(kind=found.kind)
    app.notify(found.next_step, title=shown, timeout=6)


class CourseCardConfirm(ConfirmDialog):
    """A confirmation that a kit goes to the right patient: scanning the course card
    confirms it when the card is the kit's course and is refused loudly when it is
    another's; Enter (the patient reference read from the card or asked) still works."""

    def __init__(self, title: str, message: str, confirm: str, course: int | None) -> None:
        super().__init__(title, message, confirm)
        self.course = course

    def take_scan(self, code: str) -> bool:
        from kitops.errors import InvalidInput
        from kitops.gs1 import read_code

        try:
            read = read_code(code)
        except InvalidInput as error:
            return self._refuse(_("not a course card: {reason}").format(reason=error.reason))
        if read.kind != "course":
            return self._refuse(_("scan the patient's course card (or check the reference)"))
        if read.course != self.course:
            return self._refuse(
                _(
                    "this card is for course {card}; the kit is for course {course}: "
                    "it does not go to this patient"
                ).format(card=read.course, course=self.course)
            )
        self.dismiss(True)
        return True

    def _refuse(self, text: str) -> bool:
        self.app.bell()
        style = f"bold {self.app.theme_variables.get('error') or 'red'}"
        self.query_one("#confirm-message", Static).update(
            Text.assemble(self.message, "\n\n", (text, style))
        )
        return True
