"""Print fingerprints of what ragalib produces, to show a refactor changed none of it.

    RAGALIB_QUICK=1 .venv/bin/python scripts/fingerprint.py

Digests of synthesised audio (takes, a song, a sung song), of the features of every kind, the
quick dataset's content key and the digest of its arrays, and the default detector's answers
on the first quick test songs. Run it before and after a change; the lines must be the same.
"""

import hashlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from ragalib import features, synth  # noqa: E402
from ragalib.corpus import dataset, songs  # noqa: E402
from ragalib.detection import pipeline  # noqa: E402
from ragalib.features import FeatureConfig  # noqa: E402


def digest(array):
    return hashlib.sha1(np.ascontiguousarray(array).tobytes()).hexdigest()[:16]


def main():
    for raga, seed, voice in (("yaman", 0, "harmonium"), ("bhairavi", 3, "flute"),
                              ("darbari", 1, "plucked")):
        print(f"take {raga} seed {seed} {voice}: {digest(synth.improvise(raga, 8.0, seed=seed, voice=voice))}")
    for spec in songs.song_plan(1, seconds=(20.0, 20.0))[:3]:
        y, _ = songs.render_song(spec)
        print(f"song {spec.file}: {digest(y)}")
    y = synth.improvise("kafi", 10.0, seed=2, drone=True)
    for kind in features.KINDS:
        config = FeatureConfig(kind=kind)
        from ragalib import audio

        print(f"features {kind} ({config.id}): {digest(features.extract(audio.segments(y, config=config), config=config))}")
    data = dataset.build()
    print(f"dataset {data.key}: X {digest(data.X)}, y {digest(data.y)}, split {digest(data.split.astype(str))}")
    from ragalib.detection import detector

    bundle = detector(current=True)
    for row in songs.ensure_songs()[:4]:
        found = pipeline.detect_file(row["path"], bundle)
        print(f"detect {row['file']}: {found.raga} {found.confidence:.4f} Sa {found.tonic_note}")


if __name__ == "__main__":
    main()
