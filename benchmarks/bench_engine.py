"""Benchmark the local engine: wall time, real-time factor and peak memory per video.

    python benchmarks/bench_engine.py            # 10 s and 30 s scripts at 480p and 720p
    python benchmarks/bench_engine.py --sizes 720 --lengths 30 --voice espeak:en:male
    python benchmarks/bench_engine.py --warm     # voice model loaded before timing
    python benchmarks/bench_engine.py --root /work/other-tree   # that tree's engine, same harness

Each run is a fresh subprocess (so memory figures are that run's alone, and model loading is
counted as a first job in a worker would pay it, unless --warm). Peak RSS is sampled every
20 ms over the whole process tree (Python + ffmpeg, which run side by side) and also read from
the kernel for the Python process alone. The "still" rows are the floor: the same framed
photo, the same length and the same encoder settings, with no speech and no animation; "x
still" is the video's wall time over it; "CPU s" counts the run's CPU time, ffmpeg included
(steadier than wall time when the machine is shared), "enc CPU" ffmpeg's part of it. The
"voice" rows synthesise the same script and nothing else. Under each pair, the budget line
says what a video 1.5x the still's time could spend on the animation: that time on every
core, minus the voice's and the still's own CPU time. The "noface" row is how long
``generate`` takes to refuse a photo without a face (a fresh process: model loading
included, imports not).

Budget (DESIGN.md): 30 s of speech at 720p in <= 15 s on 2 cores (RTF <= 0.5), <= 400 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]  # the engine measured; --root changes it
SENTENCES = [
    "Welcome to Talking Photo, where a single portrait can speak any script you type.",
    "The voice, the lips and the blinking eyes are all made on this computer.",
    "No cloud service is needed, and nothing leaves the machine.",
    "Choose a language, pick a voice, and press the button to make your video.",
    "Captions can be burned into the picture or saved as separate files.",
    "The whole process takes only a few seconds for a short message.",
    "Teachers, shop owners and creators use it to say hello in many languages.",
    "Thank you for watching, and have a wonderful day.",
]
WORDS_PER_S = 3.4  # Piper English at speed 1.0 on this text (eSpeak is a little faster)


def script_for(seconds: float) -> str:
    """English text that Piper's default voice speaks in about ``seconds``."""
    words: list[str] = []
    i = 0
    target = round(seconds * WORDS_PER_S)
    while len(words) < target:
        words += SENTENCES[i % len(SENTENCES)].split()
        i += 1
    return " ".join(words[:target]).rstrip(",.") + "."


