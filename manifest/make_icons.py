"""Regenerate the Teams app icons: ``python -m manifest.make_icons``.

The emblem is three linked nodes: the agencies that meet around one shared
case. The outline icon is the same glyph so the two read as one app. Both
are drawn at 4x and downscaled, because Pillow's primitives are aliased.
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageColor, ImageDraw

SCALE = 4
# The background is the demo branding's accent colour (branding.toml, icons.accent_color), so
# Teams' tile matches it; a test checks the two agree.
DEMO_ACCENT = "#14304A"
NAVY = ImageColor.getrgb(DEMO_ACCENT)
TEAL = (38, 166, 154)
WHITE = (255, 255, 255)

HERE = Path(__file__).resolve().parent
COLOR_SIZE = 192
OUTLINE_SIZE = 32


def _node_centres(cx: float, cy: float, radius: float) -> list[tuple[float, float]]:
    """Three points on a circle, the first at the top, 120 degrees apart."""
    return [
        (
            cx + radius * math.cos(math.radians(-90 + 120 * i)),
            cy + radius * math.sin(math.radians(-90 + 120 * i)),
        )
        for i in range(3)
    ]


def _disc(
    draw: ImageDraw.ImageDraw, x: float, y: float, r: float, fill: int | tuple[int, ...]
) -> None:
    draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)


def _links(
    draw: ImageDraw.ImageDraw,
    nodes: list[tuple[float, float]],
    width: float,
    fill: int | tuple[int, ...],
) -> None:
    for i, start in enumerate(nodes):
        end = nodes[(i + 1) % len(nodes)]
        draw.line((start, end), fill=fill, width=round(width))


def draw_color(size: int = COLOR_SIZE) -> Image.Image:
    """Full-colour, opaque icon: white emblem on a teal disc over navy."""
    big = size * SCALE
    c = big / 2
    image = Image.new("RGB", (big, big), NAVY)
    draw = ImageDraw.Draw(image)
    _disc(draw, c, c, big * 0.40, TEAL)

    nodes = _node_centres(c, c + big * 0.025, big * 0.235)
    _links(draw, nodes, big * 0.045, WHITE)
    for x, y in nodes:
        _disc(draw, x, y, big * 0.085, WHITE)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def draw_outline(size: int = OUTLINE_SIZE) -> Image.Image:
    """White-on-transparent outline icon, as Teams requires for the app bar."""
    big = size * SCALE
    c = big / 2
    # Draw coverage only, then use it as alpha over pure white, so every
    # pixel stays exactly white however the edges are antialiased.
    mask = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(mask)

    nodes = _node_centres(c, c + big * 0.06, big * 0.36)
    _links(draw, nodes, big * 0.08, 255)
    for x, y in nodes:
        _disc(draw, x, y, big * 0.13, 255)

    alpha = mask.resize((size, size), Image.Resampling.LANCZOS)
    image = Image.new("RGBA", (size, size), (*WHITE, 0))
    image.putalpha(alpha)
    return image


def main() -> None:
    """Write color.png and outline.png next to this file."""
    draw_color().save(HERE / "color.png", optimize=True)
    draw_outline().save(HERE / "outline.png", optimize=True)


if __name__ == "__main__":
    main()
