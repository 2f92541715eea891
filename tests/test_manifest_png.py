"""The standard-library PNG reader the icon checks use (Pillow is not installed where the
package is built): it agrees with Pillow pixel for pixel on every colour type, bit depth and
row filter, and refuses damaged, interlaced and oversized files with a short reason."""

from __future__ import annotations

import io
import random
import struct
import zlib

import pytest
from PIL import Image

from manifest import icon_path
from manifest.png import MAX_SIDE, SIGNATURE, PngError, png_size, read_png


def pillow_png(image: Image.Image, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", **options)
    return out.getvalue()


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def encode(
    width: int,
    height: int,
    colour: int,
    depth: int,
    rows: list[bytes],
    *,
    filters: list[int] | None = None,
    extra: bytes = b"",
    interlace: int = 0,
) -> bytes:
    """A PNG of raw rows (already packed at `depth`), each written with the given filter
    (0 none, 1 sub, 2 up, 3 average, 4 Paeth), as the specification encodes them."""
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
    step = max(1, channels * depth // 8)
    previous = bytes(len(rows[0]))
    out = bytearray()
    for y, row in enumerate(rows):
        kind = (filters or [0])[y % len(filters or [0])]
        encoded = bytearray()
        for i, value in enumerate(row):
            left = row[i - step] if i >= step else 0
            up = previous[i]
            corner = previous[i - step] if i >= step else 0
            if kind == 1:
                predicted = left
            elif kind == 2:
                predicted = up
            elif kind == 3:
                predicted = (left + up) >> 1
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                predicted = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
            else:
                predicted = 0
            encoded.append((value - predicted) & 0xFF)
        out += bytes((kind,)) + encoded
        previous = row
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace)
    return (
        SIGNATURE
        + chunk(b"IHDR", header)
        + extra
        + chunk(b"IDAT", zlib.compress(bytes(out)))
        + chunk(b"IEND", b"")
    )


def noise(width: int, height: int, seed: int) -> Image.Image:
    rng = random.Random(seed)
    image = Image.new("RGBA", (width, height))
    image.putdata(
        [
            (rng.randrange(256), rng.randrange(256), rng.randrange(256), rng.choice((0, 90, 255)))
            for _ in range(width * height)
        ]
    )
    return image


@pytest.mark.parametrize("mode", ["RGBA", "RGB", "LA", "L", "P", "1"])
def test_pixels_match_pillow_for_each_mode_pillow_writes(mode: str) -> None:
    data = pillow_png(noise(37, 23, seed=len(mode)).convert(mode))
    decoded = read_png(data)
    with Image.open(io.BytesIO(data)) as image:
        expected = image.convert("RGBA").tobytes()
    assert (decoded.width, decoded.height) == (37, 23)
    assert decoded.rgba == expected


@pytest.mark.parametrize("bits", [1, 2, 4])
def test_small_palettes_are_unpacked_like_pillow(bits: int) -> None:
    image = noise(29, 11, seed=bits).convert("P", palette=Image.Palette.ADAPTIVE, colors=2**bits)
    data = pillow_png(image, bits=bits)
    with Image.open(io.BytesIO(data)) as opened:
        expected = opened.convert("RGBA").tobytes()
    assert read_png(data).rgba == expected


@pytest.mark.parametrize("kind", [0, 1, 2, 3, 4])
def test_every_row_filter_is_undone(kind: int) -> None:
    rng = random.Random(kind)
    width, height = 9, 6
    rows = [bytes(rng.randrange(256) for _ in range(width * 4)) for _ in range(height)]
    data = encode(width, height, 6, 8, rows, filters=[kind])
    assert read_png(data).rgba == b"".join(rows)


def test_mixed_filters_on_rgb_with_three_bytes_a_pixel() -> None:
    rng = random.Random(7)
    rows = [bytes(rng.randrange(256) for _ in range(5 * 3)) for _ in range(10)]
    decoded = read_png(encode(5, 10, 2, 8, rows, filters=[4, 3, 2, 1, 0]))
    expected = b"".join(
        bytes((*row[i : i + 3], 255)) for row in rows for i in range(0, len(row), 3)
    )
    assert decoded.rgba == expected
    assert decoded.has_alpha is False


def test_sixteen_bit_rgba_keeps_the_high_byte() -> None:
    row = struct.pack(">8H", 0xFFFF, 0x8000, 0x0000, 0xFFFF, 0x1234, 0xABCD, 0x00FF, 0x0000)
    decoded = read_png(encode(2, 1, 6, 16, [row], filters=[1]))
    assert decoded.pixel(0, 0) == (255, 127, 0, 255)
    assert decoded.pixel(1, 0) == (0x12, 0xAB, 0, 0)


def test_a_transparent_colour_key_makes_matching_pixels_transparent() -> None:
    rows = [bytes((255, 255, 255, 10, 20, 30))]
    trns = chunk(b"tRNS", struct.pack(">HHH", 10, 20, 30))
    decoded = read_png(encode(2, 1, 2, 8, rows, extra=trns))
    assert decoded.has_alpha
    assert decoded.pixel(0, 0) == (255, 255, 255, 255)
    assert decoded.pixel(1, 0) == (10, 20, 30, 0)

    grey_key = chunk(b"tRNS", struct.pack(">H", 0))
    grey = read_png(encode(4, 1, 0, 2, [bytes((0b00011011,))], extra=grey_key))
    assert [grey.pixel(x, 0) for x in range(4)] == [
        (0, 0, 0, 0),
        (85, 85, 85, 255),
        (170, 170, 170, 255),
        (255, 255, 255, 255),
    ]


def test_the_demo_icons_read_as_pillow_reads_them() -> None:
    for name, size, alpha in (("color.png", 192, False), ("outline.png", 32, True)):
        data = icon_path(name).read_bytes()
        decoded = read_png(data)
        with Image.open(io.BytesIO(data)) as image:
            expected = image.convert("RGBA").tobytes()
        assert png_size(data) == (size, size)
        assert (decoded.width, decoded.height, decoded.has_alpha) == (size, size, alpha)
        assert decoded.rgba == expected


def _with_bad_crc(data: bytes) -> bytes:
    at = data.index(b"IDAT") - 4
    (length,) = struct.unpack(">I", data[at : at + 4])
    crc_at = at + 8 + length
    return data[:crc_at] + bytes((data[crc_at] ^ 1,)) + data[crc_at + 1 :]


def _with_bad_pixels(width: int, height: int) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        SIGNATURE
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", b"this is not zlib data")
        + chunk(b"IEND", b"")
    )


