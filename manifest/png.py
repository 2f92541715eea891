"""Read a PNG's size and pixels with the standard library alone.

The app package is built on the server the bot is installed on, where Pillow (a development
tool here, for drawing the demo icons) is not installed; the icon checks Teams needs (size,
transparency, a white outline) only need the pixels, so this reads them: every colour type
and bit depth the PNG specification allows, not interlaced. Chunk checksums are checked, and
nothing is decompressed beyond what the header's size calls for.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Iterator

SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
# Icons are small; anything larger is refused before its pixels are decompressed.
MAX_SIDE: Final = 1024

# Colour type → samples a pixel, and the bit depths the specification allows for it.
_CHANNELS: Final = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_DEPTHS: Final = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}


class PngError(ValueError):
    """The bytes are not a PNG this reader can use; the message says why, in a few words."""


@dataclass(frozen=True)
class Png:
    """A decoded PNG: its size and its pixels as 8-bit RGBA, row by row."""

    width: int
    height: int
    # Whether the image can be transparent at all: an alpha channel or a tRNS chunk.
    has_alpha: bool
    rgba: bytes

    def pixel(self, x: int, y: int) -> tuple[int, int, int, int]:
        """The (red, green, blue, alpha) of the pixel at column x, row y."""
        at = (y * self.width + x) * 4
        r, g, b, a = self.rgba[at : at + 4]
        return r, g, b, a


@dataclass(frozen=True)
class _Header:
    width: int
    height: int
    depth: int
    colour: int
    interlaced: bool


def png_size(data: bytes) -> tuple[int, int]:
    """The (width, height) the PNG's header declares; PngError when it is not a PNG."""
    header = _header(data)
    return header.width, header.height


def read_png(data: bytes) -> Png:
    """Decode a PNG; PngError when it is not one, is damaged, interlaced or too large."""
    header = _header(data)
    if header.interlaced:
        raise PngError("is interlaced: save it again without interlacing")
    if header.width > MAX_SIDE or header.height > MAX_SIDE:
        raise PngError(f"is {header.width}×{header.height} pixels, too large for an icon")
    palette = b""
    transparency: bytes | None = None
    compressed = bytearray()
    for kind, body in _chunks(data):
        if kind == b"PLTE":
            palette = body
        elif kind == b"tRNS":
            transparency = body
        elif kind == b"IDAT":
            compressed += body
    if header.colour == 3 and (not palette or len(palette) % 3):
        raise PngError("has no usable palette")
    rows = _inflate(bytes(compressed), header)
    samples = _unfilter(rows, header)
    rgba = _to_rgba(samples, header, palette, transparency)
    has_alpha = header.colour in (4, 6) or transparency is not None
    return Png(header.width, header.height, has_alpha, rgba)


def _header(data: bytes) -> _Header:
    if not data.startswith(SIGNATURE):
        raise PngError("is not a PNG file")
    first = next(_chunks(data), None)
    if first is None or first[0] != b"IHDR" or len(first[1]) != 13:
        raise PngError("has no PNG header")
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(
        ">IIBBBBB", first[1]
    )
    if not width or not height:
        raise PngError("has no pixels")
    if depth not in _DEPTHS.get(colour, ()) or compression or filtering or interlace > 1:
        raise PngError("has a header no PNG reader accepts")
    return _Header(width, height, depth, colour, interlaced=interlace == 1)


def _chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    at = len(SIGNATURE)
    while True:
        if at + 8 > len(data):
            raise PngError("is cut short")
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind = data[at + 4 : at + 8]
        end = at + 8 + length
        if end + 4 > len(data):
            raise PngError("is cut short")
        body = data[at + 8 : end]
        (crc,) = struct.unpack(">I", data[end : end + 4])
        if zlib.crc32(kind + body) != crc:
            raise PngError("is damaged (a chunk's checksum is wrong)")
        if kind == b"IEND":
            return
        yield kind, body
        at = end + 4


