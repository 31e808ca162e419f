"""Printable kit labels: a GS1 DataMatrix with the GTIN, expiry, lot and serial, and the same
in words.

One label is 62 mm × 40 mm, the common thermal label. A PDF has one label per page (for a
label printer); a PNG stacks the labels vertically at 300 dpi (to preview, or to print on a
sheet and cut along the grey lines).

The GS1 DataMatrix (``kitops.documents.symbols``) holds the element string
``kitops.gs1.kit_element_string`` builds, fixed-length elements first and FNC1 after a
variable-length one that is not last; under it, its human-readable form::

    (01)05060999900083(17)270531(10)PTT6-A0519(21)K0000001

AI 01 is the kit product's GTIN, AI 17 the expiry date as YYMMDD (the kit's expiry: its
earliest-expiring component), AI 10 the serum lot (only when the kit holds exactly one
serum lot), AI 21 the serial number. A kit product without a GTIN gets the plain code
``KKIT:<serial>``. ``kitops scan`` reads any of them back.

Beside the code: the SKU and product, the serial, the expiry in words ("Use by 14 March
2027"), the serum lot(s), the course and patient reference when the kit is for one, and
the kit product's storage and usage lines (``catalog set-label-text``; nothing when unset).

Text is drawn with the PDF core font Helvetica (no font is embedded) and with Pillow's
built-in font for the PNG; characters outside Windows-1252 are replaced by their
unaccented form or ``?`` in both, so the two outputs say the same.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from kitops.documents.files import output_path, printable, write_file
from kitops.documents.symbols import Symbol, gs1_datamatrix, text_datamatrix, to_image
from kitops.errors import InvalidInput
from kitops.gs1 import KIT_PREFIX, human_readable, kit_element_string
from kitops.services.labels import (
    Label,
    read_in,
    record_reprints,
    refuse_with_patient,
    with_patient,
)
from kitops.services.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from PIL import ImageDraw, ImageFont

LABEL_W_MM = 62.0
LABEL_H_MM = 40.0
MARGIN_MM = 2.0
QR_MM = 26.0  # the code's column: the DataMatrix and its human-readable lines
SYMBOL_MM = 18.0  # the DataMatrix's square, quiet zone included
QR_BORDER = 2  # modules of quiet zone (ISO/IEC 16022 asks for one)
HRI_PT = 4.6  # the human-readable line(s) under the code
GAP_MM = 1.0  # between the code's column and the text
PNG_DPI = 300
PNG_MAX_LABELS = 100
RECALLED = "CONTAINS A RECALLED LOT"

_PT_MM = 25.4 / 72
_LEADING = 1.2  # line height as a multiple of the font size
_BASELINE = 0.9  # baseline below the top of the line, as a multiple of the font size


@dataclass(frozen=True)
class Line:
    text: str
    size_pt: float
    bold: bool = False
    max_lines: int | None = None


@dataclass(frozen=True)
class Placed:
    """A line of text laid out in the text box: baseline in mm from the box's top."""

    text: str
    size_pt: float
    bold: bool
    baseline_mm: float


# --- content --------------------------------------------------------------------------------


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")  # fmt: skip


def use_by(expiry: date) -> str:
    """``Use by 14 March 2027`` (English month names, whatever the machine's locale)."""
    return f"Use by {expiry.day} {_MONTHS[expiry.month - 1]} {expiry.year}"


def label_code(label: Label) -> str:
    """What a kit's label encodes: its GTIN, expiry, its one serum lot, its serial (GS
    separated, ``kitops.gs1.kit_element_string``)."""
    lot = label.serum_lots[0] if len(label.serum_lots) == 1 else None
    return kit_element_string(label.serial, gtin=label.gtin, expiry=label.expiry, lot=lot)


def hri_lines(code: str) -> list[str]:
    """The human-readable form of the code, one element per line (the column is narrow)."""
    return ["(" + part for part in human_readable(code).split("(") if part] or [code]


def label_lines(label: Label) -> list[Line]:
    """The text beside the QR code, top to bottom; a recall warning comes first."""
    lines = [Line(RECALLED, 8, bold=True)] if label.recalled else []
    lines += [
        Line(label.sku, 8, bold=True),
        Line(label.product, 6.5, max_lines=2),
        Line(f"Serial {label.serial}", 9, bold=True),
    ]
    if label.expiry != date.max:
        lines.append(Line(use_by(label.expiry), 8, bold=True))
    if label.serum_lots:
        word = "Serum lot" if len(label.serum_lots) == 1 else "Serum lots"
        lines.append(Line(f"{word} {', '.join(label.serum_lots)}", 6.5, max_lines=2))
    if label.course_id is not None:
        part = f", kit {label.course_part}" if label.course_part else ""
        lines.append(Line(f"Course {label.course_id}{part}", 7))
    if label.patient_ref:
        lines.append(Line(f"Patient {label.patient_ref}", 7))
    if label.storage:
        lines.append(Line(label.storage, 6, max_lines=2))
    if label.usage:
        lines.append(Line(label.usage, 6, max_lines=3))
    return [Line(printable(line.text), line.size_pt, line.bold, line.max_lines) for line in lines]


