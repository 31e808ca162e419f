"""Kit labels: one layout per label size, drawn as PDF, PNG, ZPL II or Brother QL raster.

``layout_label(label, size)`` places everything once, in millimetres: the 2D code's
square (quiet zone included) at the left, the text lines beside it. The renderers only
draw that layout: ``render_pdf`` (one page per label, vector), ``render_png`` (the labels
stacked at 300 dpi), ``label_image`` (one label as a bitmap at any resolution: the PNG and
the Brother QL raster), and ``kitops.documents.printers`` for ZPL II and Brother QL.

Sizes are data (``kitops.domain.printers.SIZES``): ``62`` (62 × 40 mm, the PDF/PNG
label), ``62x29`` and ``50x25``. The code's square is at most 26 mm and fills the
label's height less its margins; the text shrinks to fit the rest: to three quarters of
its size, then the product's usage, storage and name lines are left out (in that order)
until it fits, and only then further, to half size.

The code (``label_code``, the one place that picks the symbology) is a GS1 DataMatrix
(``kitops.documents.symbols``, ECC 200, FNC1 first) holding the element string
``kitops.gs1.kit_element_string`` builds, fixed-length elements first and FNC1 after a
variable-length one that is not last; its human-readable form is a text line beside it
(left out, after the usage and storage lines, on a label too small for everything)::

    (01)05060999900083(17)270531(10)PTT6-A0519(21)K0000001

AI 01 is the kit product's GTIN, AI 17 the expiry date as YYMMDD (the kit's expiry: its
earliest-expiring component), AI 10 the serum lot (only when the kit holds exactly one
serum lot), AI 21 the serial number. A kit product without a GTIN gets a plain
DataMatrix of ``KKIT:<serial>``. ``kitops scan`` and the terminal UI read any of them
back.

Beside the code: the SKU and product, the serial, the expiry in words ("Use by 14 March
2027"), the serum lot(s), the course and patient reference when the kit is for one, and
the kit product's storage and usage lines (``catalog set-label-text``; nothing when unset).

Lines are measured with Helvetica's metrics (the PDF's font) whatever the output: the
PNG's font (Pillow's built-in one) and the Zebra's font 0 are narrower, and a line drawn
wider than its box is drawn smaller. Characters outside Windows-1252 are replaced by their
unaccented form or ``?`` in every output, so they all say the same.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from kitops.documents.files import output_path, printable, write_file
from kitops.documents.symbols import dark_runs, gs1_datamatrix, text_datamatrix
from kitops.domain.printers import DEFAULT_SIZE, LabelSize
from kitops.errors import InvalidInput
from kitops.gs1 import KIT_PREFIX, human_readable, kit_element_string
from kitops.i18n import N_, _, formats, ngettext
from kitops.services.labels import (
    Label,
    read_in,
    record_reprints,
    refuse_with_patient,
    with_patient,
)
from kitops.services.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from PIL import Image, ImageDraw, ImageFont

LABEL_W_MM = DEFAULT_SIZE.width_mm
LABEL_H_MM = DEFAULT_SIZE.height_mm
MARGIN_MM = DEFAULT_SIZE.margin_x_mm
# the code's square, quiet zone included, at most: a 22 × 22 DataMatrix (a kit's code)
# at 0.8 mm a module, inside GS1's 0.254-0.990 mm for healthcare scanning
CODE_MAX_MM = 19.0
GAP_MM = 1.0  # between the code's quiet zone and the text
PNG_DPI = 300
PNG_MAX_LABELS = 100
RECALLED = N_("CONTAINS A RECALLED LOT")  # translated where it is printed

_PT_MM = 25.4 / 72
_LEADING = 1.2  # line height as a multiple of the font size
_BASELINE = 0.9  # baseline below the top of the line, as a multiple of the font size
_MIN_SCALE = 0.5
_SHRINK_FIRST = 0.75  # the type shrinks this far before optional lines are left out


@dataclass(frozen=True)
class Line:
    text: str
    size_pt: float
    bold: bool = False
    max_lines: int | None = None
    optional: bool = False  # left out on a label too small for every line


@dataclass(frozen=True)
class Placed:
    """A line of text laid out: its baseline in mm from the top of the box it was laid
    out in (``layout``) or of the label (``LabelLayout.lines``)."""

    text: str
    size_pt: float
    bold: bool
    baseline_mm: float


@dataclass(frozen=True)
class Code:
    """The label's 2D code: the element string it holds and its modules, row by row,
    dark = True, without the quiet zone."""

    symbology: str  # "gs1-datamatrix" | "datamatrix"
    data: str  # GS1: the element string in bracket form; otherwise the text
    modules: tuple[tuple[bool, ...], ...]
    quiet: int  # modules of quiet zone the symbology asks for on each side

    @property
    def side(self) -> int:
        """Modules across, quiet zone included."""
        return len(self.modules[0]) + 2 * self.quiet


@dataclass(frozen=True)
class LabelLayout:
    """One label, placed: every renderer draws exactly this."""

    size: LabelSize
    code: Code
    code_x_mm: float  # the code's square (quiet zone included): left, top and side
    code_y_mm: float
    code_mm: float
    text_x_mm: float  # the text box: left, width
    text_width_mm: float
    lines: tuple[Placed, ...]  # baselines from the label's top


# --- content --------------------------------------------------------------------------------


def use_by(expiry: date) -> str:
    """``Use by 14 March 2027`` in the language in force (``Verwendbar bis 14. März 2027``
    in German), whatever the machine's own locale."""
    return _("Use by {date}").format(date=formats.date_long(expiry))


