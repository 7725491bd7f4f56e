"""Build `cnn_edge/trainer/assets/font_digits.npz`: the digits 0-9 of handwriting fonts, as ink masks.

MNIST's writers (American census staff and students) rarely close the top of a 4, flag a 1 or
cross a 7; many other writers do, and a model trained on MNIST alone misreads them (see
benchmarks/results/augment.md). Handwriting fonts are other people's digits drawn as fonts; their
glyphs, varied in training, teach those shapes. This script renders them once, offline, so the
repository carries only the masks (a few hundred kB), never the font files.

Sources (all under licences that allow it; the list with licences is written beside the .npz):
- Debian's handwriting font packages (`apt-get install fonts-...`, see FONT_PACKAGES below);
- Google Fonts' handwriting families as packaged on npm by Fontsource (`npm pack @fontsource/NAME`,
  the `latin-400-normal` file or the first weight there is).

    python scripts/build_font_digits.py --npm-dir DIR_OF_TGZ [--debian] --out cnn_edge/trainer/assets

Each font gives ten 64x64 masks (ink 255 on 0, the glyph cropped to its ink, fitted into 56x56
keeping its aspect ratio, centred). A font is skipped when it lacks a digit (FreeType draws its
"missing glyph" box), draws two digits alike, or draws any digit as a filled box.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
import tarfile
from pathlib import Path

import numpy as np

SIZE = 64
FIT = 56
RENDER_PX = 160

# Debian packages whose fonts imitate handwriting (Latin digits): one file per writer (a family's
# bold and italic cuts are the same hand), and only licences that allow redistribution of
# derived data (fonts-dkg-handwriting is GPL-3+, fonts-sjfonts has its own terms: left out).
FONT_PACKAGES = {
    "fonts-breip": "/usr/share/fonts/truetype/breip/Breip.ttf",
    "fonts-rufscript": "/usr/share/fonts/truetype/rufscript/*.ttf",
    "fonts-humor-sans": "/usr/share/fonts/truetype/humor-sans/*.ttf",
    "fonts-comic-neue": "/usr/share/fonts/opentype/comic-neue/ComicNeue-Regular.otf",
    "fonts-bwht": "/usr/share/fonts/opentype/bwht/*.otf",
    "fonts-dancingscript": "/usr/share/fonts/opentype/dancingscript/*Regular*.otf",
    "fonts-kaushanscript": "/usr/share/fonts/opentype/kaushanscript/*.otf",
    "fonts-klee": "/usr/share/fonts/truetype/klee/*.ttf",
    "fonts-kristi": "/usr/share/fonts/truetype/kristi/*.ttf",
    "fonts-seto": "/usr/share/fonts/truetype/seto/*.ttf",
    "fonts-kiloji": "/usr/share/fonts/truetype/kiloji/kiloji.ttf",
}
# Licences (as the sources name them) whose fonts may be used here; any other font is skipped.
ALLOWED_LICENCES = {
    "OFL-1.0", "OFL-1.1", "SIL-1.1", "SIL-OFL-1.1", "SIL_Open_Font_License_1.1", "Apache-2.0",
    "BSD-3-Clause", "GPL-3+FontException",
}


def render_digits(font_bytes: bytes) -> list[np.ndarray] | None:
    """The ten digits of one font as 64x64 masks, or None when the font can't give all ten."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(io.BytesIO(font_bytes), RENDER_PX)

    def draw(text: str) -> np.ndarray:
        canvas = Image.new("L", (RENDER_PX * 3, RENDER_PX * 3), 0)
        ImageDraw.Draw(canvas).text((RENDER_PX, RENDER_PX // 2), text, fill=255, font=font)
        return np.asarray(canvas)

    missing = draw("\U0010fffd")  # a code point no font has: FreeType's "missing glyph" drawing
    raw = [draw(str(d)) for d in range(10)]
    if any(r.max() < 128 or np.array_equal(r, missing) for r in raw):
        return None
    masks = [_fit(r) for r in raw]
    for a in range(10):
        ink = masks[a] > 127
        fill = ink.sum() / max(1, (ink.any(0).sum() * ink.any(1).sum()))
        if fill > 0.75:  # a filled box, not a digit
            return None
        for b in range(a):
            if np.abs(masks[a].astype(int) - masks[b]).mean() < 2:
                return None
    return masks


def _fit(image: np.ndarray) -> np.ndarray:
    import cv2

    ys, xs = np.nonzero(image > 32)
    crop = image[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    h, w = crop.shape
    scale = FIT / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    small = cv2.resize(crop, (nw, nh), interpolation=cv2.INTER_AREA)
    out = np.zeros((SIZE, SIZE), np.uint8)
    y0, x0 = (SIZE - nh) // 2, (SIZE - nw) // 2
    out[y0 : y0 + nh, x0 : x0 + nw] = small
    return out


def npm_fonts(npm_dir: Path) -> list[tuple[str, bytes, dict]]:
    """(name, font bytes, licence info) of every Fontsource handwriting package in `npm_dir`."""
    found = []
    for tgz in sorted(npm_dir.glob("fontsource-*.tgz")):
        with tarfile.open(tgz) as tar:
            names = tar.getnames()
            meta = json.load(tar.extractfile("package/metadata.json"))  # type: ignore[arg-type]
            files = sorted(n for n in names if re.search(r"/files/.*-latin-\d+-normal\.woff$", n))
            preferred = [n for n in files if "-latin-400-normal" in n] or files
            if not preferred:
                continue
            data = tar.extractfile(preferred[0]).read()  # type: ignore[union-attr]
        lic = meta.get("license", {})
        if isinstance(lic, str):  # older packages: just the licence's name
            lic = {"type": lic}
        ident = meta.get("id") or re.sub(r"^fontsource-|-[\d.]+\.tgz$", "", tgz.name)
        info = {
            "source": f"npm @fontsource/{ident} {meta.get('version', '')}".strip(),
            "family": meta.get("family", ident),
            "category": meta.get("category", ""),
            "license": lic.get("type", ""),
            "attribution": lic.get("attribution", ""),
        }
        found.append((ident, data, info))
    return found


def debian_fonts() -> list[tuple[str, bytes, dict]]:
    """(name, font bytes, licence info) of the installed Debian handwriting fonts."""
    import glob

    found = []
    for package, pattern in FONT_PACKAGES.items():
        for path in sorted(glob.glob(pattern)):
            if re.search(r"(?i)(bold|italic|oblique|light)", Path(path).stem):
                continue
            copyright_file = Path("/usr/share/doc") / package / "copyright"
            lic = ""
            if copyright_file.exists():
                m = re.search(r"^License:\s*(\S+)", copyright_file.read_text(errors="replace"), re.M)
                lic = m.group(1) if m else ""
            info = {"source": f"debian {package}", "family": Path(path).stem, "category": "handwriting",
                    "license": lic, "attribution": f"see /usr/share/doc/{package}/copyright"}
            found.append((f"{package}:{Path(path).stem}", Path(path).read_bytes(), info))
    return found


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--npm-dir", type=Path, help="folder of `npm pack @fontsource/...` archives")
    ap.add_argument("--debian", action="store_true", help="also the installed Debian handwriting fonts")
    ap.add_argument("--out", type=Path, default=Path("cnn_edge/trainer/assets"))
    ap.add_argument("--categories", default="handwriting", help="Fontsource categories to keep (comma list)")
    args = ap.parse_args(argv)

    keep = set(args.categories.split(","))
    fonts = [f for f in (npm_fonts(args.npm_dir) if args.npm_dir else []) if f[2]["category"] in keep]
    if args.debian:
        fonts += debian_fonts()
    masks, labels, font_index, used, skipped = [], [], [], [], []
    for name, data, info in fonts:
        if info["license"] not in ALLOWED_LICENCES:
            skipped.append(f"{name}: licence {info['license']!r} not on the allowed list")
            continue
        try:
            digits = render_digits(data)
        except OSError as exc:  # a font FreeType can't read
            skipped.append(f"{name}: {exc}")
            continue
        if digits is None:
            skipped.append(f"{name}: lacks a digit or draws two alike")
            continue
        masks += digits
        labels += list(range(10))
        font_index += [len(used)] * 10
        used.append({"name": name, **info})
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / "font_digits.npz"
    tmp = out.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, masks=np.stack(masks), labels=np.array(labels, np.uint8),
                        font=np.array(font_index, np.int16), fonts=np.array([f["name"] for f in used]))
    tmp.replace(out)
    listing = args.out / "font_digits.json"
    listing.write_text(json.dumps({"fonts": used, "skipped": skipped}, indent=1) + "\n")
    size_kb = out.stat().st_size / 1e3
    print(f"{len(used)} fonts, {len(masks)} masks -> {out} ({size_kb:.0f} kB); skipped {len(skipped)}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