def _stride(header: _Header) -> int:
    """Bytes in one row of pixels, without its filter byte."""
    return (header.width * _CHANNELS[header.colour] * header.depth + 7) // 8


def _inflate(compressed: bytes, header: _Header) -> bytes:
    expected = header.height * (1 + _stride(header))
    inflater = zlib.decompressobj()
    try:
        rows = inflater.decompress(compressed, expected)
    except zlib.error:
        raise PngError("is damaged (its pixel data does not decompress)") from None
    if len(rows) != expected:
        raise PngError("is damaged (its pixel data is shorter than its size)")
    return rows


def _unfilter(rows: bytes, header: _Header) -> bytes:
    """The rows without their filters (PNG specification, section 9)."""
    stride = _stride(header)
    step = max(1, _CHANNELS[header.colour] * header.depth // 8)
    out = bytearray(header.height * stride)
    previous = bytearray(stride)
    for y in range(header.height):
        start = y * (stride + 1)
        kind = rows[start]
        line = bytearray(rows[start + 1 : start + 1 + stride])
        if kind == 1:
            for i in range(step, stride):
                line[i] = (line[i] + line[i - step]) & 0xFF
        elif kind == 2:
            for i in range(stride):
                line[i] = (line[i] + previous[i]) & 0xFF
        elif kind == 3:
            for i in range(stride):
                left = line[i - step] if i >= step else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                left = line[i - step] if i >= step else 0
                corner = previous[i - step] if i >= step else 0
                line[i] = (line[i] + _paeth(left, previous[i], corner)) & 0xFF
        elif kind != 0:
            raise PngError("is damaged (a row has an unknown filter)")
        out[y * stride : (y + 1) * stride] = line
        previous = line
    return bytes(out)


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _samples(samples: bytes, header: _Header, y: int) -> list[int]:
    """One row's samples at their full bit depth."""
    stride = _stride(header)
    row = samples[y * stride : (y + 1) * stride]
    count = header.width * _CHANNELS[header.colour]
    if header.depth == 8:
        return list(row[:count])
    if header.depth == 16:
        return [row[i] << 8 | row[i + 1] for i in range(0, count * 2, 2)]
    per_byte = 8 // header.depth
    mask = (1 << header.depth) - 1
    return [
        (row[i // per_byte] >> (8 - header.depth * (i % per_byte + 1))) & mask for i in range(count)
    ]


def _to_rgba(samples: bytes, header: _Header, palette: bytes, trns: bytes | None) -> bytes:
    top = (1 << header.depth) - 1

    def eight(value: int) -> int:
        return value * 255 // top

    key: tuple[int, ...] | None = None
    if trns is not None and header.colour == 0 and len(trns) >= 2:
        key = struct.unpack(">H", trns[:2])
    elif trns is not None and header.colour == 2 and len(trns) >= 6:
        key = struct.unpack(">HHH", trns[:6])
    out = bytearray()
    channels = _CHANNELS[header.colour]
    for y in range(header.height):
        row = _samples(samples, header, y)
        for x in range(header.width):
            px = tuple(row[x * channels : (x + 1) * channels])
            if header.colour == 3:
                index = px[0]
                if index * 3 + 3 > len(palette):
                    raise PngError("is damaged (a pixel points past its palette)")
                alpha = trns[index] if trns is not None and index < len(trns) else 255
                out += palette[index * 3 : index * 3 + 3] + bytes((alpha,))
            elif header.colour in (0, 4):
                grey = eight(px[0])
                alpha = eight(px[1]) if header.colour == 4 else (0 if px == key else 255)
                out += bytes((grey, grey, grey, alpha))
            else:
                alpha = eight(px[3]) if header.colour == 6 else (0 if px == key else 255)
                out += bytes((eight(px[0]), eight(px[1]), eight(px[2]), alpha))
    return bytes(out)