def write_photo(folder: Path) -> Path:
    """The test portrait, written by the parent so children do not import scikit-image/SciPy
    (about 60 MB that is not the engine's)."""
    import cv2
    from skimage import data

    path = folder / "astronaut.jpg"
    img = cv2.resize(data.astronaut(), None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    coffee = cv2.resize(data.coffee(), (1024, 768), interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(folder / "noface.jpg"), cv2.cvtColor(coffee, cv2.COLOR_RGB2BGR))
    return path


_CPU0 = (0.0, 0.0)  # (this process, its waited-for children) CPU seconds when timing began


def cpu_now() -> tuple[float, float]:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def start_clock() -> float:
    """Start timing a run: wall clock, and CPU from here on (imports are not the run's)."""
    global _CPU0
    _CPU0 = cpu_now()
    return time.perf_counter()


def child_noface(seconds: float, resolution: int, work: Path, photo: Path) -> dict:
    """Seconds from ``generate`` to its "no face" error (a cup of coffee, no person)."""
    sys.path.insert(0, str(ROOT))
    from errors import FaceError
    from providers.base import GenerationRequest, JobContext
    from providers.local import LocalProvider

    request = GenerationRequest(
        photo_path=photo.with_name("noface.jpg"),
        script=script_for(seconds),
        language="en",
        resolution=resolution,
        aspect="9:16",
    )
    t0 = start_clock()
    try:
        LocalProvider().generate(request, JobContext(work_dir=work / "job"))
    except FaceError:
        wall = time.perf_counter() - t0
    else:
        raise SystemExit("a photo without a face was accepted")
    left = sorted(p.name for p in (work / "job").rglob("*")) if (work / "job").exists() else []
    return {
        "wall_s": wall,
        "duration_s": 0.0,
        "voice": "-",
        "timings": {},
        "size": "-",
        "left": left,
    }


def child_generate(
    seconds: float, resolution: int, voice: str | None, work: Path, warm: bool, photo: Path
) -> dict:
    sys.path.insert(0, str(ROOT))
    from providers.base import GenerationRequest, JobContext
    from providers.local import LocalProvider, speech

    if warm:  # a worker's second job: the voice model is already loaded
        speech.synthesize("Ready.", "en", voice)

    request = GenerationRequest(
        photo_path=photo,
        script=script_for(seconds),
        language="en",
        voice=voice,
        resolution=resolution,
        aspect="9:16",
    )
    t0 = start_clock()
    result = LocalProvider().generate(request, JobContext(work_dir=work / "job"))
    wall = time.perf_counter() - t0
    return {
        "wall_s": wall,
        "duration_s": result.duration_s,
        "voice": result.voice,
        "timings": result.timings,
        "size": f"{result.width}x{result.height}",
    }


def child_voice(seconds: float, voice: str | None, warm: bool) -> dict:
    """The voice alone: the same script synthesised, nothing drawn or encoded. With the
    still row it is the part of a video's work that no renderer can avoid."""
    sys.path.insert(0, str(ROOT))
    from providers.local import speech

    if warm:
        speech.synthesize("Ready.", "en", voice)
    t0 = start_clock()
    sp = speech.synthesize(script_for(seconds), "en", voice)
    return {
        "wall_s": time.perf_counter() - t0,
        "duration_s": sp.duration_s,
        "voice": sp.voice_id,
        "timings": {},
        "size": "-",
    }


def child_still(seconds: float, resolution: int, work: Path, photo_file: Path) -> dict:
    """The floor: stream the framed still for the same length, with a silent track."""
    sys.path.insert(0, str(ROOT))
    import math
    import wave

    import numpy as np

    from providers.local.encode import VideoEncoder
    from providers.local.face import detect_face
    from providers.local.framing import plan_framing, render_base
    from providers.local.pipeline import FPS, load_photo

    t0 = start_clock()
    photo = load_photo(photo_file)
    lm = detect_face(photo)
    framing = plan_framing(photo.shape[1], photo.shape[0], lm.box, resolution, "9:16")
    base = render_base(photo, framing)
    wav = work / "silence.wav"
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(22050)
        w.writeframes(np.zeros(int(22050 * seconds), np.int16).tobytes())
    with VideoEncoder(work / "still.mp4", framing.width, framing.height, FPS, wav) as enc:
        for _ in range(math.ceil(seconds * FPS)):
            enc.write(base.copy())  # a copy per frame, as the renderer hands over fresh frames
    return {
        "wall_s": time.perf_counter() - t0,
        "duration_s": seconds,
        "voice": "-",
        "timings": {},
        "size": f"{framing.width}x{framing.height}",
    }


def measure(args: list[str]) -> dict:
    """Run one child; sample the tree's RSS while it runs."""
    proc = subprocess.Popen(
        [sys.executable, __file__, "--root", str(ROOT), *args],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        root = psutil.Process(proc.pid)
        while not stop.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in procs))
            except psutil.Error:
                pass
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    stop.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"benchmark child failed: {args}")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_tree_mb"] = peak / 1024 / 1024
    return result


def budget_line(rows: dict[str, dict], cpus: int, target: float = 1.5) -> str:
    """What a video ``target`` times the still's wall time would leave for the animation.

    Even with every core busy the whole time, such a video can spend at most ``target`` x
    still wall x cores CPU seconds. The voice (synthesised anyway) and the still's own work
    (photo, face, copying and encoding every frame) come off that first; what is left is
    all the animation may add: mouth, eyes, head motion, and the encoder's extra work on
    frames that change.
    """
    still, voice, video = rows["still"], rows["voice"], rows["video"]
    budget = target * still["wall_s"] * cpus
    floor = voice["cpu_s"] + still["cpu_s"]
    left = budget - floor
    frames = max(1, round(video["duration_s"] * 25))
    return (
        f"  budget at {target}x still: {target * still['wall_s']:.2f} s on {cpus} cores = "
        f"{budget:.2f} CPU s; voice {voice['cpu_s']:.2f} + still {still['cpu_s']:.2f} = "
        f"{floor:.2f}; left for the animation {left:.2f} CPU s ({left / frames * 1000:.1f} ms "
        f"a frame); the video's animation took {video['cpu_s'] - floor:.2f}"
    )


