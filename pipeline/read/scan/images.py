"""Decode a picture file's bytes into upright grey pages.

Pillow reads JPEG, PNG, TIFF (every page, including 1-bit fax G4), BMP and WEBP; pillow-heif
adds HEIC/HEIF (iPhone photos). A phone records how it was held in the EXIF orientation tag;
the page is turned to match, as any viewer shows it. A picture whose header declares more
pixels than a page needs is refused before it is decoded (a decompression bomb: a few KB
that expand to gigabytes).
"""

from __future__ import annotations

import io
import struct
import warnings

from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from pipeline.problems import ProblemCode
from pipeline.read.errors import UnreadableFile

# An A4 page at 600 dpi is 35 million pixels and a 48-megapixel phone photo 48 million: more
# than this is not a form.
MAX_PIXELS = 60_000_000
# Pages are decoded at no more than about this many pixels on the long side (JPEG's draft
# mode decodes at 1/2, 1/4 or 1/8 scale directly), which is above the reader's working scale.
DECODE_LONG_SIDE = 4000

_heif_registered = False


def _register_heif() -> None:
    global _heif_registered
    if not _heif_registered:
        import pillow_heif

        pillow_heif.register_heif_opener()
        _heif_registered = True


def _open(data: bytes) -> Image.Image:
    _register_heif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_large() from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise UnreadableFile(ProblemCode.CORRUPT_FILE, "The picture could not be opened: it is damaged.") from exc


def _too_large() -> UnreadableFile:
    return UnreadableFile(
        ProblemCode.TOO_LARGE,
        f"The picture is larger than any scanned page (over {MAX_PIXELS // 1_000_000} million pixels); "
        "please scan the form at 300 dpi and send it again.",
    )


def _grey_page(frame: Image.Image) -> Image.Image:
    if frame.width * frame.height > MAX_PIXELS:
        raise _too_large()
    if frame.format == "JPEG" and max(frame.size) > DECODE_LONG_SIDE:
        scale = DECODE_LONG_SIDE / max(frame.size)
        frame.draft("L", (int(frame.width * scale), int(frame.height * scale)))
    frame.load()
    upright = ImageOps.exif_transpose(frame)
    if upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info):
        # a transparent background is paper, not black
        white = Image.new("RGBA", upright.size, (255, 255, 255, 255))
        upright = Image.alpha_composite(white, upright.convert("RGBA"))
    grey = upright.convert("L")
    if max(grey.size) > DECODE_LONG_SIDE:
        grey.thumbnail((DECODE_LONG_SIDE, DECODE_LONG_SIDE), Image.Resampling.LANCZOS)
    return grey


def decode_pages(data: bytes, max_pages: int) -> list[Image.Image]:
    """Every page of the picture (a TIFF may hold several), upright and grey. Raises
    UnreadableFile: TOO_LARGE past `max_pages` pages or MAX_PIXELS, CORRUPT_FILE when damaged."""
    image = _open(data)
    try:
        frames = getattr(image, "n_frames", 1)
        if image.format in ("GIF", "WEBP", "PNG"):  # an animation's frames are not pages
            frames = 1
        if frames > max_pages:
            raise UnreadableFile(
                ProblemCode.TOO_LARGE,
                f"The picture holds {frames} pages; at most {max_pages} pages of a scan are read.",
            )
        pages = []
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            for frame in ImageSequence.Iterator(image):
                pages.append(_grey_page(frame))
                if len(pages) == frames:
                    break
        return pages
    except UnreadableFile:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_large() from exc
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, struct.error) as exc:
        raise UnreadableFile(ProblemCode.CORRUPT_FILE, "The picture is damaged: it could not be decoded.") from exc
    finally:
        image.close()
