"""Label printers as data: the label sizes kitops lays out, the output formats, and how a
printer is reached. Pure Python: parsing and checking only (the bytes are made in
``kitops.documents``, and sent there too).

A printer is kept in the settings table, one row per printer: the key ``printer:NAME``
and a short JSON value (``printer_value``/``parse_printer_value``), so printers need no
table of their own.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum

from kitops.errors import InvalidInput
from kitops.i18n import N_, _


@dataclass(frozen=True)
class LabelSize:
    """A label stock: its size, the margins kept blank (they cover the unprintable edges of
    the printers that take it), and the Brother QL media it is printed on (brother_ql's
    identifier: ``62`` is the 62 mm continuous roll, ``62x29`` the die-cut label)."""

    name: str
    width_mm: float
    height_mm: float
    margin_x_mm: float
    margin_y_mm: float
    ql_media: str | None
    description: str


SIZES: dict[str, LabelSize] = {
    size.name: size
    for size in (
        # the descriptions are marked for the catalog; a front end shows them translated
        LabelSize("62", 62.0, 40.0, 2.0, 2.0, "62",
                  N_("62 mm continuous roll, cut every 40 mm (the PDF/PNG label)")),
        LabelSize("62x29", 62.0, 29.0, 2.0, 3.2, "62x29", N_("62 × 29 mm die-cut labels")),
        LabelSize("50x25", 50.0, 25.0, 2.0, 1.5, "50",
                  N_("50 × 25 mm labels (on a Brother QL: the 50 mm roll, cut every 25 mm)")),
    )
}  # fmt: skip
DEFAULT_SIZE = SIZES["62"]


class PrinterFormat(StrEnum):
    ZPL = "zpl"  # Zebra Programming Language II, for Zebra and compatible printers
    QL = "ql"  # Brother QL raster
    PDF = "pdf"  # one page per label, for a CUPS queue or a printer that takes PDF


# dots per inch each format may be set to; the first is the default
DPI: dict[PrinterFormat, tuple[int, ...]] = {
    PrinterFormat.ZPL: (203, 300, 600),
    PrinterFormat.QL: (300,),
    PrinterFormat.PDF: (300,),
}
QL_MODELS = ("QL-500", "QL-550", "QL-560", "QL-570", "QL-580N", "QL-650TD", "QL-700",
             "QL-710W", "QL-720NW", "QL-800", "QL-810W", "QL-820NWB", "QL-1050",
             "QL-1060N", "QL-1100", "QL-1110NWB", "QL-1115NWB")  # fmt: skip
DEFAULT_QL_MODEL = "QL-820NWB"
DEFAULT_PORT = 9100  # raw printing ("JetDirect"), Zebra's and Brother's network port


class Via(StrEnum):
    TCP = "tcp"  # raw bytes to host:port
    DEVICE = "device"  # written to a device file (/dev/usb/lp0) or a FIFO
    CUPS = "cups"  # `lp -d QUEUE`


@dataclass(frozen=True)
class Connection:
    via: Via
    target: str  # host:port, a path, or a CUPS queue

    @property
    def host_port(self) -> tuple[str, int]:
        host, _, port = self.target.rpartition(":")
        return host.strip("[]"), int(port)

    def __str__(self) -> str:
        return self.target if self.via is Via.TCP else f"{self.via.value} {self.target}"


@dataclass(frozen=True)
class PrinterSpec:
    name: str
    format: PrinterFormat
    size: LabelSize
    dpi: int
    connection: Connection
    model: str | None = None  # Brother QL model (QL printers only)


SETTING_PREFIX = "printer:"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")
_HOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,252})|\[[0-9A-Fa-f:.]{2,45}\]|[0-9A-Fa-f:]{2,45}")
_QUEUE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@-]{0,126}")
MAX_PATH = 150  # a settings value holds 200 characters: the path and the rest


def parse_name(value: str) -> str:
    name = value.strip()
    if not _NAME.fullmatch(name):
        raise InvalidInput(
            "name", value, _(
                "must be 1-40 letters, digits, '.', '_' or '-', starting "
                "with a letter or digit"
            )
        )  # fmt: skip
    return name


def parse_format(value: str) -> PrinterFormat:
    try:
        return PrinterFormat(value.strip().lower())
    except ValueError:
        raise InvalidInput("format", value, _("must be one of zpl|ql|pdf")) from None


def parse_size(value: str) -> LabelSize:
    key = value.strip().lower().replace("×", "x").replace(" ", "")
    if key.endswith("mm"):
        key = key[:-2]
    if key not in SIZES:
        raise InvalidInput(
            "size", value, _("must be one of {choices}").format(choices="|".join(SIZES))
        )
    return SIZES[key]


def parse_tcp(value: str) -> Connection:
    """``HOST`` or ``HOST:PORT`` (an IPv6 address in brackets when a port follows)."""
    text = value.strip()
    host, port = text, DEFAULT_PORT
    if text.startswith("["):
        inside, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise InvalidInput("tcp", value, _("must be HOST or HOST:PORT"))
        host = inside
        if rest:
            port = _port(rest[1:], value)
    elif text.count(":") == 1:
        host, raw = text.split(":")
        port = _port(raw, value)
    if not host or not _HOST.fullmatch(host):
        raise InvalidInput("tcp", value, _("must be HOST or HOST:PORT (a name or an address)"))
    shown = f"[{host}]" if ":" in host else host
    return Connection(Via.TCP, f"{shown}:{port}")


def _port(raw: str, value: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise InvalidInput("tcp", value, _("the port must be a number 1-65535"))
    return int(raw)


def parse_device(value: str) -> Connection:
    path = value.strip()
    if not path.startswith("/") or len(path) > MAX_PATH or any(ord(c) < 32 for c in path):
        raise InvalidInput(
            "device",
            value,
            _("must be an absolute path of at most {max_path} characters").format(
                max_path=MAX_PATH
            ),
        )
    return Connection(Via.DEVICE, path)


def parse_queue(value: str) -> Connection:
    queue = value.strip()
    if not _QUEUE.fullmatch(queue):
        raise InvalidInput(
            "cups", value, _("must be a CUPS queue name (letters, digits, '_', '.', '-', '@')")
        )
    return Connection(Via.CUPS, queue)


def printer_spec(
    name: str,
    format: str,
    size: str,
    *,
    tcp: str | None = None,
    device: str | None = None,
    cups: str | None = None,
    dpi: int | None = None,
    model: str | None = None,
) -> PrinterSpec:
    """A printer from what the command line gave; bad input names its field."""
    clean_name = parse_name(name)
    kind = parse_format(format)
    label_size = parse_size(size)
    given = [(f, v) for f, v in (("tcp", tcp), ("device", device), ("cups", cups)) if v]
    if len(given) != 1:
        shown = ", ".join(f for f, _ in given) or None
        raise InvalidInput(
            "connection",
            shown,
            _("give exactly one of --tcp HOST[:PORT], --device PATH, --cups QUEUE"),
        )
    field, target = given[0]
    parse = {"tcp": parse_tcp, "device": parse_device, "cups": parse_queue}[field]
    connection = parse(target or "")
    allowed = DPI[kind]
    chosen = allowed[0] if dpi is None else dpi
    if chosen not in allowed:
        raise InvalidInput(
            "dpi",
            dpi,
            _("a {kind} printer prints at {dpis} dpi").format(
                kind=kind.value, dpis="|".join(map(str, allowed))
            ),
        )
    if kind is PrinterFormat.QL:
        if label_size.ql_media is None:
            raise InvalidInput("size", size, _("is not a Brother QL label"))
        chosen_model = (model or DEFAULT_QL_MODEL).strip().upper()
        if chosen_model not in QL_MODELS:
            raise InvalidInput(
                "model",
                model,
                _("must be one of {choices}").format(choices="|".join(QL_MODELS)),
            )
    elif model:
        raise InvalidInput("model", model, _("is for Brother QL printers only (--format ql)"))
    else:
        chosen_model = None
    return PrinterSpec(clean_name, kind, label_size, chosen, connection, chosen_model)


def printer_value(spec: PrinterSpec) -> str:
    """The settings row's value: short JSON (at most 200 characters)."""
    data: dict[str, object] = {"format": spec.format.value, "size": spec.size.name,
                               "dpi": spec.dpi}  # fmt: skip
    data[spec.connection.via.value] = spec.connection.target
    if spec.model:
        data["model"] = spec.model
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def parse_printer_value(name: str, value: str) -> PrinterSpec:
    """The printer a settings row holds (written by ``printer_value``)."""
    data = json.loads(value)
    via = next(v for v in Via if v.value in data)
    return PrinterSpec(
        name=name, format=PrinterFormat(data["format"]), size=SIZES[data["size"]],
        dpi=int(data["dpi"]), connection=Connection(via, str(data[via.value])),
        model=data.get("model"),
    )  # fmt: skip