def label_element_string(label: Label) -> str:
    """What a kit's label encodes: its GTIN, expiry, its one serum lot, its serial (GS
    separated, ``kitops.gs1.kit_element_string``), or ``KKIT:<serial>`` without a GTIN."""
    lot = label.serum_lots[0] if len(label.serum_lots) == 1 else None
    return kit_element_string(label.serial, gtin=label.gtin, expiry=label.expiry, lot=lot)


def label_code(label: Label) -> Code:
    """The label's code, with its modules: THE seam where the symbology is chosen. The
    PDF, PNG, QL and ZPL renderers follow ``Code.symbology``."""
    data = label_element_string(label)
    if data.startswith(KIT_PREFIX):
        return Code("datamatrix", data, text_datamatrix(data).modules, quiet=1)
    return Code("gs1-datamatrix", human_readable(data), gs1_datamatrix(data).modules, quiet=1)


def hri_parts(code: str) -> list[str]:
    """The code's human-readable form, element by element (``(01)…``), or its text."""
    return ["(" + part for part in human_readable(code).split("(") if part] or [code]


def label_lines(label: Label) -> list[Line]:
    """The text beside the code, top to bottom; a recall warning comes first."""
    lines = [Line(_(RECALLED), 8, bold=True)] if label.recalled else []
    lines += [
        Line(label.sku, 8, bold=True),
        Line(label.product, 6.5, max_lines=2, optional=True),
        Line(_("Serial {serial}").format(serial=label.serial), 9, bold=True),
    ]
    if label.expiry != date.max:
        lines.append(Line(use_by(label.expiry), 8, bold=True))
    if label.serum_lots:
        serum = ngettext("Serum lot {lots}", "Serum lots {lots}", len(label.serum_lots))
        lines.append(Line(serum.format(lots=", ".join(label.serum_lots)), 6.5, max_lines=2))
    if label.course_id is not None:
        course = (
            _("Course {course}, kit {part}").format(course=label.course_id, part=label.course_part)
            if label.course_part
            else _("Course {course}").format(course=label.course_id)
        )
        lines.append(Line(course, 7))
    if label.patient_ref:
        lines.append(Line(_("Patient {patient}").format(patient=label.patient_ref), 7))
    # the code in words; on a label too small for everything it goes after the usage and
    # storage lines, before the product's name
    lines.append(Line(" ".join(hri_parts(label_element_string(label))), 6, max_lines=2,
                      optional=True))  # fmt: skip
    if label.storage:
        lines.append(Line(label.storage, 6, max_lines=2, optional=True))
    if label.usage:
        lines.append(Line(label.usage, 6, max_lines=3, optional=True))
    return [
        Line(printable(line.text), line.size_pt, line.bold, line.max_lines, line.optional)
        for line in lines
    ]


# --- layout ---------------------------------------------------------------------------------

Measure = Callable[[str, float, bool], float]  # (text, size in pt, bold) → width in mm