def main() -> None:
    global ROOT
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lengths", type=float, nargs="+", default=[10, 30])
    parser.add_argument("--sizes", type=int, nargs="+", default=[480, 720])
    parser.add_argument("--voice", default=None, help="default: the language's default voice")
    parser.add_argument(
        "--warm",
        action="store_true",
        help="load the voice model before timing (a worker's later jobs)",
    )
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="the source tree whose engine is measured"
    )
    parser.add_argument(
        "--child", nargs=4, metavar=("KIND", "SECONDS", "RES", "PHOTO"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    ROOT = args.root.resolve()

    if args.child:
        kind, seconds, res = args.child[0], float(args.child[1]), int(args.child[2])
        photo = Path(args.child[3])
        with tempfile.TemporaryDirectory() as tmp:
            if kind == "still":
                out = child_still(seconds, res, Path(tmp), photo)
            elif kind == "noface":
                out = child_noface(seconds, res, Path(tmp), photo)
            elif kind == "voice":
                out = child_voice(seconds, args.voice, args.warm)
            else:
                out = child_generate(seconds, res, args.voice, Path(tmp), args.warm, photo)
        # ru_maxrss is in KiB on Linux: this process's own peak, without ffmpeg.
        me = resource.getrusage(resource.RUSAGE_SELF)
        out["peak_py_mb"] = me.ru_maxrss / 1024
        # CPU seconds of the run (from start_clock: imports excluded, model loading in),
        # ffmpeg included (a waited-for child): on a shared, busy machine this moves far
        # less than the wall time does.
        own, kids = cpu_now()
        out["cpu_s"] = own - _CPU0[0] + kids - _CPU0[1]
        out["enc_cpu_s"] = kids - _CPU0[1]  # ffmpeg's share
        print(json.dumps(out))
        return

    print(f"cpus: {os.cpu_count()}  python: {sys.version.split()[0]}  engine: {ROOT}")
    header = (
        f"{'run':<6} {'script':>6} {'res':>8} {'speech s':>8} {'wall s':>7} {'RTF':>5} "
        f"{'x still':>7} {'CPU s':>6} {'enc CPU':>7} {'RSS py MB':>9} {'RSS all MB':>10}"
        "  stages (s)"
    )
    print(header)
    print("-" * len(header))
    photo_dir = tempfile.TemporaryDirectory()
    photo = write_photo(Path(photo_dir.name))
    for seconds in args.lengths:
        for res in args.sizes:
            rows = {}
            for kind in ("video", "still", "voice"):
                extra = ["--voice", args.voice] if args.voice and kind != "still" else []
                extra += ["--warm"] if args.warm and kind != "still" else []
                rows[kind] = measure([*extra, "--child", kind, str(seconds), str(res), str(photo)])
            for kind, r in rows.items():
                stages = " ".join(f"{k}={v:.2f}" for k, v in r["timings"].items() if k != "total")
                ratio = r["wall_s"] / rows["still"]["wall_s"]
                print(
                    f"{kind:<6} {seconds:>5.0f}s {r['size']:>8} {r['duration_s']:>8.1f} "
                    f"{r['wall_s']:>7.2f} {r['wall_s'] / r['duration_s']:>5.2f} {ratio:>7.2f} "
                    f"{r['cpu_s']:>6.2f} {r['enc_cpu_s']:>7.2f} {r['peak_py_mb']:>9.0f} "
                    f"{r['peak_tree_mb']:>10.0f}  {stages}",
                    flush=True,
                )
            print(budget_line(rows, os.cpu_count() or 1), flush=True)
    r = measure(["--child", "noface", str(args.lengths[0]), str(args.sizes[0]), str(photo)])
    print(
        f"{'noface':<6} {'':>6} {'':>8} {'':>8} {r['wall_s']:>7.2f} {'':>5} {'':>7} "
        f"{r['cpu_s']:>6.2f} {r['enc_cpu_s']:>7.2f} {r['peak_py_mb']:>9.0f} "
        f"{r['peak_tree_mb']:>10.0f}  files left: {r['left'] or 'none'}",
        flush=True,
    )


if __name__ == "__main__":
    main()