# --- layout ---------------------------------------------------------------------------------

Measure = Callable[[str, float, bool], float]  # (text, size in pt, bold) → width in mm


def _wrap(text: str, width: float, measure: Callable[[str], float]) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if measure(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        while len(word) > 1 and measure(word) > width:  # a word longer than the line
            cut = len(word) - 1
            while cut > 1 and measure(word[:cut]) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    if current:
        lines.append(current)
    return lines


def _ellipsis(
    lines: list[str], keep: int, width: float, measure: Callable[[str], float]
) -> list[str]:
    if len(lines) <= keep:
        return lines
    last = lines[keep - 1]
    while last and measure(last + "...") > width:
        last = last[:-1]
    return [*lines[: keep - 1], last.rstrip() + "..."]


def layout(lines: Sequence[Line], width: float, height: float, measure: Measure) -> list[Placed]:
    """Wrap the lines into ``width`` mm, shrinking the type until they fit ``height`` mm
    (down to half size), and centre the block vertically."""
    scale = 1.0
    while True:
        placed: list[Placed] = []
        top = 0.0
        for line in lines:
            size = line.size_pt * scale
            fits = lambda text, s=size, b=line.bold: measure(text, s, b)  # noqa: E731
            parts = _wrap(line.text, width, fits)
            if line.max_lines:
                parts = _ellipsis(parts, line.max_lines, width, fits)
            for part in parts:
                placed.append(Placed(part, size, line.bold, top + size * _PT_MM * _BASELINE))
                top += size * _PT_MM * _LEADING
        if top <= height or scale <= 0.5:
            break
        scale -= 0.05
    offset = max(0.0, (height - top) / 2)
    return [Placed(p.text, p.size_pt, p.bold, p.baseline_mm + offset) for p in placed]


def _text_box() -> tuple[float, float, float, float]:
    """(left, top, width, height) in mm of the text beside the QR code."""
    left = MARGIN_MM + QR_MM + GAP_MM
    return left, MARGIN_MM, LABEL_W_MM - MARGIN_MM - left, LABEL_H_MM - 2 * MARGIN_MM


def _symbol(code: str) -> Symbol:
    return text_datamatrix(code) if code.startswith(KIT_PREFIX) else gs1_datamatrix(code)


def _code_top(lines: int) -> float:
    """The top of the code column (mm): the symbol and its lines centred on the label."""
    return (LABEL_H_MM - SYMBOL_MM - lines * HRI_PT * _PT_MM * _LEADING) / 2


# --- PDF ------------------------------------------------------------------------------------


def render_pdf(labels: Sequence[Label]) -> bytes:
    """One 62 × 40 mm page per label; the QR code as filled rectangles (sharp at any
    printer resolution), the text in core Helvetica."""
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format=(LABEL_W_MM, LABEL_H_MM))
    pdf.core_fonts_encoding = "cp1252"
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.set_title("kitops kit labels")
    pdf.set_creator("kitops")
    pdf.set_fill_color(0, 0, 0)
    pdf.set_text_color(0, 0, 0)

    def measure(text: str, size: float, bold: bool) -> float:
        pdf.set_font("Helvetica", "B" if bold else "", size)
        return float(pdf.get_string_width(text))

    left, top, width, height = _text_box()
    for label in labels:
        pdf.add_page()
        code = label_code(label)
        symbol, hri = _symbol(code), hri_lines(code)
        module = SYMBOL_MM / (symbol.columns + 2 * QR_BORDER)
        top_mm = _code_top(len(hri))
        x0 = MARGIN_MM + (QR_MM - SYMBOL_MM) / 2 + QR_BORDER * module
        y0 = top_mm + QR_BORDER * module
        for r, start, length in symbol.runs():
            # a hair taller than a module, so adjacent rows leave no seam on screen
            pdf.rect(x0 + start * module, y0 + r * module, length * module, module + 0.02,
                     style="F")  # fmt: skip
        pdf.set_font("Helvetica", "", HRI_PT)
        for n, line in enumerate(hri, start=1):
            baseline = top_mm + SYMBOL_MM + (n - 1 + _BASELINE) * HRI_PT * _PT_MM * _LEADING
            pdf.text(MARGIN_MM + (QR_MM - pdf.get_string_width(line)) / 2, baseline, line)
        for placed in layout(label_lines(label), width, height, measure):
            pdf.set_font("Helvetica", "B" if placed.bold else "", placed.size_pt)
            pdf.text(left, top + placed.baseline_mm, placed.text)
    return bytes(pdf.output())