def helvetica_width(text: str, size_pt: float, bold: bool) -> float:
    """Width in mm of ``text`` in Helvetica (bold) at ``size_pt``: the PDF core font's
    metrics, the measure every output's layout uses."""
    from fpdf.fonts import CORE_FONTS_CHARWIDTHS

    widths = CORE_FONTS_CHARWIDTHS["helveticaB" if bold else "helvetica"]
    encoded = text.encode("cp1252", "replace").decode("latin-1")
    return sum(widths.get(char, 556) for char in encoded) * size_pt / 1000 * _PT_MM


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


def _place(
    lines: Sequence[Line], width: float, scale: float, measure: Measure
) -> tuple[list[Placed], float]:
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
    return placed, top


def layout(
    lines: Sequence[Line], width: float, height: float, measure: Measure = helvetica_width
) -> list[Placed]:
    """Wrap the lines into ``width`` mm, shrinking the type until they fit ``height`` mm,
    and centre the block vertically. The type shrinks to three quarters before the
    optional lines go (last first), and to half size once none is left."""
    kept = list(lines)
    while True:
        optional = [i for i, line in enumerate(kept) if line.optional]
        floor = _SHRINK_FIRST if optional else _MIN_SCALE
        scale = 1.0
        while True:
            placed, top = _place(kept, width, scale, measure)
            if top <= height or scale <= floor + 1e-9:
                break
            scale -= 0.05
        if top <= height or not optional:
            break
        del kept[optional[-1]]
    offset = max(0.0, (height - top) / 2)
    return [Placed(p.text, p.size_pt, p.bold, p.baseline_mm + offset) for p in placed]


def layout_label(label: Label, size: LabelSize = DEFAULT_SIZE) -> LabelLayout:
    """Place one label on ``size``: the code's square at the left, centred in the height,
    the text beside it."""
    code = label_code(label)
    inner_h = size.height_mm - 2 * size.margin_y_mm
    side = min(CODE_MAX_MM, inner_h, size.width_mm * 0.45)
    text_x = size.margin_x_mm + side + GAP_MM
    text_w = size.width_mm - size.margin_x_mm - text_x
    placed = layout(label_lines(label), text_w, inner_h)
    lines = tuple(
        Placed(p.text, p.size_pt, p.bold, p.baseline_mm + size.margin_y_mm) for p in placed
    )
    return LabelLayout(size=size, code=code, code_x_mm=size.margin_x_mm,
                       code_y_mm=(size.height_mm - side) / 2, code_mm=side, text_x_mm=text_x,
                       text_width_mm=text_w, lines=lines)  # fmt: skip


def layouts(labels: Sequence[Label], size: LabelSize = DEFAULT_SIZE) -> list[LabelLayout]:
    return [layout_label(label, size) for label in labels]


def dots(mm: float, dpi: int) -> int:
    return round(mm / 25.4 * dpi)


