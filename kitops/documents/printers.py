"""Labels for label printers, and sending them: ZPL II for Zebra printers, Brother QL
raster, or PDF, to a printer named in settings (``kitops.services.printers``).

Both printer formats draw the one layout of ``kitops.documents.labels`` at the printer's
resolution:

- **ZPL II**: one ``^XA ... ^XZ`` format per label, UTF-8 (``^CI28``), the label's width
  and length in dots (``^PW``, ``^LL``); each text line is ``^FO`` (its top left) ``^A0``
  (the scalable font, its height in dots) ``^FH`` ``^FD``, with ``^``, ``~`` and ``\\``
  written as hex escapes; copies as ``^PQ`` (none for one copy, the default). The code is
  the printer's own symbol, at whole dots per module: a QR code is ``^BQN,2,<dots>``
  with ``^FDMA,<element string>`` (error correction M, automatic mode); a GS1
  DataMatrix is ``^BXN,<dots>,200,<columns>,<rows>,,_`` (ECC 200, ``_`` the escape
  character) with ``^FD_1<element string>``, the AIs without brackets, ``_1`` (FNC1)
  first and after every variable-length value that another element follows, and a
  ``_`` in a value written ``__``.
- **Brother QL**: the label drawn at 300 dpi (``labels.label_image``), cut to the
  media's printable area, and turned into the printer's raster commands by brother_ql
  (``brother-ql-inventree``), one page per label, cut after each.

Sending is one job: all the bytes over one connection, raw TCP (port 9100 by default),
written to a device file, or handed to CUPS as ``lp -d QUEUE`` (``-o raw`` for ZPL and QL;
run without a shell). A printer that does not answer within 5 s or resets the
connection, a device nobody reads, or a failing ``lp`` is refused (exit 1) in one line,
and the use case writes nothing.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import select
import socket
import stat
import subprocess
import time
from collections.abc import Sequence
from datetime import date

from kitops.documents.labels import (
    Code,
    LabelLayout,
    code_placement,
    dots,
    label_image,
    layout_label,
    layouts,
    render_pdf,
)
from kitops.domain.printers import PrinterFormat, PrinterSpec, Via
from kitops.errors import InvalidInput, Refused
from kitops.i18n import N_, _
from kitops.services.dto.printers import PrintJob
from kitops.services.labels import Label, read_in, record_reprints, refuse_with_patient
from kitops.services.labels import with_patient as labels_with_patient
from kitops.services.printers import printer_in
from kitops.services.unit_of_work import UnitOfWork

TIMEOUT_S = 5.0
CLOSE_WAIT_S = 1.0  # after sending, how long to wait for the printer to close its side
MAX_COPIES = 99
LP = "lp"  # the CUPS command that queues a job

# --- ZPL II ---------------------------------------------------------------------------------


def zpl_text(text: str) -> str:
    """A field's data for ``^FH\\^FD``: the characters ZPL would read as commands
    (``^``, ``~``) and the escape itself as hex."""
    return text.replace("\\", "\\5C").replace("^", "\\5E").replace("~", "\\7E")


# GS1 General Specifications, figure 7.8.5-2: element strings whose AI starts with these
# two digits have a predefined length and need no FNC1 after them
_PREDEFINED = frozenset({"00", "01", "02", "03", "04", "11", "12", "13", "14", "15", "16",
                         "17", "18", "19", "20", "31", "32", "33", "34", "35", "36",
                         "41"})  # fmt: skip
_BRACKETED = re.compile(r"\((\d{2,4})\)([^()]*)")


def gs1_zpl_data(element_string: str, escape: str = "_") -> str:
    """``(01)…(17)…(10)…(21)…`` as ^BX data: FNC1 (``_1``) first as the GS1 flag, and as
    the separator after a variable-length value that is not the last."""
    elements = _BRACKETED.findall(element_string)
    if not elements or "".join(f"({a}){v}" for a, v in elements) != element_string:
        raise ValueError(f"not a GS1 element string in bracket form: {element_string!r}")
    out = escape + "1"
    for index, (ai, value) in enumerate(elements):
        out += ai + value.replace(escape, escape * 2)
        if ai[:2] not in _PREDEFINED and index < len(elements) - 1:
            out += escape + "1"
    return out


def _zpl_code(code: Code, module: int) -> str:
    rows, columns = len(code.modules), len(code.modules[0])
    if code.symbology == "gs1-datamatrix":
        return f"^BXN,{module},200,{columns},{rows},,_^FD{gs1_zpl_data(code.data)}^FS"
    if code.symbology == "datamatrix":  # kitops's own code (KKIT:…): plain text
        return f"^BXN,{module},200,{columns},{rows}^FH\\^FD{zpl_text(code.data)}^FS"
    raise ValueError(f"no ZPL symbol for {code.symbology}")


def render_zpl(items: Sequence[LabelLayout], dpi: int, copies: int = 1) -> bytes:
    """The labels as ZPL II for a printer of ``dpi`` dots per inch, ``copies`` of each."""
    formats = []
    for item in items:
        module, x, y = code_placement(item, dpi)
        if item.code.symbology == "qr":
            module = min(module, 10)  # ^BQ magnifies 1-10 times
        parts = ["^XA", "^CI28", f"^PW{dots(item.size.width_mm, dpi)}",
                 f"^LL{dots(item.size.height_mm, dpi)}", "^LH0,0",
                 f"^FO{x},{y}{_zpl_code(item.code, module)}"]  # fmt: skip
        left = dots(item.text_x_mm, dpi)
        for placed in item.lines:
            height = max(10, dots(placed.size_pt * 25.4 / 72, dpi))
            top = dots(placed.baseline_mm, dpi) - round(height * 0.8)
            parts.append(
                f"^FO{left},{max(0, top)}^A0N,{height},0^FH\\^FD{zpl_text(placed.text)}^FS"
            )
        if copies > 1:  # one is the default
            parts.append(f"^PQ{copies}")
        parts.append("^XZ")
        formats.append("\n".join(parts))
    return ("\n".join(formats) + "\n").encode("utf-8")


# --- Brother QL -----------------------------------------------------------------------------

QL_MISSING = N_(
    "Brother QL labels need the optional brother_ql library, which is GPL-3.0: install it "
    "with `pip install 'kitops[ql]'` (README: Printers)"
)


def render_ql(items: Sequence[LabelLayout], model: str, copies: int = 1) -> bytes:
    """The labels as Brother QL raster commands for ``model``, one page per label (and per
    copy), each cut off."""
    try:
        from brother_ql.conversion import convert
        from brother_ql.labels import LabelsManager
        from brother_ql.raster import BrotherQLRaster
    except ImportError:
        raise Refused(_(QL_MISSING)) from None

    media = {label.identifier: label for label in LabelsManager().iter_elements()}
    images = []
    for item in items:
        spec = media[item.size.ql_media or ""]
        image = label_image(item, 300)
        width, height = spec.dots_printable
        height = height or image.height  # a continuous roll: the label's own length
        left, top = (image.width - width) // 2, (image.height - height) // 2
        images += [image.crop((left, top, left + width, top + height))] * copies
    raster = BrotherQLRaster(model)
    raster.exception_on_warning = True
    data: bytes = convert(raster, images, item.size.ql_media, rotate="0", threshold=50.0,
                          dither=False, compress=True, red=False, dpi_600=False, hq=True,
                          cut=True)  # fmt: skip
    return bytes(data)


def printer_bytes(spec: PrinterSpec, items: Sequence[LabelLayout], copies: int = 1) -> bytes:
    """What ``spec`` is sent for the labels: ZPL, QL raster or PDF."""
    if spec.format is PrinterFormat.ZPL:
        return render_zpl(items, spec.dpi, copies)
    if spec.format is PrinterFormat.QL:
        return render_ql(items, spec.model or "", copies)
    return render_pdf(items, copies)


# --- sending --------------------------------------------------------------------------------


def lp_command(spec: PrinterSpec, title: str = "kitops labels") -> list[str]:
    """The ``lp`` command line that queues a job on the printer's CUPS queue (no shell):
    raw for ZPL and QL (CUPS passes the bytes on untouched)."""
    command = [LP, "-d", spec.connection.target, "-t", title]
    if spec.format is not PrinterFormat.PDF:
        command += ["-o", "raw"]
    return command


def send(spec: PrinterSpec, data: bytes, *, timeout: float = TIMEOUT_S) -> None:
    """Send ``data`` to the printer as one job; Refused (one line) when it cannot be."""
    where = _("printer {name} at {target}").format(name=spec.name, target=spec.connection.target)
    if spec.connection.via is Via.TCP:
        _send_tcp(spec, data, timeout, where)
    elif spec.connection.via is Via.DEVICE:
        _send_device(spec.connection.target, data, timeout, where)
    else:
        _send_cups(spec, data, timeout)


def _send_tcp(spec: PrinterSpec, data: bytes, timeout: float, where: str) -> None:
    host, port = spec.connection.host_port
    try:
        with socket.create_connection((host, port), timeout=timeout) as connection:
            connection.sendall(data)
            connection.shutdown(socket.SHUT_WR)
            # a printer closes its side once it has the job; one that resets the
            # connection instead did not take it. A printer that keeps it open has the
            # bytes all the same: after a second, that is taken as done.
            connection.settimeout(min(timeout, CLOSE_WAIT_S))
            with contextlib.suppress(TimeoutError):
                while connection.recv(4096):
                    pass
    except (ConnectionResetError, BrokenPipeError):
        raise Refused(
            _("{printer} reset the connection: the labels may not have printed").format(
                printer=where
            )
        ) from None
    except TimeoutError:
        raise Refused(
            _("{printer} did not answer within {seconds} s").format(
                printer=where, seconds=f"{timeout:g}"
            )
        ) from None
    except ConnectionRefusedError:
        raise Refused(
            _("{printer} refused the connection (nothing listens on that port)").format(
                printer=where
            )
        ) from None
    except socket.gaierror:
        raise Refused(
            _("{printer}: the host name {host} is unknown").format(printer=where, host=host)
        ) from None
    except OSError as error:
        raise Refused(
            _("{printer} cannot be reached: {error}").format(
                printer=where, error=error.strerror or error
            )
        ) from None


def _send_device(path: str, data: bytes, timeout: float, where: str) -> None:
    """Write to a device file or FIFO without waiting forever: opened without blocking
    (a FIFO nobody reads is refused at once), each write waits at most ``timeout``."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise Refused(
            _("{printer}: the device file does not exist").format(printer=where)
        ) from None
    except OSError as error:
        if error.errno == errno.ENXIO:
            raise Refused(
                _("{printer}: nothing reads the device (printer off?)").format(printer=where)
            ) from None
        raise Refused(
            _("{printer} cannot be opened: {error}").format(
                printer=where, error=error.strerror or error
            )
        ) from None
    try:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise Refused(_("{printer} is a folder").format(printer=where))
        view = memoryview(data)
        deadline = time.monotonic() + timeout
        while view:
            try:
                written = os.write(fd, view)
            except BlockingIOError:
                written = 0
            except OSError as error:
                raise Refused(
                    _("{printer} cannot be written: {error}").format(
                        printer=where, error=error.strerror or error
                    )
                ) from None
            view = view[written:]
            if view and not select.select([], [fd], [], max(0.0, deadline - time.monotonic()))[1]:
                raise Refused(
                    _("{printer} did not take the label within {seconds} s").format(
                        printer=where, seconds=f"{timeout:g}"
                    )
                )
    finally:
        os.close(fd)


