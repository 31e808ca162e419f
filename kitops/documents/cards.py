"""Location labels and course cards: a DataMatrix with kitops's own code, and words.

A location label (``kitops location label CODE... --out F``) is a 62 × 40 mm label like a
kit's: the code ``KLOC:<location>`` in a plain DataMatrix, then the location code large,
its name, kind and clinic. A course card (``kitops course card NUMBER... --out F``) is
the size of a bank card (85.6 × 54 mm) for the front desk: ``KCRS:<number>`` in the
symbol, and the course number, plan, clinic, start and the patient reference as text.
The patient reference is printed for the desk to compare with the patient in front of
it, never put in the code (a scan of the card tells the course only).

Scanning either with ``kitops scan`` tells what is at the place or what the course needs
(``kitops.services.scans``). PDF: one label or card per page; PNG: stacked at 300 dpi.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kitops.documents.files import output_path, printable, write_file
from kitops.documents.labels import Line, layout
from kitops.documents.symbols import Symbol, text_datamatrix, to_image
from kitops.errors import InvalidInput
from kitops.gs1 import course_code, location_code
from kitops.i18n import _, formats, pgettext
from kitops.services.dto.scans import CourseCard, LocationCard
from kitops.services.scans import course_cards, location_cards
from kitops.services.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from PIL import Image

PNG_DPI = 300
PNG_MAX = 100
MARGIN_MM = 2.5
QUIET = 2  # modules of quiet zone
_PT_MM = 25.4 / 72


@dataclass(frozen=True)
class Card:
    """One card to draw: its size, the code in its symbol and the text beside it."""

    width_mm: float
    height_mm: float
    symbol_mm: float
    code: str
    lines: tuple[Line, ...]


def place_kind(kind: str) -> str:
    """A location's kind (a stored value) as the label says it in the language in force."""
    names = {
        "clinic": pgettext("location kind", "clinic"),
        "stockroom": pgettext("location kind", "stockroom"),
        "fridge": pgettext("location kind", "fridge"),
        "shelf": pgettext("location kind", "shelf"),
        "quarantine": pgettext("location kind", "quarantine"),
        "supplier": pgettext("location kind", "supplier"),
        "patient": pgettext("location kind", "patient"),
        "scrap": pgettext("location kind", "scrap"),
        "adjustment": pgettext("location kind", "adjustment"),
        "assembly": pgettext("location kind", "assembly"),
    }
    return names.get(kind, kind)


def location_card(card: LocationCard) -> Card:
    kind = place_kind(card.place_kind)
    where = (
        _("{kind}, clinic {clinic}").format(kind=kind, clinic=card.clinic) if card.clinic else kind
    )
    lines = (
        # large, but small enough for the whole code on one line (about 130 pt-characters
        # fit the text column in bold Helvetica capitals)
        Line(card.code, max(7.0, min(16.0, 130 / len(card.code))), bold=True, max_lines=2),
        Line(card.name, 8, max_lines=2),
        Line(where, 7),
        Line(location_code(card.code), 6),
    )
    return Card(62.0, 40.0, 24.0, location_code(card.code), _printable(lines))


def course_card(card: CourseCard) -> Card:
    lines = (
        Line(_("Course {course}").format(course=card.course_id), 16, bold=True),
        Line(
            _("Plan {plan}, clinic {clinic}").format(plan=card.plan, clinic=card.clinic),
            8,
            max_lines=2,
        ),
        Line(_("Start {date}").format(date=formats.date(card.start)), 8),
        Line(_("Patient {patient}").format(patient=card.patient_ref), 9, bold=True, max_lines=2),
        Line(_("Scan at the desk to see the kits"), 6),
    )
    return Card(85.6, 54.0, 30.0, course_code(card.course_id), _printable(lines))


def _printable(lines: tuple[Line, ...]) -> tuple[Line, ...]:
    return tuple(Line(printable(x.text), x.size_pt, x.bold, x.max_lines) for x in lines)


def _text_box(card: Card) -> tuple[float, float, float, float]:
    left = 2 * MARGIN_MM + card.symbol_mm
    return left, MARGIN_MM, card.width_mm - MARGIN_MM - left, card.height_mm - 2 * MARGIN_MM


# --- PDF ------------------------------------------------------------------------------------