def code_placement(item: LabelLayout, dpi: int) -> tuple[int, int, int]:
    """For a printer of ``dpi``: the code's module size in dots and the dots from the
    label's left and top to its first module (its quiet zone inside the square): whole
    dots per module, the symbol centred in its square."""
    side = dots(item.code_mm, dpi)
    module = max(1, side // item.code.side)
    drawn = module * item.code.side
    x = dots(item.code_x_mm, dpi) + (side - drawn) // 2 + module * item.code.quiet
    y = dots(item.code_y_mm, dpi) + (side - drawn) // 2 + module * item.code.quiet
    return module, x, y


# --- PDF ------------------------------------------------------------------------------------


def render_pdf(labels: Sequence[Label] | Sequence[LabelLayout], copies: int = 1) -> bytes:
    """One page per label (its size); the code as filled rectangles (sharp at any
    printer resolution), the text in core Helvetica."""
    from fpdf import FPDF

    items = _as_layouts(labels)
    pdf = FPDF(orientation="P", unit="mm", format=(items[0].size.width_mm, items[0].size.height_mm))
    pdf.core_fonts_encoding = "cp1252"
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.set_title(printable(_("kitops kit labels")))
    pdf.set_creator("kitops")
    pdf.set_fill_color(0, 0, 0)
    pdf.set_text_color(0, 0, 0)
    for item in items:
        for _copy in range(copies):
            pdf.add_page(format=(item.size.width_mm, item.size.height_mm))
            module = item.code_mm / item.code.side
            x0 = item.code_x_mm + item.code.quiet * module
            y0 = item.code_y_mm + item.code.quiet * module
            for r, row in enumerate(item.code.modules):
                for start, end in dark_runs(row):
                    # a hair taller than a module, so adjacent rows leave no seam on screen
                    pdf.rect(x0 + start * module, y0 + r * module, (end - start) * module,
                             module + 0.02, style="F")  # fmt: skip
            for placed in item.lines:
                pdf.set_font("Helvetica", "B" if placed.bold else "", placed.size_pt)
                pdf.text(item.text_x_mm, placed.baseline_mm, placed.text)
    return bytes(pdf.output())


def _as_layouts(labels: Sequence[Label] | Sequence[LabelLayout]) -> list[LabelLayout]:
    if not labels:
        raise InvalidInput("serial", None, _("give at least one kit serial"))
    return [item if isinstance(item, LabelLayout) else layout_label(item) for item in labels]


# --- bitmaps: PNG and the Brother QL raster -------------------------------------------------


class _Fonts:
    """Pillow's built-in scalable font by pixel size; bold is drawn with a one-pixel
    stroke."""

    def __init__(self, dpi: int) -> None:
        self.dpi = dpi
        self._cache: dict[int, ImageFont.FreeTypeFont | ImageFont.ImageFont] = {}

    def get(self, pixels: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
        from PIL import ImageFont

        if pixels not in self._cache:
            self._cache[pixels] = ImageFont.load_default(size=pixels)
        return self._cache[pixels]

    def draw(self, draw: ImageDraw.ImageDraw, x: int, y: int, width: int, placed: Placed) -> None:
        from PIL import ImageFont

        pixels = max(1, round(placed.size_pt / 72 * self.dpi))
        stroke = 1 if placed.bold else 0
        font = self.get(pixels)
        while pixels > 4 and font.getlength(placed.text) + 2 * stroke > width:
            pixels -= 1  # a line wider than its box in this font: drawn smaller
            font = self.get(pixels)
        if isinstance(font, ImageFont.FreeTypeFont):
            draw.text((x, y), placed.text, fill=0, font=font, anchor="ls",
                      stroke_width=stroke, stroke_fill=0)  # fmt: skip
        else:  # Pillow without FreeType: the small bitmap font, drawn from its top
            draw.text((x, y - pixels), placed.text, fill=0, font=font)


def label_image(item: LabelLayout, dpi: int = PNG_DPI) -> Image.Image:
    """One label as a greyscale bitmap at ``dpi`` (the code in whole dots per module)."""
    from PIL import Image, ImageDraw

    image = Image.new("L", (dots(item.size.width_mm, dpi), dots(item.size.height_mm, dpi)), 255)
    draw = ImageDraw.Draw(image)
    module, x0, y0 = code_placement(item, dpi)
    for r, row in enumerate(item.code.modules):
        for start, end in dark_runs(row):
            draw.rectangle([x0 + start * module, y0 + r * module,
                            x0 + end * module - 1, y0 + (r + 1) * module - 1], fill=0)  # fmt: skip
    fonts = _Fonts(dpi)
    left, width = dots(item.text_x_mm, dpi), dots(item.text_width_mm, dpi)
    for placed in item.lines:
        fonts.draw(draw, left, dots(placed.baseline_mm, dpi), width, placed)
    return image


def render_png(labels: Sequence[Label] | Sequence[LabelLayout], copies: int = 1) -> bytes:
    """The labels one under the other in one 300 dpi greyscale image, separated by a grey
    cutting line."""
    from PIL import Image, ImageDraw

    items = [item for item in _as_layouts(labels) for _ in range(copies)]
    width = max(dots(item.size.width_mm, PNG_DPI) for item in items)
    heights = [dots(item.size.height_mm, PNG_DPI) for item in items]
    image = Image.new("L", (width, sum(heights)), 255)
    draw = ImageDraw.Draw(image)
    y = 0
    for index, item in enumerate(items):
        image.paste(label_image(item, PNG_DPI), (0, y))
        if index:
            draw.line([(0, y), (width - 1, y)], fill=160, width=1)
        y += heights[index]
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
            "out",
            out,
            _("a PNG holds at most {count} labels; write a .pdf for more").format(
                count=PNG_MAX_LABELS
            ),
        )
    with uow:
        labels = read_in(uow, serials)
        gone = with_patient(labels)
        if gone and not reprint:
            refuse_with_patient(labels)
        if gone:
            record_reprints(uow, labels)
        placed = layouts(labels)
        data = render_png(placed) if is_png else render_pdf(placed)
        written = write_file(path, data, out)
        if gone:
            uow.commit()
    return written
