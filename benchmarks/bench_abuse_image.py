"""Peak memory of ``prepare_photo`` per upload (Hardening v2, item 1).

Each case runs in a fresh process: it imports the app's photo service, reads the file, records
the peak RSS so far (the baseline), calls ``services.photos.prepare_photo`` with the default
limits, and prints the new peak. Files are generated once into a temporary folder.

    python benchmarks/bench_abuse_image.py
"""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]

# VmHWM (this process's peak RSS), not ru_maxrss: Linux carries ru_maxrss over from the
# parent across fork and exec, so a child would report the benchmark's own peak.
CHILD = """
import sys
from errors import PhotoError
from services.photos import prepare_photo
def hwm():
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM:'):
            return int(line.split()[1])
data = open(sys.argv[1], 'rb').read()
base = hwm()
try:
    photo = prepare_photo(data)
    outcome = f"ok {photo.width}x{photo.height}"
except PhotoError as exc:
    outcome = "refused: " + exc.user_message[:60]
peak = hwm()
print(base // 1024, peak // 1024, outcome, sep="|")
"""


def _chunk(kind: bytes, payload: bytes) -> bytes:
    body = kind + payload
    return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))


def skinny_png(width: int = 1, height: int = 40_000_000) -> bytes:
    row = b"\x00" * (1 + width)
    z = zlib.compressobj(9)
    idat = b"".join(z.compress(row * 10_000) for _ in range(height // 10_000)) + z.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    )


def _pattern(w: int, h: int, channels: int, dtype: type = np.uint8) -> np.ndarray:
    """Smooth gradients plus a little texture: compresses like a photo's sky, not like noise."""
    top = 65535 if dtype == np.uint16 else 255
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    base = (x / w * 0.6 + y / h * 0.4) * top
    layers = [(base * (0.5 + 0.5 * c / max(1, channels - 1))) for c in range(channels)]
    arr = np.stack(layers, axis=-1) if channels > 1 else layers[0]
    return arr.astype(dtype)


def cases(folder: Path) -> list[tuple[str, Path]]:
    out: list[tuple[str, Path]] = []

    def save(name: str, im: Image.Image, fmt: str, **kw: object) -> None:
        path = folder / name
        buf = io.BytesIO()
        im.save(buf, fmt, **kw)
        path.write_bytes(buf.getvalue())
        out.append((name, path))

    (folder / "skinny.png").write_bytes(skinny_png())
    out.append(("skinny.png", folder / "skinny.png"))
    save("jpeg-12MP.jpg", Image.fromarray(_pattern(4000, 3000, 3)), "JPEG", quality=90)
    save("jpeg-40MP.jpg", Image.fromarray(_pattern(7300, 5470, 3)), "JPEG", quality=85)
    save("png-rgb-12MP.png", Image.fromarray(_pattern(4000, 3000, 3)), "PNG", compress_level=9)
    save("png-rgba-40MP.png", Image.fromarray(_pattern(7300, 5470, 4)), "PNG", compress_level=9)
    grey16 = Image.fromarray(_pattern(7300, 5470, 1, np.uint16))
    save("png-grey16-40MP.png", grey16, "PNG", compress_level=9)
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for name, path in cases(Path(tmp)):
            done = subprocess.run(
                [sys.executable, "-c", CHILD, str(path)],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            )
            base, peak, outcome = done.stdout.strip().split("|")
            size_kb = path.stat().st_size / 1024
            rows.append((name, size_kb, int(base), int(peak), outcome))
    print("| upload | file KB | baseline MB | peak MB | growth MB | outcome |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, size_kb, base, peak, outcome in rows:
        print(f"| {name} | {size_kb:,.0f} | {base} | {peak} | {peak - base} | {outcome} |")


if __name__ == "__main__":
    main()
