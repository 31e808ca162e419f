"""Render the README's pictures of the papers from the real output on the demo data.

    make pictures        (or: .venv/bin/python docs/make_pictures.py, with pypdfium2)

Loads the demo data as of a fixed day into a scratch SQLite database, gives Essex a few more
reorder policies, runs the reorder job on that day, approves its order, and writes, from
the same code the commands run:

- docs/kit-label.png: ``kitops kit label K0000001 --out kit-label.png`` (the label PNG
  itself, 300 dpi);
- docs/kit-label-pdf.png: the same label's ``--out kit-label.pdf`` page, rendered with
  PDFium at 300 dpi in greyscale;
- docs/kit-label-zpl.png: the ZPL II a 203 dpi Zebra printer with 62 × 29 mm labels is
  sent (``kit label K0000001 --printer zebra``), rendered by zplkit's PNG path (its
  built-in font has no "°", so that one character is left out of the picture);
- docs/kit-label-ql.png: the Brother QL raster a QL-820NWB with 62 × 29 mm labels is sent,
  read back into a picture from the raster lines (as the printer prints its dots);
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
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kitops.data.engine import Database

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
            label_pdf = Path(scratch) / "label.pdf"
            write_labels(UnitOfWork(db, "stock", readonly=True), ["K0000001"], str(label_pdf))
            printed = _printer_pictures(db)
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
        document = pypdfium2.PdfDocument(str(label_pdf))
        try:
            page = document[0].render(scale=300 / 72, grayscale=True).to_pil()
        finally:
            document.close()
        label_page = DOCS / "kit-label-pdf.png"
        page.convert("L").save(label_page, format="PNG", optimize=True, dpi=(300, 300))
        for written in (label, place, card):  # as written, re-saved the same way
            with Image.open(written) as image:
                image.convert("L").save(written, format="PNG", optimize=True, dpi=(300, 300))
    for path in (label, label_page, *printed, place, card, picture):
        print(f"{path.relative_to(DOCS.parent)}: {path.stat().st_size // 1024} KB")
    return 0


def _printer_pictures(db: Database) -> list[Path]:
    """The ZPL and QL jobs of K0000001 on 62 × 29 mm labels, as pictures."""
    import io

    import zplkit
    from PIL import Image, ImageOps

    from kitops.documents.labels import layouts
    from kitops.documents.printers import render_ql, render_zpl
    from kitops.domain.printers import SIZES
    from kitops.services.labels import read_labels
    from kitops.services.unit_of_work import UnitOfWork

    labels = read_labels(UnitOfWork(db, "stock", readonly=True), ["K0000001"])
    placed = layouts(labels, SIZES["62x29"])
    zpl = render_zpl(placed, 203).replace("°".encode(), b"")
    scene = zplkit.render(zpl, zplkit.Options(dpi=203)).labels[0]
    zebra = DOCS / "kit-label-zpl.png"
    with Image.open(io.BytesIO(scene.png())) as image:
        image.convert("L").save(zebra, format="PNG", optimize=True, dpi=(203, 203))
    sys.path.insert(0, str(DOCS.parent / "tests"))
    from printer_support import ql_page_image, read_ql

    (page,) = read_ql(render_ql(placed, "QL-820NWB"))
    brother = DOCS / "kit-label-ql.png"
    ImageOps.expand(ql_page_image(page), border=2, fill=160).save(
        brother, format="PNG", optimize=True, dpi=(300, 300)
    )
    return [zebra, brother]


if __name__ == "__main__":
    sys.exit(main())