def render_pdf(cards: Sequence[Card]) -> bytes:
    """One page per card, the symbol as filled rectangles, the text in core Helvetica."""
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format=(cards[0].width_mm, cards[0].height_mm))
    pdf.core_fonts_encoding = "cp1252"
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.set_title(printable(_("kitops labels")))
    pdf.set_creator("kitops")
    pdf.set_fill_color(0, 0, 0)

    def measure(text: str, size: float, bold: bool) -> float:
        pdf.set_font("Helvetica", "B" if bold else "", size)
        return float(pdf.get_string_width(text))

    for card in cards:
        pdf.add_page(orientation="P", format=(card.width_mm, card.height_mm))
        symbol = text_datamatrix(card.code)
        module = card.symbol_mm / (symbol.columns + 2 * QUIET)
        x0 = MARGIN_MM + QUIET * module
        y0 = (card.height_mm - card.symbol_mm) / 2 + QUIET * module
        for r, start, length in symbol.runs():
            pdf.rect(x0 + start * module, y0 + r * module, length * module, module + 0.02,
                     style="F")  # fmt: skip
        left, top, width, height = _text_box(card)
        for placed in layout(card.lines, width, height, measure):
            pdf.set_font("Helvetica", "B" if placed.bold else "", placed.size_pt)
            pdf.text(left, top + placed.baseline_mm, placed.text)
    return bytes(pdf.output())


# --- PNG ------------------------------------------------------------------------------------


def _px(mm: float) -> int:
    return round(mm / 25.4 * PNG_DPI)


def render_png(cards: Sequence[Card]) -> bytes:
    """The cards one under the other at 300 dpi, a grey cutting line between them."""
    from PIL import Image, ImageDraw, ImageFont

    width_px = max(_px(card.width_mm) for card in cards)
    heights = [_px(card.height_mm) for card in cards]
    image = Image.new("L", (width_px, sum(heights)), 255)
    draw = ImageDraw.Draw(image)
    fonts: dict[int, ImageFont.FreeTypeFont | ImageFont.ImageFont] = {}

    def font(size_pt: float) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
        pixels = max(1, round(size_pt / 72 * PNG_DPI))
        if pixels not in fonts:
            fonts[pixels] = ImageFont.load_default(size=pixels)
        return fonts[pixels]

    def measure(text: str, size: float, bold: bool) -> float:
        return float(font(size).getlength(text) + (2 if bold else 0)) * 25.4 / PNG_DPI

    y = 0
    for card, height_px in zip(cards, heights, strict=True):
        if y:
            draw.line([(0, y), (width_px - 1, y)], fill=160, width=1)
        picture = _picture(text_datamatrix(card.code), card.symbol_mm)
        image.paste(picture, (_px(MARGIN_MM), y + (height_px - picture.height) // 2))
        left, top, width, height = _text_box(card)
        for placed in layout(card.lines, width, height, measure):
            face = font(placed.size_pt)
            if isinstance(face, ImageFont.FreeTypeFont):
                draw.text((_px(left), y + _px(top + placed.baseline_mm)), placed.text, fill=0,
                          font=face, anchor="ls", stroke_width=1 if placed.bold else 0,
                          stroke_fill=0)  # fmt: skip
            else:  # Pillow without FreeType: the small bitmap font, drawn from its top
                top_px = y + _px(top + placed.baseline_mm - placed.size_pt * _PT_MM)
                draw.text((_px(left), top_px), placed.text, fill=0, font=face)
        y += height_px
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(PNG_DPI, PNG_DPI), optimize=True)
    return buffer.getvalue()


def _picture(symbol: Symbol, size_mm: float) -> Image.Image:
    scale = max(1, _px(size_mm) // (symbol.columns + 2 * QUIET))
    return to_image(symbol, scale, quiet_zone=QUIET)


# --- the use cases --------------------------------------------------------------------------


def _write(cards: list[Card], path: Path, out: str) -> Path:
    data = render_png(cards) if path.suffix.lower() == ".png" else render_pdf(cards)
    return write_file(path, data, out)


def _path(out: str, count: int) -> Path:
    path = output_path(out, (".pdf", ".png"))
    if path.suffix.lower() == ".png" and count > PNG_MAX:
        raise InvalidInput(
            "out",
            out,
            _("a PNG holds at most {count} labels; write a .pdf for more").format(count=PNG_MAX),
        )
    return path


def write_location_labels(uow: UnitOfWork, codes: list[str], out: str) -> Path:
    """Labels of locations ``codes`` to ``out`` (``.pdf`` or ``.png``); every code is
    looked up before anything is written."""
    path = _path(out, len(codes))
    with uow:
        cards = [location_card(card) for card in location_cards(uow, codes)]
    return _write(cards, path, out)


def write_course_cards(uow: UnitOfWork, numbers: list[str], out: str) -> Path:
    """Cards of courses ``numbers`` to ``out`` (``.pdf`` or ``.png``); every number is
    looked up before anything is written."""
    path = _path(out, len(numbers))
    with uow:
        cards = [course_card(card) for card in course_cards(uow, numbers)]
    return _write(cards, path, out)
