"""Printable kit labels: a QR code with the serial and expiry, and the same in words.

One label is 62 mm × 40 mm, the common thermal label. A PDF has one label per page (for a
label printer); a PNG stacks the labels vertically at 300 dpi (to preview, or to print on a
sheet and cut along the grey lines).

The QR code (error correction M) holds a GS1 element string in its human-readable bracket
form, serial first and expiry second::

    (21)K0000001(17)270531

AI 21 is the serial number, AI 17 the expiry date as YYMMDD (the kit's expiry: its
earliest-expiring component). The brackets delimit the values, so no FNC1 separator is
needed after the variable-length serial; `biip` and most scanner apps read the bracket
form. No GTIN (AI 01) is included: inside kitops the serial alone names the kit.

Text is drawn with the PDF core font Helvetica (no font is embedded) and with Pillow's
built-in font for the PNG; characters outside Windows-1252 are replaced by their
unaccented form or ``?`` in both, so the two outputs say the same.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from kitops.errors import InvalidInput
from kitops.services.kits import kit_dto
from kitops.services.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    import segno
    from PIL import ImageDraw, ImageFont

LABEL_W_MM = 62.0
LABEL_H_MM = 40.0
MARGIN_MM = 2.0
QR_MM = 26.0  # the QR code's square, quiet zone included
QR_BORDER = 4  # modules of quiet zone, as ISO/IEC 18004 asks
GAP_MM = 1.0  # between the QR code's quiet zone and the text
PNG_DPI = 300
PNG_MAX_LABELS = 100
RECALLED = "CONTAINS A RECALLED LOT"

_PT_MM = 25.4 / 72
_LEADING = 1.2  # line height as a multiple of the font size
_BASELINE = 0.9  # baseline below the top of the line, as a multiple of the font size


@dataclass(frozen=True)
class Label:
    """What one kit label says."""

    serial: str
    sku: str
    product: str
    expiry: date
    course_id: int | None
    course_part: int | None
    patient_ref: str | None
    recalled: bool


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


# --- shared by the label and calendar writers ---------------------------------------------


def output_path(out: str, suffixes: Sequence[str]) -> Path:
    """The file to write: its extension one of ``suffixes``, its folder existing."""
    if not out or not out.strip():
        raise InvalidInput("out", out, "give the file to write")
    path = Path(out).expanduser()
    if path.suffix.lower() not in suffixes:
        raise InvalidInput("out", out, f"must end {' or '.join(suffixes)}")
    if not path.parent.is_dir():
        raise InvalidInput("out", out, f"folder {str(path.parent)!r} does not exist")
    if path.is_dir():
        raise InvalidInput("out", out, "is a folder")
    return path


def write_file(path: Path, data: bytes, out: str) -> Path:
    """Write the finished bytes in one go (nothing is opened before they are ready)."""
    try:
        path.write_bytes(data)
    except OSError as error:
        raise InvalidInput("out", out, f"cannot be written: {error.strerror or error}") from None
    return path


# --- content --------------------------------------------------------------------------------


def qr_content(serial: str, expiry: date | None) -> str:
    """``(21)<serial>(17)<YYMMDD>``; no AI 17 for a kit without a real expiry."""
    content = f"(21){serial}"
    if expiry is not None and expiry != date.max:
        content += f"(17){expiry:%y%m%d}"
    return content


def printable(text: str) -> str:
    """``text`` in the characters Helvetica can show (Windows-1252): accents dropped where
    that helps, anything else as ``?``."""
    out = []
    for char in text:
        try:
            char.encode("cp1252")
        except UnicodeEncodeError:
            base = "".join(
                c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
            )
            try:
                base.encode("cp1252")
            except UnicodeEncodeError:
                base = ""
            char = base or "?"
        out.append(char if char.isprintable() else " ")
    return "".join(out)


def label_lines(label: Label) -> list[Line]:
    """The text beside the QR code, top to bottom; a recall warning comes first."""
    lines = [Line(RECALLED, 8, bold=True)] if label.recalled else []
    lines += [
        Line(label.sku, 8, bold=True),
        Line(label.product, 6.5, max_lines=2),
        Line(f"Serial {label.serial}", 9, bold=True),
        Line(f"Expiry {label.expiry:%Y-%m-%d}", 8, bold=True),
    ]
    if label.course_id is not None:
        part = f", kit {label.course_part}" if label.course_part else ""
        lines.append(Line(f"Course {label.course_id}{part}", 7))
    if label.patient_ref:
        lines.append(Line(f"Patient {label.patient_ref}", 7))
    return [Line(printable(line.text), line.size_pt, line.bold, line.max_lines) for line in lines]


def read_labels(uow: UnitOfWork, serials: Sequence[str]) -> list[Label]:
    """Look every serial up in one read transaction; an unknown serial is bad input."""
    if not serials:
        raise InvalidInput("serial", None, "give at least one kit serial")
    with uow:
        places = {row.id: row for row in uow.locations.all()}
        labels = []
        for serial in serials:
            row = uow.kits.get(serial)
            kit = kit_dto(uow, row, places)
            labels.append(
                Label(
                    serial=kit.serial, sku=kit.sku, product=row.product.name,
                    expiry=kit.expiry, course_id=kit.course_id, course_part=kit.course_part,
                    patient_ref=kit.patient_ref, recalled=kit.recalled,
                )
            )  # fmt: skip
    return labels


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


def _qr(label: Label) -> segno.QRCode:
    import segno

    return segno.make_qr(qr_content(label.serial, label.expiry), error="m", boost_error=False)


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
        qr = _qr(label)
        rows = [list(row) for row in qr.matrix_iter(scale=1, border=QR_BORDER)]
        module = QR_MM / len(rows)
        x0, y0 = MARGIN_MM, (LABEL_H_MM - QR_MM) / 2
        for r, row in enumerate(rows):
            c = 0
            while c < len(row):
                if not row[c]:
                    c += 1
                    continue
                start = c
                while c < len(row) and row[c]:
                    c += 1
                # a hair taller than a module, so adjacent rows leave no seam on screen
                pdf.rect(x0 + start * module, y0 + r * module, (c - start) * module,
                         module + 0.02, style="F")  # fmt: skip
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
        qr = _qr(label)
        modules = qr.symbol_size(scale=1, border=QR_BORDER)[0]
        scale = max(1, _px(QR_MM) // modules)
        buffer = io.BytesIO()
        qr.save(buffer, kind="png", scale=scale, border=QR_BORDER)
        buffer.seek(0)
        with Image.open(buffer) as code:
            symbol = code.convert("L")
        image.paste(symbol, (_px(MARGIN_MM), y + (height_px - symbol.height) // 2))
        for placed in layout(label_lines(label), width, height, fonts.measure):
            fonts.draw(draw, _px(left), y + _px(top + placed.baseline_mm), placed)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(PNG_DPI, PNG_DPI), optimize=True)
    return buffer.getvalue()


# --- the use case ---------------------------------------------------------------------------


def write_labels(uow: UnitOfWork, serials: list[str], out: str) -> Path:
    """Write labels for ``serials`` to ``out`` (``.pdf`` or ``.png``) and return the path.

    Every serial is looked up before anything is written: an unknown one is bad input and
    no file appears.
    """
    path = output_path(out, (".pdf", ".png"))
    is_png = path.suffix.lower() == ".png"
    if is_png and len(serials) > PNG_MAX_LABELS:
        raise InvalidInput(
            "out", out, f"a PNG holds at most {PNG_MAX_LABELS} labels; write a .pdf for more"
        )
    labels = read_labels(uow, serials)
    data = render_png(labels) if is_png else render_pdf(labels)
    return write_file(path, data, out)
