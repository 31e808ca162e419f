"""Render the README's picture of the daily digest from the real email (``make pictures``).

    .venv/bin/python docs/digest_picture.py      (needs chromium on the PATH)

Loads the demo data as of a fixed day into a scratch SQLite database, runs the reorder job
(so a purchase order waits for approval), subscribes a manager to the Essex digest, runs
the alerts as ``kitops jobs run alerts`` does, with the clock pinned to that day, and keeps
the message instead of handing it to a mail server. Its HTML part goes to headless
chromium, which writes docs/digest.png.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, date, datetime
from email.message import EmailMessage
from pathlib import Path

DAY = date(2026, 11, 22)  # the demo's usual day: the picture does not change with the date
CLINIC = "ESX"
DOCS = Path(__file__).resolve().parent
SIZE = "680,300"


def main() -> int:
    import time_machine

    from kitops import alerting
    from kitops.data import migrate
    from kitops.data.engine import open_database
    from kitops.services import alerts, demo, reorder, users
    from kitops.services.unit_of_work import UnitOfWork

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("docs/digest_picture.py: chromium is not on the PATH", file=sys.stderr)
        return 1
    kept: list[EmailMessage] = []
    with tempfile.TemporaryDirectory() as scratch:
        db = open_database(f"sqlite:///{Path(scratch) / 'digest.db'}")
        try:
            migrate.upgrade(db, "head")
            demo.load(UnitOfWork(db, "admin"), DAY)
            with time_machine.travel(datetime.combine(DAY, datetime.min.time(), UTC)
                                     .replace(hour=7), tick=False):  # fmt: skip
                reorder.run(UnitOfWork(db, "manager"), as_of=DAY)
                users.add_user(UnitOfWork(db, "admin"), "maria", "manager", None)
                alerts.set_email(UnitOfWork(db, "admin"), "maria", "maria@clinic.example")
                alerts.subscribe(UnitOfWork(db, "admin"), "maria", "digest", CLINIC)
                alerting.run(UnitOfWork(db, "admin"), kept.append)
        finally:
            db.dispose()
        [mail] = kept
        html = mail.get_body(("html",))
        assert html is not None
        page = Path(scratch) / "digest.html"
        page.write_text(html.get_content(), encoding="utf-8")
        picture = DOCS / "digest.png"
        subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--window-size={SIZE}", f"--screenshot={picture}", page.as_uri()],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
    print(f"{picture.relative_to(DOCS.parent)}: {picture.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
