"""Regenerate the sample photos in this folder (deterministic).

    python samples/make_samples.py

Sources are public-domain or CC0 images that scikit-image ships (see PROVENANCE.md);
everything else (the ward scene, the fake patient details, the EXIF blocks) is made
here.  All names, numbers and places in these samples are invented.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from skimage import data

HERE = Path(__file__).resolve().parent


def tiff_exif(
    *,
    orientation: int,
    make: str,
    model: str,
    gps: tuple[float, float],
    thumbnail: bytes,
) -> bytes:
    """A little-endian EXIF block with the parts that leak from phone photos.

    IFD0 (make, model, orientation, GPS pointer), a GPS IFD, and IFD1 with an embedded
    JPEG thumbnail.
    """

    def ascii_value(s: str) -> bytes:
        return s.encode() + b"\0"

    def rational3(deg: float) -> bytes:
        d = int(deg)
        m = int((deg - d) * 60)
        s = round(((deg - d) * 60 - m) * 60 * 100)
        return struct.pack("<6I", d, 1, m, 1, s, 100)

    lat, lon = gps
    make_b, model_b = ascii_value(make), ascii_value(model)
    # Layout: header(8) | IFD0 | IFD1 | GPS IFD | data area
    n0, n1, ng = 4, 2, 4
    ifd0_at = 8
    ifd1_at = ifd0_at + 2 + 12 * n0 + 4
    gps_at = ifd1_at + 2 + 12 * n1 + 4
    data_at = gps_at + 2 + 12 * ng + 4
    blobs: list[bytes] = []

    def put(blob: bytes) -> int:
        offset = data_at + sum(len(b) for b in blobs)
        blobs.append(blob + (b"\0" if len(blob) % 2 else b""))
        return offset

    make_at, model_at = put(make_b), put(model_b)
    lat_at, lon_at = put(rational3(abs(lat))), put(rational3(abs(lon)))
    thumb_at = put(thumbnail)

    def entry(tag: int, typ: int, count: int, value: bytes | int) -> bytes:
        raw = value if isinstance(value, bytes) else struct.pack("<I", value)
        return struct.pack("<HHI", tag, typ, count) + raw.ljust(4, b"\0")

    ifd0 = (
        struct.pack("<H", n0)
        + b"".join(
            [
                entry(0x010F, 2, len(make_b), make_at),
                entry(0x0110, 2, len(model_b), model_at),
                entry(0x0112, 3, 1, struct.pack("<H", orientation)),
                entry(0x8825, 4, 1, gps_at),
            ]
        )
        + struct.pack("<I", ifd1_at)
    )
    ifd1 = (
        struct.pack("<H", n1)
        + b"".join([entry(0x0201, 4, 1, thumb_at), entry(0x0202, 4, 1, len(thumbnail))])
        + struct.pack("<I", 0)
    )
    gps_ifd = (
        struct.pack("<H", ng)
        + b"".join(
            [
                entry(0x0001, 2, 2, b"N\0" if lat >= 0 else b"S\0"),
                entry(0x0002, 5, 3, lat_at),
                entry(0x0003, 2, 2, b"E\0" if lon >= 0 else b"W\0"),
                entry(0x0004, 5, 3, lon_at),
            ]
        )
        + struct.pack("<I", 0)
    )
    return b"Exif\0\0" + b"II*\0" + struct.pack("<I", ifd0_at) + ifd0 + ifd1 + gps_ifd + b"".join(blobs)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default()


def astronaut() -> Image.Image:
    """Eileen Collins, NASA portrait (public domain)."""
    return Image.fromarray(data.astronaut())


def ward_scene() -> Image.Image:
    """A made-up ward: a whiteboard with invented patient details and two faces."""
    w, h = 1600, 1000
    wall = np.full((h, w, 3), (214, 222, 216), np.uint8)
    wall[int(h * 0.72) :] = (150, 140, 128)  # floor
    scene = Image.fromarray(wall)
    draw = ImageDraw.Draw(scene)
    # whiteboard
    draw.rectangle((80, 90, 760, 560), fill=(250, 250, 250), outline=(120, 120, 120), width=8)
    lines = [
        ("ROOM 12", 44),
        ("Pt: DOE, JANE", 40),
        ("MRN 40817263", 40),
        ("DOB 03/14/1948", 40),
        ("Nurse: Sam  x4021", 34),
    ]
    y = 120
    for text, size in lines:
        draw.text((120, y), text, fill=(20, 40, 160), font=_font(size))
        y += size + 38
    face = astronaut().crop((140, 20, 340, 250))
    scene.paste(face.resize((200, 230)), (1000, 260))  # a nurse in the foreground
    scene.paste(face.resize((60, 69)), (1380, 330))  # a patient far behind
    return scene


def crowd() -> Image.Image:
    """The public-domain portrait repeated at several sizes: large, medium and small faces."""
    canvas = Image.fromarray(np.asarray(data.coffee())).resize((1400, 900))
    face = astronaut().crop((140, 10, 340, 260))
    x = 40
    for size in (260, 160, 100, 64, 40):
        canvas.paste(face.resize((size * 4 // 5, size)), (x, 900 - size - 60))
        x += size * 4 // 5 + 60
    return canvas


def ward_video(path: Path, fps: int = 15, seconds: float = 3.0) -> None:
    """A phone-style clip panning across the made-up ward, with a location tag and a tone."""
    import av

    scene = np.asarray(ward_scene())
    w, h = 640, 400
    frames = int(fps * seconds)
    out = av.open(str(path), "w", format="mp4")
    out.metadata.update({"location": "+40.7411-073.9897/", "make": "ExamplePhone", "model": "Model X"})
    video = out.add_stream("libx264", rate=fps)
    video.width, video.height, video.pix_fmt = w, h, "yuv420p"
    video.options = {"crf": "23", "preset": "medium"}
    audio = out.add_stream("aac", rate=16000)
    audio.layout = "mono"
    for i in range(frames):
        x = round((scene.shape[1] - w) * i / (frames - 1))
        y = 140 + round(40 * np.sin(i / 6))
        crop = np.ascontiguousarray(scene[y : y + h, x : x + w])
        out.mux(video.encode(av.VideoFrame.from_ndarray(crop, format="rgb24")))
    out.mux(video.encode(None))
    samples = int(16000 * seconds)
    tone = (0.1 * np.sin(np.arange(samples) * 2 * np.pi * 330 / 16000)).astype(np.float32)[None, :]
    for start in range(0, samples, 1024):
        chunk = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(tone[:, start : start + 1024]), format="fltp", layout="mono"
        )
        chunk.sample_rate, chunk.pts = 16000, start
        out.mux(audio.encode(chunk))
    out.mux(audio.encode(None))
    out.close()


def main() -> None:
    """Write every sample."""
    astronaut().convert("RGB").save(HERE / "astronaut.jpg", quality=90)
    Image.fromarray(data.coffee()).save(HERE / "coffee_no_faces.jpg", quality=90)
    ward_scene().save(HERE / "ward_whiteboard.png", optimize=True)
    crowd().save(HERE / "faces_many_sizes.jpg", quality=90)

    # A portrait phone photo stored sideways, as phones do: the pixels are rotated and
    # EXIF Orientation=6 says "turn me upright".  It also carries GPS, the phone's make
    # and model, and an EXIF thumbnail of the unredacted photo.
    upright = ward_scene().crop((900, 150, 1500, 950))  # 600 x 800 portrait
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # sideways on disk
    thumb = io.BytesIO()
    stored.resize((160, 120)).save(thumb, "JPEG", quality=80)
    exif = tiff_exif(
        orientation=6, make="ExamplePhone", model="Model X", gps=(40.7411, -73.9897), thumbnail=thumb.getvalue()
    )
    stored.save(HERE / "phone_portrait_gps.jpg", quality=90, exif=exif)

    ward_video(HERE / "ward_pan.mp4")

    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
        astronaut().save(HERE / "astronaut.heic", quality=80)
    except (ImportError, OSError, KeyError, ValueError) as exc:  # encoder may be missing
        print(f"skipped HEIC sample: {exc}")


if __name__ == "__main__":
    main()
