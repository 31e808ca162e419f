"""What a scan opens when the screen has no use of its own for it: a kit label opens the
kit in the kit list (its next action one key away), a lot's label opens the lot's trace;
anything else says what is wrong with the scan."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .app import KitopsApp


def open_scanned(app: KitopsApp, code: str) -> None:
    from kitops.errors import InvalidInput
    from kitops.gs1 import parse_scan

    try:
        scan = parse_scan(code)
    except InvalidInput as error:
        app.bell()
        app.report_error(error)
        return
    if scan.serial:
        app.open_screen("kits", search=scan.serial)
    elif scan.lot:
        app.show_trace(scan.lot)
    else:
        app.bell()
        app.report_error(InvalidInput("scan", code, "names no kit (21) and no lot (10)"))