def _send_cups(spec: PrinterSpec, data: bytes, timeout: float) -> None:
    command = lp_command(spec)
    where = _("printer {name} (CUPS queue {queue})").format(
        name=spec.name, queue=spec.connection.target
    )
    try:
        done = subprocess.run(command, input=data, capture_output=True, timeout=timeout * 2,
                              check=False)  # fmt: skip
    except FileNotFoundError:
        raise Refused(
            _("{printer}: `lp` is not installed (install CUPS's client)").format(printer=where)
        ) from None
    except subprocess.TimeoutExpired:
        raise Refused(
            _("{printer}: lp did not answer within {seconds} s").format(
                printer=where, seconds=f"{timeout * 2:g}"
            )
        ) from None
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise Refused(
            _("{printer}: lp failed: {error}").format(
                printer=where, error=said[0] if said else f"exit {done.returncode}"
            )
        )


# --- the use cases --------------------------------------------------------------------------


def _copies(copies: int) -> int:
    if not 1 <= copies <= MAX_COPIES:
        raise InvalidInput("copies", copies, _("must be 1-{most}").format(most=MAX_COPIES))
    return copies


def print_labels(
    uow: UnitOfWork,
    serials: Sequence[str],
    printer: str,
    *,
    reprint: bool = False,
    copies: int = 1,
    timeout: float = TIMEOUT_S,
) -> PrintJob:
    """Print the labels of ``serials`` on ``printer`` in one job.

    The rules of ``write_labels``: every serial is looked up first (unknown: bad input,
    nothing sent); a kit already with its patient is refused unless ``reprint``, and a
    reprint is audited. The audit rows are committed only once the printer took the job:
    a printer that cannot be reached leaves nothing recorded."""
    _copies(copies)
    with uow:
        spec = printer_in(uow, printer)
        labels = read_in(uow, list(serials))
        gone = labels_with_patient(labels)
        if gone and not reprint:
            refuse_with_patient(labels)
        if gone:
            record_reprints(uow, labels)
        data = printer_bytes(spec, layouts(labels, spec.size), copies)
        send(spec, data, timeout=timeout)
        if gone:
            uow.commit()
    return PrintJob(printer=spec.name, labels=len(labels), copies=copies, bytes_sent=len(data),
                    reprints=len(gone))  # fmt: skip


def sample_label(spec: PrinterSpec) -> Label:
    """A label that says which printer, size and resolution printed it."""
    return Label(
        serial="TEST0001", sku="KITOPS TEST LABEL",
        product=_("Printer {name}: {format}, {dpi} dpi").format(
            name=spec.name, format=spec.format.value.upper(), dpi=spec.dpi
        ),
        expiry=date.max, course_id=None, course_part=None, patient_ref=None, recalled=False,
        storage=spec.size.description,
    )  # fmt: skip


def print_test(uow: UnitOfWork, printer: str, *, timeout: float = TIMEOUT_S) -> PrintJob:
    """Send the test label to ``printer`` (admins): nothing is recorded."""
    with uow:
        uow.require("setting.set", doing="test a printer")
        spec = printer_in(uow, printer)
    data = printer_bytes(spec, [layout_label(sample_label(spec), spec.size)])
    send(spec, data, timeout=timeout)
    return PrintJob(printer=spec.name, labels=1, copies=1, bytes_sent=len(data), reprints=0)