GOOD = pillow_png(noise(8, 8, seed=1))

DAMAGED = {
    "not a png": (b"GIF89a" + bytes(40), "is not a PNG file"),
    "empty": (b"", "is not a PNG file"),
    "cut short": (GOOD[: len(GOOD) // 2], "is cut short"),
    "no end": (GOOD[: GOOD.index(b"IEND") - 4], "is cut short"),
    "bad checksum": (_with_bad_crc(GOOD), "checksum is wrong"),
    "pixels not zlib": (_with_bad_pixels(8, 8), "does not decompress"),
    "interlaced": (encode(2, 2, 6, 8, [bytes(8)] * 2, interlace=1), "is interlaced"),
    "bad depth": (
        SIGNATURE + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 3, 6, 0, 0, 0)),
        "has a header no PNG reader accepts",
    ),
    "palette missing": (
        SIGNATURE
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 3, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b""),
        "has no usable palette",
    ),
}


@pytest.mark.parametrize("case", list(DAMAGED))
def test_damaged_files_are_refused_with_a_short_reason(case: str) -> None:
    data, reason = DAMAGED[case]
    with pytest.raises(PngError, match=reason):
        read_png(data)


def test_a_short_pixel_stream_is_refused() -> None:
    header = struct.pack(">IIBBBBB", 4, 4, 8, 6, 0, 0, 0)
    short = (
        SIGNATURE
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(3 * 17)))  # three rows of four
        + chunk(b"IEND", b"")
    )
    with pytest.raises(PngError, match="shorter than its size"):
        read_png(short)


def test_an_oversized_image_is_refused_before_its_pixels_are_read() -> None:
    side = MAX_SIDE + 1
    header = struct.pack(">IIBBBBB", side, 1, 8, 6, 0, 0, 0)
    huge = SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", b"") + chunk(b"IEND", b"")
    assert png_size(huge) == (side, 1)
    with pytest.raises(PngError, match="too large for an icon"):
        read_png(huge)
