"""Synthetic image data sets made on the fly: geometric shapes, font-rendered digits and letters.

The generators are offline, fast and deterministic given `seed`, and return images in the
Keras "channels_last" layout: `x` is float32 `(n, size, size, 1)` in [0, 1] and `y` is int64
`(n,)` with balanced classes.
"""

import functools
import os

import numpy as np

from course import arguments

SHAPE_NAMES = ("square", "circle", "triangle", "cross")

# Fonts shipped inside matplotlib (mpl-data/fonts/ttf); system fonts are never used.
DIGIT_FONTS = (
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSans-Oblique.ttf",
    "DejaVuSans-BoldOblique.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSerif-Bold.ttf",
    "DejaVuSerif-Italic.ttf",
    "DejaVuSansMono.ttf",
    "DejaVuSansMono-Bold.ttf",
    "STIXGeneral.ttf",
    "STIXGeneralBol.ttf",
    "STIXGeneralItalic.ttf",
    "cmr10.ttf",
    "cmss10.ttf",
)

# Fonts shipped inside matplotlib that `digits` does not use by default: glyphs in them are
# new to a network trained on the default digits (typewriter, italic and bold faces).
EXTRA_FONTS = (
    "cmtt10.ttf",
    "cmti10.ttf",
    "cmb10.ttf",
    "STIXGeneralBolIta.ttf",
    "DejaVuSerif-BoldItalic.ttf",
    "DejaVuSansMono-Oblique.ttf",
)
DIGITS = "0123456789"
# Capital letters that look the same in a left-right mirror.
SYMMETRIC_LETTERS = "AHMOTUVWXY"

# How far (in pixels) a shape's anti-aliased pixels reach beyond its half-extent.
_SHAPE_REACH = {"square": 0.5, "circle": 0.5, "triangle": 1.12, "cross": 0.5}


