"""Render the README's pictures of the papers from the real output on the demo data.

    make pictures        (or: .venv/bin/python docs/make_pictures.py, with pypdfium2)

Loads the demo data as of a fixed day into a scratch SQLite database, gives Essex a few more
reorder policies, runs the reorder job on that day, approves its order, and writes, from
the same code the commands run:

- docs/kit-label.png: ``kitops kit label K0000001 --out kit-label.png`` (the label PNG
  itself, 300 dpi);
- docs/location-label.png and docs/course-card.png: ``kitops location label LON-FRIDGE``
  and ``kitops course card 1`` (PNG, 300 dpi);
- docs/purchase-order.png: the first page of ``kitops po export PO-000001 --format pdf``,
  rendered with PDFium at 100 dpi in greyscale.

Run it again after a change to the label or the purchase order, so the pictures stay true.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import date
from pathlib import Path

DAY = date(2026, 11, 22)  # the demo's usual day: the pictures do not change with the date
DOCS = Path(__file__).resolve().parent
PO_DPI = 100
EXTRA_POLICIES = [("STAMP-1.2", 5, 10), ("STAMP-2.0", 5, 10), ("CHX-0.5", 12, 24)]


def main() -> int:
    import pypdfium2
    from PIL import Image

    from kitops.data import migrate
    from kitops.data.engine import open_database
    from kitops.documents.cards import write_course_cards, write_location_labels
    from kitops.documents.labels import write_labels
    from kitops.documents.purchase_orders import export_order
    from kitops.services import demo, purchasing, reorder
    from kitops.services.unit_of_work import UnitOfWork

    with tempfile.TemporaryDirectory() as scratch:
        db = open_database(f"sqlite:///{Path(scratch) / 'pictures.db'}")
        try:
            migrate.upgrade(db, "head")
            demo.load(UnitOfWork(db, "admin"), DAY)
            # Essex decides to keep the clinic's stamps and antiseptic on hand as well: the
            # reorder job then drafts a purchase order of several lines
            for sku, low, high in EXTRA_POLICIES:
                purchasing.set_policy(UnitOfWork(db, "manager"), sku, "ESX",
                                      supplier="DERMASUPPLY", method="min_max",
                                      min_qty=low, max_qty=high)  # fmt: skip
            run = reorder.run(UnitOfWork(db, "manager"), as_of=DAY)
            number = run.orders_created[0]
            purchasing.change_status(UnitOfWork(db, "manager"), number, "approve")
            label = DOCS / "kit-label.png"
            write_labels(UnitOfWork(db, "stock", readonly=True), ["K0000001"], str(label))
            place = DOCS / "location-label.png"
            write_location_labels(UnitOfWork(db, "stock", readonly=True), ["LON-FRIDGE"],
                                  str(place))  # fmt: skip
            card = DOCS / "course-card.png"
            write_course_cards(UnitOfWork(db, "stock", readonly=True), ["1"], str(card))
            pdf = Path(scratch) / "po.pdf"
            export_order(UnitOfWork(db, "manager", readonly=True), number, "pdf", str(pdf))
        finally:
            db.dispose()
        document = pypdfium2.PdfDocument(str(pdf))
        try:
            page = document[0].render(scale=PO_DPI / 72, grayscale=True).to_pil()
        finally:
            document.close()
        picture = DOCS / "purchase-order.png"
        page.convert("L").save(picture, format="PNG", optimize=True, dpi=(PO_DPI, PO_DPI))
        for written in (label, place, card):  # as written, re-saved the same way
            with Image.open(written) as image:
                image.convert("L").save(written, format="PNG", optimize=True, dpi=(300, 300))
    for path in (label, place, card, picture):
        print(f"{path.relative_to(DOCS.parent)}: {path.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
