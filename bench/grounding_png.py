"""The grounding chart: matplotlib when installed, else a tiny pure-Python PNG writer (zlib)
with a built-in 5×7 bitmap font, so the bench adds no dependency."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RGB = tuple[int, int, int]

# 5×7 glyphs: seven rows, each a 5-bit mask (bit 4 = leftmost pixel), as 14 hex digits.
_GLYPHS = {
    "A": "0E11111F111111", "B": "1E11111E11111E", "C": "0E11101010110E", "D": "1E11111111111E",
    "E": "1F10101E10101F", "F": "1F10101E101010", "G": "0E11101711110F", "H": "1111111F111111",
    "I": "0E04040404040E", "J": "0702020202120C", "K": "11121418141211", "L": "1010101010101F",
    "M": "111B1515111111", "N": "11111915131111", "O": "0E11111111110E", "P": "1E11111E101010",
    "Q": "0E11111115120D", "R": "1E11111E141211", "S": "0F10100E01011E", "T": "1F040404040404",
    "U": "1111111111110E", "V": "11111111110A04", "W": "1111111515150A", "X": "11110A040A1111",
    "Y": "11110A04040404", "Z": "1F01020408101F", "0": "0E11131519110E", "1": "040C040404040E",
    "2": "0E11010204081F", "3": "1F02040201110E", "4": "02060A121F0202", "5": "1F101E0101110E",
    "6": "0608101E11110E", "7": "1F010204080808", "8": "0E11110E11110E", "9": "0E11110F01020C",
    " ": "00000000000000", ".": "00000000000C0C", "-": "0000001F000000", "%": "18190204081303",
    "/": "01010204081010", ":": "000C0C000C0C00", "_": "0000000000001F", "(": "02040808080402",
    ")": "08040202020408", "?": "0E110102040004",
}


def png_bytes(width: int, height: int, pixels: bytes | bytearray) -> bytes:
    """Encode 8-bit RGB pixels (row-major, width*height*3 bytes) as a PNG file."""
    if len(pixels) != width * height * 3:
        raise ValueError("pixel buffer does not match the image size")

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    stride = width * 3
    raw = b"".join(b"\x00" + bytes(pixels[y * stride:(y + 1) * stride]) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (PNG_SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))


class Canvas:
    def __init__(self, width: int, height: int, background: RGB = (255, 255, 255)) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(bytes(background) * (width * height))

    def rect(self, x: int, y: int, w: int, h: int, color: RGB) -> None:
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(self.width, x + w), min(self.height, y + h)
        if x1 <= x0 or y1 <= y0:
            return
        row = bytes(color) * (x1 - x0)
        for yy in range(y0, y1):
            start = (yy * self.width + x0) * 3
            self.pixels[start:start + len(row)] = row

    def text(self, x: int, y: int, label: str, color: RGB = (0, 0, 0), scale: int = 1) -> None:
        for index, char in enumerate(label.upper()):
            glyph = _GLYPHS.get(char, _GLYPHS["?"])
            for row in range(7):
                mask = int(glyph[row * 2:row * 2 + 2], 16)
                for col in range(5):
                    if mask & (1 << (4 - col)):
                        self.rect(x + (index * 6 + col) * scale, y + row * scale, scale, scale,
                                  color)

    @staticmethod
    def text_width(label: str, scale: int = 1) -> int:
        return max(0, len(label) * 6 - 1) * scale

    def png(self) -> bytes:
        return png_bytes(self.width, self.height, self.pixels)


SERIES = (("NIM", (59, 111, 212)), ("INVENTED LENIENT", (240, 160, 40)),
          ("INVENTED STRICT", (210, 50, 50)), ("DEPRECATED WRITTEN", (130, 70, 170)))


def bar_chart(groups: Sequence[tuple[str, str, Sequence[float | None]]], title: str) -> bytes:
    """Grouped bars (values 0..1, None = unavailable) labelled by two lines under each group."""
    group_w, left, top, plot_h = 132, 56, 60, 260
    width = max(640, left + 20 + group_w * max(1, len(groups)))
    height = top + plot_h + 40
    canvas = Canvas(width, height)
    canvas.text(left, 12, title, scale=2)
    x = width - 20
    for name, color in reversed(SERIES):
        x -= canvas.text_width(name) + 18
        canvas.rect(x, 40, 10, 7, color)
        canvas.text(x + 13, 40, name)
    base = top + plot_h
    for tick in range(0, 101, 20):
        y = base - plot_h * tick // 100
        canvas.rect(left, y, width - left - 20, 1, (225, 225, 225) if tick else (0, 0, 0))
        label = f"{tick}%"
        canvas.text(left - 6 - canvas.text_width(label), y - 3, label)
    canvas.rect(left, top, 1, plot_h, (0, 0, 0))
    bar_w = (group_w - 20) // len(SERIES)
    for number, (line1, line2, values) in enumerate(groups):
        gx = left + 12 + number * group_w
        if all(value is None for value in values):
            canvas.text(gx + 30, base - 20, "N/A", (120, 120, 120), scale=2)
        for index, value in enumerate(values):
            if value is not None:
                h = max(1, round(plot_h * min(1.0, max(0.0, value))))
                canvas.rect(gx + index * bar_w, base - h, bar_w - 3, h, SERIES[index][1])
        for row, label in enumerate((line1, line2)):
            canvas.text(gx, base + 8 + row * 12, label)
    return canvas.png()


def write_chart(path: Path, groups: Sequence[tuple[str, str, Sequence[float | None]]],
                title: str) -> str:
    """Write the chart; returns which writer was used ("matplotlib" or "png")."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        path.write_bytes(bar_chart(groups, title))
        return "png"
    figure, axes = plt.subplots(figsize=(max(6.4, 1.4 * len(groups)), 4))
    width = 0.8 / len(SERIES)
    for index, (name, color) in enumerate(SERIES):
        xs = [n + index * width for n in range(len(groups))]
        ys = [(values[index] or 0.0) * 100 for _, _, values in groups]
        axes.bar(xs, ys, width, label=name.lower(), color=[c / 255 for c in color])
    axes.set_xticks([n + width for n in range(len(groups))],
                    [f"{a}\n{b}" for a, b, _ in groups])
    axes.set_ylim(0, 100)
    axes.set_ylabel("%")
    axes.set_title(title)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return "matplotlib"