def shapes(
    n,
    size=28,
    kinds=SHAPE_NAMES,
    offset=(0, 0),
    jitter=2,
    scale=(0.25, 0.4),
    noise=0.05,
    seed=0,
    filled=None,
):
    """Images of simple shapes (square, circle, triangle, cross) at controlled positions.

    Each image holds one white shape on a black background. The class of an image is the index
    of its shape in `kinds`; classes are balanced (round-robin, then shuffled).

    The shape's bounding box (side `scale[0] * size` to `scale[1] * size` pixels, drawn
    uniformly) is centred at the image centre + `offset` + a random integer jitter drawn
    uniformly from `[-jitter, jitter]` per axis. Shapes are never cut off and never touch the
    outermost row or column: if a shape would reach the border, its centre is moved inward
    just enough to keep it inside (its size is kept, so shifted and centred data sets have the
    same shape sizes); a shape larger than the image is shrunk to fit. With the default
    `scale`, offsets up to about `size // 4` per axis are honoured to within `max(jitter, 1)`
    pixels, e.g. `offset=(0, 8)` for `size=28` puts every centre 6 to 10 pixels right of the
    image centre (the largest shapes stop 6.8 to 7.4 pixels right of it).

    Args:
        n: number of images.
        size: height and width of the images, in pixels.
        kinds: shape names to use, a subset of `SHAPE_NAMES`; `y` indexes into this tuple.
        offset: `(dy, dx)` integer shift of the shapes' centre from the image centre, in
            pixels (positive = down, right).
        jitter: maximum random integer shift per axis added to `offset`, in pixels.
        scale: `(lo, hi)` range of the shape size as a fraction of `size`.
        noise: standard deviation of the Gaussian pixel noise (added, then clipped to [0, 1]).
        seed: seed of the random generator; the same arguments give the same images.
        filled: `True` for filled shapes, `False` for outlines, `None` (default) for a
            random half-and-half mix.

    Returns:
        `(x, y)`: `x` float32 `(n, size, size, 1)` in [0, 1], `y` int64 `(n,)` in
        `[0, len(kinds))`.
    """
    n = arguments.integer("n", n)
    size = arguments.integer("size", size, minimum=8)
    kinds = _shape_kinds(kinds)
    dy0, dx0 = arguments.int_pair("offset", offset)
    jitter = arguments.integer("jitter", jitter, minimum=0)
    lo, hi = arguments.number_range("scale", scale, low=0.05, high=1.0)
    noise = arguments.non_negative_number("noise", noise)
    if filled not in (None, True, False):
        raise ValueError(
            f"Expected `filled` to be True, False or None. Received: filled={filled!r}"
        )

    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(n) % len(kinds))
    half = rng.uniform(lo, hi, n) * size / 2  # half of the bounding-box side
    shift = rng.integers(-jitter, jitter + 1, size=(n, 2))
    is_filled = rng.random(n) < 0.5 if filled is None else np.full(n, filled)

    # Pixels lit by a shape lie closer than `half + reach` to its centre; the extra 1e-3 keeps
    # float rounding from lighting the outermost rows and columns.
    margin = np.array([_SHAPE_REACH[k] for k in kinds])[y] + 1e-3
    half = np.minimum(half, (size - 1) / 2 - margin)  # shrink only if larger than the image
    centre = (size - 1) / 2 + np.array([dy0, dx0]) + shift
    low_c = (half + margin)[:, None]  # keeps rows/columns 0 and size - 1 empty
    centre = np.clip(centre, low_c, size - 1 - low_c)

    grid = np.arange(size, dtype=np.float32)
    dy = grid[None, :, None] - centre[:, 0, None, None].astype(np.float32)
    dx = grid[None, None, :] - centre[:, 1, None, None].astype(np.float32)
    x = np.empty((n, size, size), dtype=np.float32)
    thickness = np.maximum(1.5, 2 * half / 5)
    for k, kind in enumerate(kinds):
        idx = np.flatnonzero(y == k)
        if idx.size == 0:
            continue
        h = half[idx, None, None].astype(np.float32)
        dist = _signed_distance(kind, dy[idx], dx[idx], h)
        img = np.clip(0.5 - dist, 0, 1)
        t = thickness[idx, None, None].astype(np.float32)
        outline = np.clip(dist + t + 0.5, 0, 1)
        img = np.where(is_filled[idx, None, None], img, img * outline)
        x[idx] = img
    if noise > 0:
        x += noise * rng.standard_normal(x.shape, dtype=np.float32)
        np.clip(x, 0.0, 1.0, out=x)
    return x[..., None], y.astype(np.int64)


def _shape_kinds(kinds):
    if isinstance(kinds, str):
        kinds = (kinds,)
    kinds = tuple(kinds)
    unknown = [k for k in kinds if k not in SHAPE_NAMES]
    if not kinds or unknown or len(set(kinds)) != len(kinds):
        raise ValueError(
            f"Expected `kinds` to be distinct names from {SHAPE_NAMES}. Received: kinds={kinds!r}"
        )
    return kinds


def _signed_distance(kind, dy, dx, h):
    """Approximate signed distance (pixels, negative inside) to a shape of half-extent `h`."""
    ay, ax = np.abs(dy), np.abs(dx)
    if kind == "square":
        return np.maximum(ay, ax) - h
    if kind == "circle":
        return np.sqrt(dy * dy + dx * dx) - h
    if kind == "triangle":  # apex at the top, base at the bottom of the bounding box
        side = (ax - (dy + h) / 2) / np.float32(np.sqrt(1.25))
        return np.maximum(dy - h, side)
    if kind == "cross":  # a plus sign whose arms are 2/3 of h wide
        w = np.maximum(h / 3, 0.75)
        vertical = np.maximum(ax - w, ay - h)
        horizontal = np.maximum(ay - w, ax - h)
        return np.minimum(vertical, horizontal)
    raise ValueError(f"Unknown shape kind. Received: kind={kind!r}")


