"""Reading DataMatrix symbols back with libdmtx (Debian's libdmtx0b, through pylibdmtx).

pylibdmtx's ``decode`` leaves libdmtx's FNC1 property unset, and libdmtx then drops
every FNC1 codeword: the GS separators between variable-length elements vanish and a
GS1 string reads back run together (``...10LOT21SERIAL`` parses as one lot). ``read``
sets ``DmtxPropFnc1`` to GS (29), as a GS1 scanner does: libdmtx then reports each FNC1
as a GS, the leading one too, so a GS1 DataMatrix reads ``\\x1d01...`` (libdmtx gives no
``]d2`` symbology identifier; a leading GS is how it says "GS1"), and a plain one reads
its text with no GS.
"""

from __future__ import annotations

from ctypes import cast

import pytest

try:
    from pylibdmtx import pylibdmtx as _dmtx
    from pylibdmtx.wrapper import DmtxProperty, DmtxUndefined, dmtxDecodeSetProp
except ImportError as error:  # libdmtx0b missing: .ci/run installs it
    pytest.skip(f"libdmtx is not installed ({error})", allow_module_level=True)

GS = "\x1d"


def read(image, shrink: int = 1) -> list[str]:
    """Every DataMatrix in a Pillow image, as the text a GS1 scanner would type. With
    ``shrink`` n libdmtx looks at every n-th pixel only: a page printed at 300 dpi reads
    the same in an n-th of the time per n²-th of the pixels when its modules stay several
    pixels wide."""
    pixels, width, height, bpp = _dmtx._pixel_data(image)
    found = []
    pointer = cast(pixels, _dmtx.c_ubyte_p)
    with (
        _dmtx._image(pointer, width, height, _dmtx._PACK_ORDER[bpp]) as img,
        _dmtx._decoder(img, shrink) as decoder,
    ):
        dmtxDecodeSetProp(decoder, DmtxProperty.DmtxPropFnc1, 29)
        while True:
            with _dmtx._region(decoder, None) as region:
                if not region:
                    break
                result = _dmtx._decode_region(decoder, region, DmtxUndefined, 1)
                if result:
                    found.append(result.data.decode("ascii"))
    return found


def read_plain(image) -> list[str]:
    """What pylibdmtx's own ``decode`` reports: FNC1 dropped."""
    return [result.data.decode("ascii") for result in _dmtx.decode(image)]
