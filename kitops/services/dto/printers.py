"""Frozen values about label printers: a printer as the settings keep it, a print job sent."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Printer:
    name: str
    format: str  # zpl | ql | pdf
    size: str  # a label size's name: 62 | 62x29 | 50x25
    dpi: int
    via: str  # tcp | device | cups
    target: str  # host:port, a device path, or a CUPS queue
    model: str | None  # the Brother QL model (ql printers only)


@dataclass(frozen=True)
class PrintJob:
    printer: str
    labels: int
    copies: int
    bytes_sent: int
    reprints: int  # labels of kits already with their patient (audited)
