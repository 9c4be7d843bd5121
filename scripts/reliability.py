"""Hostile but realistic command lines, run as a user would, and what each one must do.

    .venv/bin/python scripts/reliability.py [--model DIR] [--out FILE.md]

Every case is a ``python -m ragalib`` command in a scratch folder (with its own
``RAGALIB_DATA``, so nothing of yours is read or written except the model given). Each has
an expectation: its exit status, how many ``ragalib:`` lines it prints on stderr (never a
traceback), what they say, what its JSON says, and that it writes nothing it should not. The
table goes to stdout (or ``--out``) in Markdown and ends with the summary line
``N cases, M as expected``; the exit status is 1 unless every case behaved. This regenerates
the tables of ``shared/reviews/reliability.md`` for the cases it holds (issue 17).

``--model`` defaults to the default detector (``paths.default_bundle_dir()``: under
``$RAGALIB_DATA`` when set; built on first use).
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile

ROOT = Path(__file__).resolve().parents[1]
SR = 22050


@dataclass
class Case:
    name: str
    args: list                     # after ``python -m ragalib``; {in}, {out}, {model} filled in
    rc: int
    lines: int = 0                 # ragalib: lines on stderr
    says: tuple = ()               # fragments the stderr must hold
    json: list = field(default_factory=list)   # per stdout JSON line: raga, None or "any"
    interrupt_after: float = None  # seconds, then Ctrl-C to the process group
    data_is_a_file: bool = False   # RAGALIB_DATA points at a file (a data folder not writable)
    limit_file_size: bool = False  # files may not grow past 64 kB (a full disk)


def inputs(folder):
    """The files the cases read, written with numpy and soundfile (no ragalib command)."""
    from ragalib import synth

    folder.mkdir()
    song = synth.improvise("yaman", 12.0, seed=3)
    rng = np.random.default_rng(0)
    write = lambda name, y, sr=SR, **kw: soundfile.write(folder / name, y, sr, **kw)  # noqa
    write("good.wav", song, subtype="PCM_16")
    (folder / "empty.wav").write_bytes(b"")
    (folder / "text.wav").write_text("not audio at all")
    write("short.wav", song[:int(4.9 * SR)])
    write("exact_5s.wav", song[:5 * SR])
    write("header_only.wav", np.zeros(0))
    write("nan.wav", np.full(6 * SR, np.nan), subtype="FLOAT")
    write("silence.wav", np.zeros(6 * SR))
    noise = rng.standard_normal(8 * SR)
    noise /= np.max(np.abs(noise))
    write("noise_m90.wav", 10 ** (-90 / 20) * noise, subtype="FLOAT")    # peak -90 dBFS
    write("noise_m70.wav", 10 ** (-70 / 20) * noise, subtype="FLOAT")
    write("dc_only.wav", np.full(8 * SR, 0.5))
    write("sr8k.wav", synth.improvise("yaman", 8.0, seed=3, sr=8000), 8000)
    stereo = np.stack([song, song], axis=1)
    import librosa

    write("sr96k_stereo_24.wav", librosa.resample(stereo.T, orig_sr=SR, target_sr=96000).T,
          96000, subtype="PCM_24")
    write("six_channel.wav", np.tile(song[:, None], (1, 6)) / 2)
    write("antiphase.wav", np.stack([song, -song], axis=1))
    write("song.flac", song)
    write("song.ogg", song, format="OGG", subtype="VORBIS")
    write("song.mp3", song, format="MP3", subtype="MPEG_LAYER_III")
    write("rāga yaman.wav", song)
    whole = (folder / "good.wav").read_bytes()
    (folder / "cut_70.wav").write_bytes(whole[:len(whole) * 7 // 10])
    (folder / "dangling.wav").symlink_to(folder / "nowhere.wav")
    (folder / "folder.wav").mkdir()
    (folder / "-rec.wav").write_bytes(whole)
    catalogue = folder / "catalogue"
    catalogue.mkdir()
    for seed, raga in enumerate(("yaman", "bhairavi", "kafi")):
        soundfile.write(catalogue / f"{raga}.wav", synth.improvise(raga, 8.0, seed=seed), SR)
    bad = folder / "catalogue_bad"
    bad.mkdir()
    for path in catalogue.iterdir():
        (bad / path.name).write_bytes(path.read_bytes())
    (bad / "aa_short.wav").write_bytes(b"RIFF broken")


def cases():
    detect = lambda name, *files, **kw: Case(  # noqa: E731
        f"detect:{name}", ["detect", "--json", "--model", "{model}",
                           *[f"{{in}}/{f}" for f in files]], **kw)
    one = dict(rc=1, lines=1)
    fine = dict(rc=0, json=["any"])
    return [
        detect("empty", "empty.wav", **one, says=("not an audio file",)),
        detect("text", "text.wav", **one, says=("not an audio file",)),
        detect("short_4.9s", "short.wav", **one, says=("one segment needs 5.0 s",)),
        detect("header_only", "header_only.wav", **one, says=("no audio samples",)),
        detect("nan", "nan.wav", **one, says=("not finite",)),
        detect("silence", "silence.wav", **one, says=("is silent",)),
        detect("noise_-90dBFS", "noise_m90.wav", **one, says=("is silent",)),
        detect("noise_-70dBFS", "noise_m70.wav", rc=0, json=[None]),
        detect("dc_only", "dc_only.wav", **one, says=("is silent",)),
        detect("antiphase_stereo", "antiphase.wav", **one, says=("is silent",)),
        detect("directory", "folder.wav", **one, says=("a folder with no audio files",)),
        detect("missing", "nope.wav", **one, says=("no such file",)),
        detect("dangling_symlink", "dangling.wav", **one, says=("no such file",)),
        detect("truncated_70%", "cut_70.wav", rc=0, lines=1, says=("warning", "truncated"),
               json=["any"]),
        detect("exact_5s", "exact_5s.wav", **fine),
        detect("sr8k", "sr8k.wav", **fine),
        detect("sr96k_stereo_24bit", "sr96k_stereo_24.wav", **fine),
        detect("six_channel", "six_channel.wav", **fine),
        detect("flac", "song.flac", **fine),
        detect("ogg", "song.ogg", **fine),
        detect("mp3", "song.mp3", **fine),
        detect("non_ascii_and_spaces", "rāga yaman.wav", **fine),
        detect("mixed_bad_and_good", "text.wav", "good.wav", "nope.wav", "silence.wav",
               "noise_m70.wav", rc=1, lines=3, json=["any", None]),
        Case("detect:option_like_name", ["detect", "--model", "{model}", "-rec.wav"], rc=2,
             lines=1, says=("use -- before a file name",)),
        Case("detect:option_like_name_after_--",
             ["detect", "--json", "--model", "{model}", "--", "-rec.wav"], rc=0, json=["any"]),
        Case("detect:no_file", ["detect"], rc=2, lines=1, says=("required: FILE",)),
        Case("detect:truncated_model", ["detect", "--model", "{in}/broken_model",
                                        "{in}/good.wav"], rc=2, lines=1,
             says=("damaged or truncated",)),
        Case("detect:no_model_folder", ["detect", "--model", "{in}/no_model", "{in}/good.wav"],
             rc=2, lines=1, says=("not a model bundle",)),
        Case("synth:seed_-1", ["synth", "yaman", "--seconds", "2", "--seed", "-1", "-o",
                               "{out}/x.wav"], rc=2, lines=1, says=("--seed",)),
        Case("synth:seconds_1e9", ["synth", "yaman", "--seconds", "1e9", "-o", "{out}/x.wav"],
             rc=2, lines=1, says=("at most 3600",)),
        Case("synth:seconds_abc", ["synth", "yaman", "--seconds", "abc", "-o", "{out}/x.wav"],
             rc=2, lines=1, says=("number of seconds",)),
        Case("synth:sr_44100.5", ["synth", "yaman", "--sr", "44100.5", "-o", "{out}/x.wav"],
             rc=2, lines=1, says=("whole number",)),
        Case("synth:to_/proc", ["synth", "yaman", "--seconds", "2", "-o", "/proc/x.wav"], rc=2,
             lines=1, says=("/proc/x.wav: cannot write",)),
        Case("synth:missing_folder", ["synth", "yaman", "-o", "{out}/nope/x.wav"], rc=2,
             lines=1, says=("does not exist",)),
        Case("synth:full_disk", ["synth", "yaman", "--seconds", "12", "-o", "{out}/x.wav"],
             rc=2, lines=1, says=("x.wav: cannot write",), limit_file_size=True),
        Case("synth:ctrl_c", ["synth", "yaman", "--seconds", "3600", "-o", "{out}/x.wav"],
             rc=130, lines=1, says=("ragalib: interrupted",), interrupt_after=3.0),
        Case("report:seeds_-1", ["report", "synth", "--seconds", "2", "--seeds", "-1"], rc=2,
             lines=1, says=("--seeds",)),
        Case("bench:repeat_0", ["bench", "synth", "--repeat", "0"], rc=2, lines=1),
        Case("train:epochs_0", ["train", "--epochs", "0"], rc=2, lines=1),
        Case("train:dropout_1.5", ["train", "--dropout", "1.5"], rc=2, lines=1),
        Case("usage:unknown_command", ["nonsense"], rc=2, lines=1, says=("invalid choice",)),
        Case("similar:k_0", ["similar", "-k", "0", "{in}/good.wav", "--catalog",
                             "{in}/catalogue"], rc=2, lines=1),
        Case("similar:directory_query", ["similar", "{in}/folder.wav", "--catalog",
                                         "{in}/catalogue", "--model", "{model}"], rc=2,
             lines=1, says=("is a directory",)),
        Case("similar:text_query", ["similar", "{in}/text.wav", "--catalog", "{in}/catalogue",
                                    "--model", "{model}"], rc=2, lines=1,
             says=("not an audio file",)),
        Case("similar:bad_catalogue_song", ["similar", "{in}/good.wav", "--catalog",
                                            "{in}/catalogue_bad", "--model", "{model}", "-k",
                                            "2", "--json"], rc=0, lines=1,
             says=("aa_short.wav", "left out"), json=["any"]),
        Case("similar:unwritable_cache", ["similar", "{in}/good.wav", "--catalog",
                                          "{in}/catalogue", "--model", "{model}", "-k", "2",
                                          "--json"], rc=0, lines=1, says=("not cached",),
             json=["any"], data_is_a_file=True),
    ]


def _limit_file_size():
    import resource

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64_000, 64_000))


def run(case, scratch, model):
    """Run one case; ``(rc, stderr lines, stdout, seconds, files written)``."""
    out = scratch / "out" / case.name.replace(":", "_")
    out.mkdir(parents=True)
    data = scratch / "data" / case.name.replace(":", "_")
    if case.data_is_a_file:
        data.parent.mkdir(parents=True, exist_ok=True)
        data.write_text("a file where the data folder should be")
    args = [a.format(**{"in": scratch / "in", "out": out, "model": model}) for a in case.args]
    env = {**os.environ, "RAGALIB_DATA": str(data), "RAGALIB_WORKERS": "2"}
    start = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "ragalib", *args], cwd=scratch / "in",
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True,
                               preexec_fn=_limit_file_size if case.limit_file_size else None)
    try:
        if case.interrupt_after:
            time.sleep(case.interrupt_after)
            os.killpg(process.pid, signal.SIGINT)
        stdout, stderr = process.communicate(timeout=600)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*"))
    if data.is_dir():
        written += [f"data/{p.relative_to(data)}" for p in data.rglob("*") if p.is_file()]
    return process.returncode, stderr.strip().splitlines(), stdout, time.monotonic() - start, \
        written


def verdict(case, rc, errors, stdout, written):
    """Why the outcome is not what ``case`` expects ('' when it is)."""
    problems = []
    if rc != case.rc:
        problems.append(f"rc {rc}, expected {case.rc}")
    if any("Traceback" in line for line in errors):
        problems.append("a traceback")
    elif len(errors) != case.lines or not all(e.startswith("ragalib: ") for e in errors):
        problems.append(f"{len(errors)} stderr lines, expected {case.lines} ragalib: lines")
    problems += [f"stderr lacks {s!r}" for s in case.says if not any(s in e for e in errors)]
    try:
        found = [json.loads(line) for line in stdout.splitlines()] if "--json" in case.args \
            else []
    except json.JSONDecodeError:
        found, problems = [], problems + ["stdout is not JSON lines"]
    if "--json" in case.args:
        ragas = [line.get("raga", len(line.get("recommendations", ())) or None)
                 for line in found]                 # similar: how many it recommends
        wanted = case.json
        if len(ragas) != len(wanted) or any((w is None) != (r is None)
                                            for w, r in zip(wanted, ragas)):
            problems.append(f"JSON ragas {ragas}, expected {wanted}")
    if written and case.rc != 0:
        problems.append(f"wrote {written}")
    return "; ".join(problems)


def main(argv=None):
    from ragalib.paths import default_bundle_dir

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=default_bundle_dir())
    parser.add_argument("--out", type=Path, help="write the Markdown table here")
    parser.add_argument("-k", "--only", help="run the cases whose name holds this")
    options = parser.parse_args(argv)
    rows, good = [], 0
    with tempfile.TemporaryDirectory(prefix="ragalib-reliability-") as folder:
        scratch = Path(folder)
        inputs(scratch / "in")
        broken = scratch / "in" / "broken_model"
        broken.mkdir()
        if options.model.is_dir():
            for path in options.model.iterdir():
                (broken / path.name).write_bytes(path.read_bytes())
            keras = broken / "model.keras"
            if keras.exists():
                keras.write_bytes(keras.read_bytes()[:keras.stat().st_size // 2])
        chosen = [c for c in cases() if not options.only or options.only in c.name]
        for number, case in enumerate(chosen, 1):
            rc, errors, stdout, seconds, written = run(case, scratch, options.model.resolve())
            problem = verdict(case, rc, errors, stdout, written)
            good += not problem
            said = " / ".join(e.replace(str(scratch), "(scratch)") for e in errors) or "-"
            rows.append(f"| {case.name} | `python -m ragalib {' '.join(case.args)}` | {rc} | "
                        f"{said[:160]} | {seconds:.1f} s | "
                        f"{'as expected' if not problem else 'NOT: ' + problem} |")
            print(f"[{number}/{len(chosen)}] {case.name}: {problem or 'as expected'}",
                  file=sys.stderr, flush=True)
    table = "\n".join(["| case | command | rc | stderr | time | verdict |",
                       "|---|---|---|---|---|---|", *rows, "",
                       f"{len(rows)} cases, {good} as expected"])
    if options.out:
        options.out.write_text(table + "\n", encoding="utf-8")
    print(table)
    return 0 if good == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
