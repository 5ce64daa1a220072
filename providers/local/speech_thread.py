"""Speech synthesised on a thread of its own, sentence by sentence, while the caller works.

Piper keeps about one of two cores busy while it speaks a script (measured: ~2.3-3 CPU
seconds in ~3 s of wall time for 30 s of speech), so the renderer can use the other core in
the meantime: build the animator, make the person mask and background plate, and render the
mouth shapes the speech so far will need (:func:`warm_mouth`). The frames themselves are
drawn only once the whole speech is known, because the mouth track is normalised to the
loudest moment of the whole speech and eased forwards and backwards: drawing them earlier
would change them.

:class:`SpeechThread` is stopped (and joined) by :meth:`SpeechThread.stop`, which the caller
must call when it leaves early; the job's own cancel token stops it as well.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence
from typing import cast

import numpy as np

from observability import memory
from providers.base import CancelToken, GenerationRequest
from providers.local import speech
from providers.local.animate import FaceAnimator
from providers.local.piper_voice import SpeechChunk, merge_phonemes
from providers.local.visemes import PhonemeLike, mouth_track

_POLL_S = 0.1  # how often a wait for the next sentence checks for cancellation
# Mouth patches rendered ahead at most (0.27 MB each at 720p; a 30 s script needs ~85).
# They are made while Piper's working memory is at its peak, so they add to the job's peak
# (measured at 720p, heap trimmed after each: none 351 MB, 48 ahead 365 MB, all 85 ahead
# ~400 MB untrimmed); the rest are made while drawing, when Piper's memory is given back.
WARM_MAX = 48


class SpeechThread:
    """``speech.synthesize`` for ``request`` on a daemon thread; sentences are queued as they
    come (Piper voices only) and :meth:`result` returns the same :class:`speech.Speech` a
    direct call would, or raises what it raised."""

    def __init__(self, request: GenerationRequest, cancel: CancelToken) -> None:
        self._job_cancel = cancel
        self._stop = threading.Event()
        self._token = CancelToken(lambda: cancel.cancelled or self._stop.is_set())
        self._chunks: queue.Queue[SpeechChunk | None] = queue.Queue()
        self._done = threading.Event()
        self._speech: speech.Speech | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(request,), name="tp-speech", daemon=True
        )
        self._thread.start()

    def _run(self, request: GenerationRequest) -> None:
        try:
            self._speech = speech.synthesize(
                request.script,
                request.language,
                request.voice,
                speed=request.speed,
                pitch=request.pitch,
                cancel=self._token,
                on_chunk=self._chunks.put,
            )
        except BaseException as exc:  # handed to the caller by result()
            self._error = exc
        finally:
            self._done.set()
            self._chunks.put(None)

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def chunks(self) -> Iterator[SpeechChunk]:
        """Sentences as they are synthesised, until the synthesis ends (or the job is
        cancelled: then :class:`JobCancelled` is raised here)."""
        while True:
            self._job_cancel.raise_if_cancelled()
            try:
                chunk = self._chunks.get(timeout=_POLL_S)
            except queue.Empty:
                continue
            if chunk is None:
                return
            yield chunk

    def result(self) -> speech.Speech:
        """Wait for the whole speech; re-raises the synthesis's own error."""
        while not self._done.wait(_POLL_S):
            self._job_cancel.raise_if_cancelled()
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._speech is not None
        return self._speech

    def stop(self) -> None:
        """Stop at the next sentence and wait for the thread (idempotent)."""
        self._stop.set()
        self._thread.join()


def warm_mouth(animator: FaceAnimator, voice: SpeechThread, fps: float) -> int:
    """While ``voice`` is still speaking, render the mouth shapes its sentences need.

    After each sentence, the mouth track of that sentence alone is computed (an estimate:
    the final track is normalised to the loudest moment of the whole speech and eased
    across sentence boundaries) and the patches it needs are rendered, most frequent first.
    A patch depends on its key alone, so the video is the same; a few keys the final track
    does not use are the cost. One sentence at a time keeps the estimate's memory small
    while Piper's own is at its peak; at most :data:`WARM_MAX` patches are made. Returns how
    many patches were rendered.
    """
    made = 0
    for chunk in voice.chunks():
        if voice.done:
            continue  # the whole speech is known: the exact track will be drawn now
        rate = chunk.sample_rate
        phonemes = [
            speech.Phoneme(s, a - chunk.start_s, b - chunk.start_s)
            for s, a, b in merge_phonemes(list(chunk.aligned))
        ]
        n_frames = max(1, int(np.ceil(len(chunk.samples) / rate * fps - 1e-6)))
        # cast: frozen dataclasses meet PhonemeLike's read-only use, not its declared setters.
        track = mouth_track(
            chunk.samples, rate, cast("Sequence[PhonemeLike]", phonemes), n_frames, fps
        )
        counts: dict[tuple[int, int, int], int] = {}
        for key in animator.quantise_track(track.openness, track.width, track.tuck):
            counts[key] = counts.get(key, 0) + 1
        for key in sorted(counts, key=counts.__getitem__, reverse=True):
            if voice.done or made >= WARM_MAX:
                break
            if not animator.has_mouth(key):
                animator.mouth_patch(key)
                made += 1
                # The render's temporaries, given back while Piper's memory is at its peak.
                memory.release_free_memory()
    return made
