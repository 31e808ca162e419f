"""A loopback label printer for the printer tests, and readers for what it received."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from dataclasses import dataclass


class FakePrinter:
    """A raw-TCP printer on 127.0.0.1 at a random port: each connection is one job, kept
    as the bytes received until the sender closed."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.jobs: list[bytes] = []
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            with connection:
                chunks = []
                while data := connection.recv(65536):
                    chunks.append(data)
            with self._changed:
                self.jobs.append(b"".join(chunks))
                self._changed.notify_all()

    def wait_for_jobs(self, count: int) -> list[bytes]:
        """The jobs once ``count`` have arrived (a generous bound, not a timing check)."""
        with self._changed:
            self._changed.wait_for(lambda: len(self.jobs) >= count, timeout=30)
            return list(self.jobs)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.server.shutdown(socket.SHUT_RDWR)
        self.server.close()
        self._thread.join(timeout=5)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- ZPL ------------------------------------------------------------------------------------


def zpl_commands(data: bytes) -> list[bytes]:
    """The commands of a ZPL stream as zplkit frames them (``^FO37,77``), each stripped of
    its trailing line break; zplkit's parser raises on a malformed stream."""
    from zplkit.parse import parse

    elements = parse(data).elements
    assert b"".join(bytes(e) for e in elements) == data  # lossless: nothing was skipped
    return [e.data.rstrip(b"\r\n") for e in elements if e.kind != "before_first_command"]


def zpl_field_data(commands: list[bytes], symbol: bytes) -> list[bytes]:
    """The ^FD data of each field drawn with ``symbol`` (``b"^BQ"``)."""
    found = []
    for index, command in enumerate(commands):
        if command.startswith(symbol):
            following = commands[index + 1 :]
            data = next(c for c in following if c.startswith(b"^FD"))
            found.append(data[3:])
    return found


def render_and_read_zpl(data: bytes, dpi: int) -> list[tuple[list[str], tuple[int, int]]]:
    """Render each label of a ZPL stream with zplkit (which refuses any command it does
    not know) and read its codes back with zxing-cpp: per label, the texts read (the GS1
    bracket form for a GS1 symbol, with its symbology identifier first) and the size in
    dots."""
    import zplkit
    import zxingcpp
    from PIL import Image

    document = zplkit.render(data, zplkit.Options(dpi=dpi))
    labels = []
    for scene in document.labels:
        raster = scene.rasterize()
        image = Image.frombytes("L", (raster.width, raster.height), raster.pixels)
        texts = []
        for result in zxingcpp.read_barcodes(image):
            if result.symbology_identifier in ("]d2", "]Q3"):
                texts.append(f"{result.symbology_identifier}{result.text}")
            else:
                texts.append(result.text)
        labels.append((texts, (raster.width, raster.height)))
    return labels


# --- Brother QL -----------------------------------------------------------------------------


@dataclass(frozen=True)
class QlPage:
    media_type: int  # 0x0A continuous, 0x0B die-cut
    width_mm: int
    length_mm: int  # 0 on a continuous roll
    raster_lines: int  # as the page's header announces
    rows: list[bytes]  # the raster lines received, decompressed (one bit per dot)


def read_ql(data: bytes) -> list[QlPage]:
    """The pages of a Brother QL raster job, read with brother_ql's own reader: its
    instruction chunker and the PackBits rows it decompresses."""
    from brother_ql.reader import chunker

    pages: list[QlPage] = []
    header: tuple[int, int, int, int] | None = None
    rows: list[bytes] = []
    compressed = False
    for instruction in chunker(data):
        if instruction.startswith(b"\x1bi\x7a"):  # ESC i z: print information
            payload = instruction[3:]
            media_type, width, length = payload[1], payload[2], payload[3]
            lines = struct.unpack("<L", payload[4:8])[0]
            header = (media_type, width, length, lines)
        elif instruction.startswith(b"M"):  # compression mode
            compressed = instruction[1] == 0x02
        elif instruction.startswith(b"g"):  # a raster line
            rows.append(_unpack(instruction[3:]) if compressed else instruction[3:])
        elif instruction.startswith(b"Z"):  # a blank raster line
            rows.append(b"")
        elif instruction in (b"\x0c", b"\x1a"):  # end of a page (more follow / the last)
            assert header is not None
            pages.append(QlPage(*header, rows=rows))
            header, rows = None, []
    return pages


def _unpack(packed: bytes) -> bytes:
    """TIFF PackBits, as brother_ql's reader decodes a compressed raster line."""
    out = bytearray()
    index = 0
    while index < len(packed):
        count = packed[index]
        if count & 0x80:
            out += bytes([packed[index + 1]]) * (257 - count)
            index += 2
        else:
            out += packed[index + 1 : index + 2 + count]
            index += 2 + count
    return bytes(out)


def ql_page_image(page: QlPage):  # -> PIL.Image.Image
    """A page as the printer prints it: a set bit is a black dot; the raster runs from the
    printer's right edge, so the image is mirrored back."""
    from PIL import Image, ImageOps

    width = max(len(row) for row in page.rows)
    lines = b"".join(row.ljust(width, b"\x00") for row in page.rows)
    image = Image.frombytes("1", (width * 8, len(page.rows)), bytes(255 - b for b in lines))
    return ImageOps.mirror(image.convert("L"))
