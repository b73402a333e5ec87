"""Figures reviewed as pictures: before/after images of every figure whose render changed.

`figures diff` tells a reviewer which values and verdicts moved; this shows what the
reader will see move. For each figure whose rendered entry differs between a git
revision and the working tree, and whose two entries are both in the cache, it writes
one PNG: the figure before, after, and the after image faded with every changed pixel
marked in red, from the cached SVGs (rasterised by vl-convert, compared with Pillow).
A figure whose pixels are all equal (a caption edit) gets no image.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from symbiote_core.figures.engine.build import plan
from symbiote_core.figures.engine.cache import CorruptEntryError, read_figure_entry
from symbiote_core.figures.engine.diff import revision_keys
from symbiote_core.figures.engine.registry import Engine, FigureError

MARK = (220, 30, 30, 255)
"""The colour of a changed pixel."""


@dataclass(frozen=True)
class FigureImage:
    name: str
    path: Path
    changed: int
    """Pixels that differ (after padding both images to one size)."""
    total: int

    @property
    def share(self) -> float:
        return self.changed / self.total if self.total else 0.0


def figure_images(engine: Engine, revision: str, out_dir: Path) -> list[FigureImage]:
    """Write `<out_dir>/<figure>.png` for each figure whose picture changed since
    `revision`; returns them in name order."""
    try:
        from PIL import Image  # noqa: F401  (checked here: one clear message)
    except ImportError as error:
        raise FigureError("figure images need Pillow: pip install -e '.[test]'") from error
    before = revision_keys(engine, revision)
    out_dir.mkdir(parents=True, exist_ok=True)
    images = []
    for item in plan(engine):
        old_key = before.get(item.name)
        if old_key is None or old_key == item.key:
            continue
        old, new = _svg(engine, item.name, old_key), _svg(engine, item.name, item.key)
        if old is None or new is None:
            continue
        image = _compare(item.name, old, new, out_dir / f"{item.name}.png")
        if image is not None:
            images.append(image)
    return images


def _svg(engine: Engine, name: str, key: str) -> bytes | None:
    try:
        entry = read_figure_entry(engine, name, key)
    except CorruptEntryError:
        return None
    return None if entry is None else entry.payloads["figure.svg"]


def _compare(name: str, old_svg: bytes, new_svg: bytes, path: Path) -> FigureImage | None:
    import numpy as np
    import vl_convert
    from PIL import Image

    def raster(svg: bytes) -> Image.Image:
        png = vl_convert.svg_to_png(svg.decode("utf-8"), scale=1.0)
        return Image.open(io.BytesIO(png)).convert("RGBA")

    old, new = raster(old_svg), raster(new_svg)
    width, height = max(old.width, new.width), max(old.height, new.height)
    a, b = (_pad(image, width, height) for image in (old, new))
    pa, pb = np.asarray(a, dtype=np.int16), np.asarray(b, dtype=np.int16)
    changed = np.abs(pa - pb).max(axis=2) > 8  # ignore antialiasing noise
    count = int(changed.sum())
    if count == 0:
        return None
    faded = (np.asarray(b, dtype=np.float32) * 0.35 + 255 * 0.65).astype(np.uint8)
    faded[changed] = MARK
    gap = 12
    sheet = Image.new("RGBA", (3 * width + 2 * gap, height), (255, 255, 255, 255))
    for column, image in enumerate((a, b, Image.fromarray(faded, "RGBA"))):
        sheet.paste(image, (column * (width + gap), 0))
    sheet.save(path, format="PNG", optimize=True)
    return FigureImage(name, path, count, width * height)


def _pad(image: object, width: int, height: int) -> object:
    from PIL import Image

    canvas = Image.new("RGBA", (width, height), (255, 255, 255, 255))
    canvas.paste(image, (0, 0))
    return canvas


def images_markdown(images: list[FigureImage], link: str | None = None) -> str:
    """A Markdown section naming each changed picture (and where the images are)."""
    if not images:
        return "\n**Figure images:** no figure's picture changed.\n"
    where = f" ([before / after / changed pixels]({link}))" if link else ""
    lines = [f"\n**Figure images**{where}: {len(images)} figure(s) look different.\n"]
    lines += [
        f"- `{image.name}`: {image.changed} pixels changed ({image.share:.1%})"
        for image in images
    ]
    return "\n".join(lines) + "\n"
