"""A purchase order as the files sent to the supplier: CSV (one line per product) or
PDF (A4, as many pages as the lines need, the table's header row on each).

The PDF says what a supplier needs to act on the order: the order reference and date, the
expected delivery, the supplier's name and address, the clinic's delivery address and
contact, each line's description, the supplier's own SKU, quantity, unit price, VAT rate
and VAT amount, the net, VAT and gross totals in the order's currency, and the payment
terms. VAT comes from the rates recorded for the delivery clinic's country and the
product's kind; a line with no rate says "VAT not set" and stays out of the totals.
"""

from __future__ import annotations

from decimal import Decimal

from kitops.documents.files import output_path, printable, write_file
from kitops.domain.money import Money
from kitops.domain.vat import rate_text
from kitops.errors import InvalidInput
from kitops.i18n import DEFAULT_LOCALE, N_, _, current_locale, formats, ngettext
from kitops.services.csvfiles import CsvCell, write_csv
from kitops.services.dto import purchasing as purchasing_dto
from kitops.services.purchasing import order_paper, order_to_send
from kitops.services.unit_of_work import UnitOfWork


def order_csv(order: purchasing_dto.PurchaseOrder) -> bytes:
    """What the supplier receives, one line per product (UTF-8, with a header); text that a
    spreadsheet would run as a formula is escaped (``csvfiles.write_csv``)."""
    rows: list[list[CsvCell]] = [
        ["po", "supplier", "deliver_to", "as_of", "expected_on", "line", "supplier_sku",
         "sku", "quantity", "unit_cost", "line_total", "currency"],
    ]  # fmt: skip
    for index, line in enumerate(order.lines, start=1):
        rows.append([
            order.number, order.supplier, order.clinic, order.as_of.isoformat(),
            order.expected_on.isoformat() if order.expected_on else "", index,
            line.supplier_sku or "", line.sku, line.quantity,
            line.unit_cost.amount, line.line_total.amount,
            order.currency,
        ])  # fmt: skip
    return write_csv(rows, lineterminator="\r\n").encode("utf-8")


# the table's headings, translated where the page is drawn
COLUMNS = ("#", N_("Supplier SKU"), N_("Description"), N_("Qty"), N_("Unit price"), N_("Net"),
           N_("VAT %"), N_("VAT"))  # fmt: skip
_WIDTHS = (8, 27, 54, 14, 21, 21, 15, 20)  # mm, 180 in all: A4 less 15 mm margins
_ALIGN = ("RIGHT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT")
VAT_NOT_SET = N_("VAT not set")
ROUNDING = N_(
    "VAT is worked out per line (net x rate) and rounded half up to the currency's minor "
    "unit; the totals are the sums of the lines."
)


def _amount(value: Money) -> str:
    """An amount without its currency (the page says it once), as the language in force
    writes it: ``1234.50``, ``1.234,50`` in German."""
    places = max(0, -int(value.amount.as_tuple().exponent))
    return formats.number(value.amount, decimals=places)


def _rate(rate_bp: int) -> str:
    """A VAT rate: ``20%``, ``5.5%``; ``20 %``, ``5,5 %`` in German."""
    if current_locale() == DEFAULT_LOCALE:
        return rate_text(rate_bp)
    places = 0 if rate_bp % 100 == 0 else 1 if rate_bp % 10 == 0 else 2
    return formats.percent(Decimal(rate_bp) / 10000, decimals=places)