def digits(
    n,
    size=28,
    seed=0,
    max_rotation=15.0,
    max_shift=3.0,
    scale=(0.8, 1.1),
    shear=0.15,
    noise=0.1,
    fonts=None,
):
    """MNIST-like digit images rendered from fonts that ship with matplotlib.

    Each (font, digit) glyph is rendered once with FreeType, scaled so its larger side is
    20/28 of the image (like MNIST's 20x20 box in 28x28) and centred by its centre of mass, then
    cached. Every image gets its own random affine jitter (rotation, scale, shear, shift) and
    Gaussian noise. Digits are white on black; parts that the jitter pushes outside the image
    are cut off, as in MNIST.

    Args:
        n: number of images.
        size: height and width of the images, in pixels.
        seed: seed of the random generator; the same arguments give the same images.
        max_rotation: maximum rotation in degrees (uniform in `[-max_rotation, max_rotation]`).
        max_shift: maximum shift per axis in pixels (uniform, sub-pixel).
        scale: `(lo, hi)` range of the uniform random zoom factor.
        shear: maximum horizontal shear (uniform in `[-shear, shear]`; 0.15 slants ~9 degrees).
        noise: standard deviation of the Gaussian pixel noise (added, then clipped to [0, 1]).
        fonts: font file names from `DIGIT_FONTS` (matplotlib's bundled fonts) to draw from
            uniformly; `None` uses all of them.

    Returns:
        `(x, y)`: `x` float32 `(n, size, size, 1)` in [0, 1], `y` int64 `(n,)` in [0, 9],
        balanced (round-robin, then shuffled).
    """
    return _glyph_images(n, DIGITS, size, seed, max_rotation, max_shift, scale, shear, noise, fonts)


def letters(
    n,
    characters=SYMMETRIC_LETTERS,
    size=28,
    seed=0,
    max_rotation=15.0,
    max_shift=3.0,
    scale=(0.8, 1.1),
    shear=0.15,
    noise=0.1,
    fonts=None,
):
    """Images of capital letters rendered from matplotlib's fonts, jittered like `digits`.

    The same renderer as `digits`: each (font, letter) glyph is drawn once, scaled to 20/28 of
    the image and centred by its centre of mass; every image gets its own random rotation,
    zoom, shear, shift and Gaussian noise. The default letters, `SYMMETRIC_LETTERS`, look the
    same in a mirror (A H M O T U V W X Y), so a left-right flip keeps their label.

    Args:
        n: number of images.
        characters: the classes, a string of distinct letters (or other characters the fonts
            have); `y` indexes into it.
        size, seed, max_rotation, max_shift, scale, shear, noise: as in `digits`.
        fonts: font file names shipped with matplotlib (`DIGIT_FONTS`, `EXTRA_FONTS`, ...);
            `None` uses `DIGIT_FONTS`.

    Returns:
        `(x, y)`: `x` float32 `(n, size, size, 1)` in [0, 1], `y` int64 `(n,)` in
        `[0, len(characters))`, balanced (round-robin, then shuffled).
    """
    if (
        not isinstance(characters, str)
        or not characters
        or len(set(characters)) != len(characters)
        or any(c.isspace() for c in characters)
    ):
        raise ValueError(
            "Expected `characters` to be a string of distinct visible characters, such as "
            f"{SYMMETRIC_LETTERS!r}. Received: characters={characters!r}"
        )
    return _glyph_images(
        n, characters, size, seed, max_rotation, max_shift, scale, shear, noise, fonts
    )