# --- PNG ------------------------------------------------------------------------------------


def _px(mm: float) -> int:
    return round(mm / 25.4 * PNG_DPI)


class _Fonts:
    """Pillow's built-in scalable font by size; bold is drawn with a one-pixel stroke."""

    def __init__(self) -> None:
        self._cache: dict[int, ImageFont.FreeTypeFont | ImageFont.ImageFont] = {}

    def get(self, size_pt: float) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
        from PIL import ImageFont

        pixels = max(1, round(size_pt / 72 * PNG_DPI))
        if pixels not in self._cache:
            self._cache[pixels] = ImageFont.load_default(size=pixels)
        return self._cache[pixels]

    def measure(self, text: str, size_pt: float, bold: bool) -> float:
        width = self.get(size_pt).getlength(text) + (2 if bold else 0)
        return float(width) * 25.4 / PNG_DPI

    def draw(self, draw: ImageDraw.ImageDraw, x: int, y: int, placed: Placed) -> None:
        from PIL import ImageFont

        font = self.get(placed.size_pt)
        if isinstance(font, ImageFont.FreeTypeFont):
            draw.text((x, y), placed.text, fill=0, font=font, anchor="ls",
                      stroke_width=1 if placed.bold else 0, stroke_fill=0)  # fmt: skip
        else:  # Pillow without FreeType: the small bitmap font, drawn from its top
            draw.text((x, y - _px(placed.size_pt * _PT_MM)), placed.text, fill=0, font=font)


def render_png(labels: Sequence[Label]) -> bytes:
    """The labels one under the other in one 300 dpi greyscale image, separated by a grey
    cutting line."""
    from PIL import Image, ImageDraw

    width_px, height_px = _px(LABEL_W_MM), _px(LABEL_H_MM)
    image = Image.new("L", (width_px, height_px * len(labels)), 255)
    draw = ImageDraw.Draw(image)
    fonts = _Fonts()
    left, top, width, height = _text_box()
    for index, label in enumerate(labels):
        y = index * height_px
        if index:
            draw.line([(0, y), (width_px - 1, y)], fill=160, width=1)
        code = label_code(label)
        symbol, hri = _symbol(code), hri_lines(code)
        scale = max(1, _px(SYMBOL_MM) // (symbol.columns + 2 * QR_BORDER))
        picture = to_image(symbol, scale, quiet_zone=QR_BORDER)
        top_px = y + _px(_code_top(len(hri)))
        image.paste(picture, (_px(MARGIN_MM + QR_MM / 2) - picture.width // 2, top_px))
        for n, line in enumerate(hri, start=1):
            placed = Placed(line, HRI_PT, False, (n - 1 + _BASELINE) * HRI_PT * _PT_MM * _LEADING)
            left_mm = MARGIN_MM + (QR_MM - fonts.measure(line, HRI_PT, False)) / 2
            fonts.draw(draw, _px(left_mm), top_px + _px(SYMBOL_MM + placed.baseline_mm), placed)
        for placed in layout(label_lines(label), width, height, fonts.measure):
            fonts.draw(draw, _px(left), y + _px(top + placed.baseline_mm), placed)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(PNG_DPI, PNG_DPI), optimize=True)
    return buffer.getvalue()


# --- the use case ---------------------------------------------------------------------------


def write_labels(uow: UnitOfWork, serials: list[str], out: str, *, reprint: bool = False) -> Path:
    """Write labels for ``serials`` to ``out`` (``.pdf`` or ``.png``) and return the path.

    Every serial is looked up before anything is written: an unknown one is bad input and
    no file appears. A kit already with its patient (handed over, shipped) is refused
    unless ``reprint``; a reprint is audited, one row per such kit (``uow`` must then be
    able to write).
    """
    path = output_path(out, (".pdf", ".png"))
    is_png = path.suffix.lower() == ".png"
    if is_png and len(serials) > PNG_MAX_LABELS:
        raise InvalidInput(
            "out", out, f"a PNG holds at most {PNG_MAX_LABELS} labels; write a .pdf for more"
        )
    with uow:
        labels = read_in(uow, serials)
        gone = with_patient(labels)
        if gone and not reprint:
            refuse_with_patient(labels)
        if gone:
            record_reprints(uow, labels)
        data = render_png(labels) if is_png else render_pdf(labels)
        written = write_file(path, data, out)
        if gone:
            uow.commit()
    return written