def _address_lines(text: str | None) -> list[str]:
    """An address kept on one line, commas between its lines, as printed lines."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def paper_notes(paper: purchasing_dto.OrderPaper) -> list[str]:
    """What the page says under the totals: VAT not set (never guessed), the rounding."""
    notes = []
    if paper.vat_missing and paper.country:
        notes.append(ngettext(
            "VAT not set for {count} line: no VAT rate is recorded for the kind of product "
            "in {country}; that VAT is not in the totals.",
            "VAT not set for {count} lines: no VAT rate is recorded for the kind of product "
            "in {country}; that VAT is not in the totals.",
            paper.vat_missing,
        ).format(count=paper.vat_missing, country=paper.country))  # fmt: skip
    elif paper.vat_missing:
        notes.append(ngettext(
            "VAT not set for {count} line: no VAT rate is recorded for the kind of product "
            "({clinic} has no country); that VAT is not in the totals.",
            "VAT not set for {count} lines: no VAT rate is recorded for the kind of product "
            "({clinic} has no country); that VAT is not in the totals.",
            paper.vat_missing,
        ).format(count=paper.vat_missing, clinic=paper.clinic))  # fmt: skip
    notes.append(_(ROUNDING))
    return notes


def order_pdf(paper: purchasing_dto.OrderPaper) -> bytes:
    """An A4 purchase order: who orders and where it goes, the supplier, the lines with
    VAT (fpdf2's ``table()``, its header row repeated on every page), the totals, the
    payment terms. Core Helvetica font; a footer numbers the pages."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    number = paper.number

    class OrderPage(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("Helvetica", "", 8)
            footer = _("Purchase order {number} - page {page} of {pages}").format(
                number=number, page=self.page_no(), pages="{nb}"
            )
            self.cell(0, 5, printable(footer), align="C")

    pdf = OrderPage(orientation="P", unit="mm", format="A4")
    pdf.core_fonts_encoding = "cp1252"
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(auto=True, margin=18)
    title = _("Purchase order {number}").format(number=number)
    pdf.set_title(printable(title))
    pdf.set_lang(current_locale().replace("_", "-"))
    pdf.set_creator("kitops")
    pdf.add_page()

    def line(text: str, size: float = 10, style: str = "", height: float = 5) -> None:
        pdf.set_font("Helvetica", style, size)
        pdf.multi_cell(0, height, printable(text), align="L", new_x="LMARGIN", new_y="NEXT")

    line(title, 16, "B", 9)
    expected = formats.date(paper.expected_on) if paper.expected_on else _("not agreed")
    facts = [
        _("Order reference: {number}").format(number=number),
        _("Order date: {date}").format(date=formats.date(paper.as_of)),
        _("Expected delivery: {date}").format(date=expected),
        _("Currency: {currency} (all amounts)").format(currency=paper.currency),
    ]
    for fact in facts:
        line(fact)
    if paper.status == "draft":
        line(_("DRAFT: not approved yet; do not send this order."), style="B")
    pdf.ln(3)

    supplier = [paper.supplier_name, _("Supplier code {code}").format(code=paper.supplier),
                *_address_lines(paper.supplier_address)]  # fmt: skip
    if not paper.supplier_address:
        supplier.append(_("(no address on file)"))
    if paper.supplier_contact:
        supplier.append(_("Contact: {contact}").format(contact=paper.supplier_contact))
    deliver = [f"{paper.clinic_name} ({paper.clinic})", *_address_lines(paper.delivery_address)]
    if not paper.delivery_address:
        deliver.append(_("(no delivery address on file)"))
    if paper.delivery_contact:
        deliver.append(_("Contact: {contact}").format(contact=paper.delivery_contact))
    top, half = pdf.get_y(), (pdf.w - pdf.l_margin - pdf.r_margin) / 2
    bottoms = []
    blocks = ((_("Supplier"), supplier), (_("Deliver to"), deliver))
    for column, (heading, lines) in enumerate(blocks):
        pdf.set_xy(pdf.l_margin + column * half, top)
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(half - 4, 5, printable(heading), new_x="LEFT", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        for text in lines:
            pdf.multi_cell(half - 4, 5, printable(text), align="L", new_x="LEFT", new_y="NEXT")
        bottoms.append(pdf.get_y())
    pdf.set_xy(pdf.l_margin, max(bottoms) + 3)
    terms = paper.payment_terms or _("as agreed with the supplier")
    line(_("Payment terms: {terms}").format(terms=terms), style="B")
    pdf.ln(3)

    pdf.set_font("Helvetica", "", 9)
    with pdf.table(
        col_widths=_WIDTHS, width=sum(_WIDTHS), align="LEFT", text_align=_ALIGN,
        headings_style=FontFace(emphasis="BOLD", fill_color=(225, 225, 225)),
        borders_layout="HORIZONTAL_LINES", line_height=4.5, repeat_headings=1,
    ) as table:  # fmt: skip
        table.row(tuple(printable(_(heading)) for heading in COLUMNS))
        for item in paper.lines:
            rate = _rate(item.vat_rate_bp) if item.vat_rate_bp is not None else _("not set")
            table.row((
                str(item.position), printable(item.supplier_sku or "-"),
                printable(item.description) + "\n"
                + printable(_("our SKU {sku}").format(sku=item.sku)),
                formats.number(item.quantity),
                _amount(item.unit_price), _amount(item.net), printable(rate),
                _amount(item.vat) if item.vat is not None else printable(_(VAT_NOT_SET)),
            ))  # fmt: skip
    pdf.ln(3)

    totals = ((_("Net total"), paper.net, False), (_("VAT total"), paper.vat, False),
              (_("Total to pay"), paper.gross, True))  # fmt: skip
    if pdf.will_page_break(3 * 6 + 12):
        pdf.add_page()
    for label, value, bold in totals:
        pdf.set_font("Helvetica", "B" if bold else "", 10)
        pdf.cell(sum(_WIDTHS) - 40, 6, printable(label), align="R")
        pdf.cell(40, 6, printable(formats.money(value)), align="R", new_x="LMARGIN",
                 new_y="NEXT")  # fmt: skip
    pdf.ln(2)
    for note in paper_notes(paper):
        line(note, 8, height=4)
    return bytes(pdf.output())


def export_order(uow: UnitOfWork, number: str | int, fmt: str, out: str) -> purchasing_dto.Export:
    kind = fmt.strip().lower()
    if kind not in ("csv", "pdf"):
        raise InvalidInput("format", fmt, _("must be csv or pdf"))
    path = output_path(out, (f".{kind}",))
    if kind == "csv":
        order, _sent = order_to_send(uow, number)
        name, data = order.number, order_csv(order)
    else:
        paper = order_paper(uow, number)
        name, data = paper.number, order_pdf(paper)
    write_file(path, data, out)
    return purchasing_dto.Export(name, kind, str(path), len(data))