def _glyph_images(n, characters, size, seed, max_rotation, max_shift, scale, shear, noise, fonts):
    """Jittered, noisy renderings of `characters` (one class each), as `digits` describes."""
    from scipy import ndimage

    n = arguments.integer("n", n)
    size = arguments.integer("size", size, minimum=8)
    max_rotation = arguments.non_negative_number("max_rotation", max_rotation)
    max_shift = arguments.non_negative_number("max_shift", max_shift)
    lo, hi = arguments.number_range("scale", scale, low=0.1, high=3.0)
    shear = arguments.non_negative_number("shear", shear)
    noise = arguments.non_negative_number("noise", noise)
    fonts = _digit_fonts(fonts)

    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(n) % len(characters))
    font_index = rng.integers(len(fonts), size=n)
    angle = np.deg2rad(rng.uniform(-max_rotation, max_rotation, n))
    zoom = rng.uniform(lo, hi, n)
    slant = rng.uniform(-shear, shear, n)
    shift = rng.uniform(-max_shift, max_shift, (n, 2))

    templates = [_glyph_templates(font, size, characters) for font in fonts]
    factor = templates[0].shape[-1] / size  # template pixels per output pixel
    centre_out = np.full(2, (size - 1) / 2)
    centre_template = np.full(2, (templates[0].shape[-1] - 1) / 2)
    x = np.empty((n, size, size), dtype=np.float32)
    for i in range(n):
        cos, sin = np.cos(angle[i]), np.sin(angle[i])
        rotation = np.array([[cos, -sin], [sin, cos]])
        shearing = np.array([[1.0, 0.0], [slant[i], 1.0]])  # (row, col): col += slant * row
        forward = zoom[i] * rotation @ shearing  # glyph -> output, both in output pixels
        matrix = factor * np.linalg.inv(forward)  # output -> template
        offset = centre_template - matrix @ (centre_out + shift[i])
        ndimage.affine_transform(
            templates[font_index[i]][y[i]],
            matrix,
            offset=offset,
            output_shape=(size, size),
            output=x[i],
            order=1,
            mode="constant",
            cval=0.0,
        )
    if noise > 0:
        x += noise * rng.standard_normal(x.shape, dtype=np.float32)
    np.clip(x, 0.0, 1.0, out=x)
    return x[..., None], y.astype(np.int64)


def _font_dir():
    import matplotlib

    return os.path.join(matplotlib.get_data_path(), "fonts", "ttf")


def _digit_fonts(fonts):
    if fonts is None:
        fonts = DIGIT_FONTS
    elif isinstance(fonts, str):
        fonts = (fonts,)
    fonts = tuple(fonts)
    available = set(os.listdir(_font_dir()))
    bad = [f for f in fonts if not isinstance(f, str) or f not in available]
    if not fonts or bad:
        raise ValueError(
            "Expected `fonts` to be None or font file names shipped with matplotlib, such as "
            f"{DIGIT_FONTS}. Received: fonts={fonts!r}"
        )
    return fonts


@functools.lru_cache(maxsize=64)
def _glyph_templates(font, size, characters=DIGITS):
    """The glyphs of `characters` in one font: float32 (len(characters), 2 * size, 2 * size) in
    [0, 1], read-only."""
    from matplotlib.ft2font import FT2Font
    from scipy import ndimage

    factor = 2  # render at twice the output resolution, then sample down
    side = factor * size
    box = factor * size * 20 / 28
    face = FT2Font(os.path.join(_font_dir(), font))
    out = np.zeros((len(characters), side, side), dtype=np.float32)
    for index, character in enumerate(characters):
        probe = _render(face, character, 64.0)
        pixels = 64.0 * box / max(probe.shape)
        glyph = _render(face, character, pixels)
        glyph = glyph[: side - 2, : side - 2]  # never larger than the template
        canvas = np.zeros((side, side), dtype=np.float32)
        gh, gw = glyph.shape
        top, left = (side - gh) // 2, (side - gw) // 2
        canvas[top : top + gh, left : left + gw] = glyph
        # Move the centre of mass to the template centre (as MNIST does), then anti-alias.
        com = np.array(ndimage.center_of_mass(canvas))
        canvas = ndimage.shift(canvas, (side - 1) / 2 - com, order=1, mode="constant")
        canvas = ndimage.gaussian_filter(canvas, sigma=factor / 2)
        out[index] = canvas / max(canvas.max(), 1e-6)
    out.setflags(write=False)
    return out


def _render(face, text, pixels):
    """Anti-aliased coverage of `text` at `pixels` px/em, cropped to its ink: float32 in [0, 1]."""
    face.set_size(pixels, 72)  # 72 dpi: points == pixels
    face.set_text(text)
    face.draw_glyphs_to_bitmap(antialiased=True)
    image = np.asarray(face.get_image(), dtype=np.float32) / 255.0
    rows = np.flatnonzero(image.max(axis=1) > 0)
    cols = np.flatnonzero(image.max(axis=0) > 0)
    if rows.size == 0:
        raise ValueError(
            f"The font {os.path.basename(face.fname)} draws nothing for {text!r}; "
            "choose other characters or another font."
        )
    return image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
