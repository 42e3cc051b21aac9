"""#16 end-to-end text benchmark: redact (as a user runs it) beside Presidio, on every set.

    .venv/bin/python benchmarks/text_real.py [--sets phi_odd,sroie] [--subset 4] [--fast]
        [--presidio /work/venv-bench/bin/python] [--synth-count 60 --synth-seed 7]

For each set (see ``benchmarks/_text_sets.py``; synth, phi_even, phi_odd, funsd, sroie,
ic15) redact runs as ``redact clean FILES -o OUT --format json --report R --jobs 1``
(the real output, and the report's flags and per-file ``elapsed_ms``; ``scan`` runs
the same analysis) and Presidio's image redactor runs in its own environment
(``benchmarks/presidio_text.py``).  Scored from the written images against the original:

* **PHI covered** -- a legible PHI item with >= 80% of its quad/word-box pixels changed
  (a channel by > 25) or now the fill colour; per scene type and per entity;
* **still readable** -- Tesseract or PP-OCR reads >= 70% of the item's characters
  (letters and digits, best alignment) from the output's crop, counted over the items
  the same test reads in the original;
* **record flag** precision / recall against the set's ``is_record`` (phi_scenes, synth);
  forms and receipts: the share of pages flagged (they are not patient material);
* **harmless altered** -- harmless items (>= 3 letters) with >= 50% of their pixels
  changed, per negative scene type; on forms/receipts on pages *not* flagged only;
  ``ic15``: legible street words altered;
* **ms/photo** -- redact's ``elapsed_ms`` (all stages, faces included) and Presidio's
  time per image, median.

``--fast`` skips the CLI: it re-runs only the classification (``layout.decide``,
record judgement, escalation) on cached reading-stage lines and scores covered
polygons (no self-check, no zoom, no faces, no readability) -- for iterating on rules.
Every run prints, for redact's misses, whether the text was not found, found but not
read, or read but not classified (from the cached lines).  Caches live under
``/tmp/text-phi/`` (OCR of originals, Presidio outputs, reading-stage lines).

Tuned on: phi_even and funsd; every table names the set and whether it was tuned on.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import _text_lines as tl
from benchmarks._text_sets import ALL_SETS, TUNED, Sample, Target, load, subset

CACHE = Path("/tmp/text-phi")
FILL = np.array((0, 0, 0), np.uint8)
COVERED = 0.8
ALTERED = 0.5


@dataclass
class Tally:
    """One tool's counts on one set."""

    phi: Counter[str] = field(default_factory=Counter)  # legible PHI per "scene/entity"
    covered: Counter[str] = field(default_factory=Counter)
    readable_before: int = 0
    readable_after: int = 0
    harmless: Counter[str] = field(default_factory=Counter)
    altered: Counter[str] = field(default_factory=Counter)
    flag: Counter[str] = field(default_factory=Counter)  # tp, fp, fn, tn, flagged, pages
    ms: list[float] = field(default_factory=list)
    misses: list[tuple[Sample, Target]] = field(default_factory=list)


def _changed(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    if after.shape != before.shape:
        return np.ones(before.shape[:2], bool)
    diff = np.abs(after.astype(np.int16) - before.astype(np.int16)).max(axis=2) > 25
    return diff | (after == FILL).all(axis=2)


def _fraction(changed: np.ndarray, target: Target) -> float:
    mask = tl.poly_mask(target.shapes, changed.shape)
    return float(changed[mask].mean()) if mask.any() else 0.0


def score(t: Tally, s: Sample, changed: np.ndarray, flagged: bool | None, ms: float) -> None:
    """Add one output's coverage, harmless alterations and flag to ``t``."""
    t.ms.append(ms)
    if flagged is not None:
        _score_flag(t, s, flagged)
    for target in s.targets:
        if target.phi and target.legible:
            key = f"{s.scene}/{target.category}"
            t.phi[key] += 1
            if _fraction(changed, target) >= COVERED:
                t.covered[key] += 1
            else:
                t.misses.append((s, target))
        elif _counts_harmless(s, target, flagged):
            t.harmless[s.scene] += 1
            t.altered[s.scene] += int(_fraction(changed, target) >= ALTERED)


def _counts_harmless(s: Sample, target: Target, flagged: bool | None) -> bool:
    """Harmless text that should stay: negatives' text, and forms' text on unflagged pages."""
    if target.phi or not target.legible or sum(ch.isalpha() for ch in target.text) < 3:
        return False
    return s.negative or (s.is_record is None and not flagged)


def _score_flag(t: Tally, s: Sample, flagged: bool) -> None:
    t.flag["pages"] += 1
    t.flag["flagged"] += int(flagged)
    t.flag[f"{s.scene}:n"] += 1
    t.flag[f"{s.scene}:flagged"] += int(flagged)
    if s.is_record is None:
        return
    key = {(True, True): "tp", (True, False): "fn", (False, True): "fp", (False, False): "tn"}[(s.is_record, flagged)]
    t.flag[key] += 1


# --- running the tools ---------------------------------------------------------------


def run_redact(samples: list[Sample], out: Path) -> dict[str, tuple[Path | None, bool | None, float]]:
    """``redact clean`` on the files, as a user runs it: ``{name: (output, flagged, ms)}``."""
    out.mkdir(parents=True, exist_ok=True)
    report = out / "report.json"
    exe = Path(sys.executable).with_name("redact")
    cmd = [str(exe), "clean", *(str(s.path) for s in samples), "-o", str(out), "--format", "json"]
    cmd += ["--report", str(report), "--jobs", "1", "--no-cache"]
    subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    by_path = {str(s.path): s.name for s in samples}
    got: dict[str, tuple[Path | None, bool | None, float]] = {}
    if not report.is_file():
        return got
    for f in json.loads(report.read_text())["files"]:
        name = by_path.get(f["path"]) or by_path.get(str(Path(f["path"]).resolve()))
        if name is not None:
            output = Path(f["output"]) if f.get("output") else None
            got[name] = (output, bool(f["flags"]) if f["status"] != "failed" else None, float(f["elapsed_ms"] or 0))
    return got


def run_presidio(python: str, samples: list[Sample], out: Path) -> dict[str, tuple[Path, float]]:
    """Presidio's redactor on each file (cached under ``out``): ``{name: (output, ms)}``."""
    out.mkdir(parents=True, exist_ok=True)
    timings_file = out / "timings.json"
    timings: dict[str, float] = json.loads(timings_file.read_text()) if timings_file.is_file() else {}
    todo = [s for s in samples if s.name not in timings or not (out / f"{s.name}.png").is_file()]
    if todo and python and Path(python).exists():
        script = Path(__file__).with_name("presidio_text.py")
        proc = subprocess.Popen(
            [python, str(script), "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert proc.stdin is not None and proc.stdout is not None
        if proc.stdout.readline().strip() == "ready":
            for s in todo:
                proc.stdin.write(f"{s.path}\t{out / f'{s.name}.png'}\n")
                proc.stdin.flush()
                timings[s.name] = float(proc.stdout.readline())
                timings_file.write_text(json.dumps(timings))
        proc.stdin.close()
        proc.wait(timeout=120)
    return {s.name: (out / f"{s.name}.png", timings[s.name]) for s in samples if s.name in timings}


# --- one set -------------------------------------------------------------------------


def _load_rgb(path: Path) -> np.ndarray:
    from PIL import Image, ImageOps

    with Image.open(path) as im:
        return np.asarray(ImageOps.exif_transpose(im).convert("RGB"))


def evaluate_outputs(
    samples: list[Sample],
    outputs: dict[str, tuple[Path | None, bool | None, float]],
    reader: tl.Reader | None,
) -> Tally:
    """Score written outputs (``None`` output: the original unchanged, e.g. nothing found)."""
    t = Tally()
    for s in samples:
        if s.name not in outputs:
            continue
        path, flagged, ms = outputs[s.name]
        before = s.load()
        after = _load_rgb(path) if path is not None and path.is_file() else before
        score(t, s, _changed(before, after), flagged, ms)
        if reader is not None:
            before_ok, after_ok = reader.still_readable(s, before, after)
            t.readable_before += before_ok
            t.readable_after += after_ok
    return t


def evaluate_fast(samples: list[Sample], lines: tl.LineCache, text_only: bool = False) -> Tally:
    """Score the classification alone on cached reading-stage lines (covered polygons)."""
    t = Tally()
    for s in samples:
        covered, flagged, ms = lines.classify(s, text_only)
        score(t, s, covered, flagged, ms)
    return t


# --- printing ------------------------------------------------------------------------


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:.1f}% ({a}/{b})" if b else "n/a"


def _flag_cell(t: Tally) -> str:
    f = t.flag
    if f["tp"] + f["fn"] + f["fp"] + f["tn"] == 0:
        return f"flagged {_pct(f['flagged'], f['pages'])}"
    recall = f["tp"] / (f["tp"] + f["fn"]) if f["tp"] + f["fn"] else float("nan")
    precision = f["tp"] / (f["tp"] + f["fp"]) if f["tp"] + f["fp"] else float("nan")
    return f"R {recall:.3f} / P {precision:.3f} (tp {f['tp']} fn {f['fn']} fp {f['fp']})"


def _harmless_cell(t: Tally) -> str:
    return ", ".join(f"{k} {_pct(t.altered[k], n)}" for k, n in sorted(t.harmless.items())) or "-"


def print_set(name: str, tallies: dict[str, Tally], fast: bool) -> None:
    tuned = "TUNED ON" if name in TUNED else "held out (not tuned on)"
    print(f"\n### {name} ({tuned}){' -- FAST: classification on cached lines' if fast else ''}\n")
    head = "| tool | legible PHI covered | still readable (of readable before) | record flag | harmless altered |"
    print(head + " ms/photo |")
    print("|---|---|---|---|---|---|")
    for tool, t in tallies.items():
        readable = f"{t.readable_after} of {t.readable_before}" if t.readable_before else "n/a"
        ms = f"{statistics.median(t.ms):.0f}" if t.ms else "-"
        covered = _pct(sum(t.covered.values()), sum(t.phi.values()))
        print(f"| {tool} | {covered} | {readable} | {_flag_cell(t)} | {_harmless_cell(t)} | {ms} |")
    _print_breakdown(tallies, 0, "scene type")
    _print_breakdown(tallies, 1, "entity")
    per_scene = [k.split(":")[0] for k in next(iter(tallies.values())).flag if k.endswith(":n")]
    if per_scene:
        cells = []
        for scene in sorted(per_scene):
            cells.append(f"{scene} " + "/".join(str(t.flag[f"{scene}:flagged"]) for t in tallies.values()))
        first = next(iter(tallies.values()))
        counts = {s: first.flag[f"{s}:n"] for s in sorted(per_scene)}
        print(f"\nflagged per scene type ({'/'.join(tallies)}) of {counts}:")
        print("  " + ", ".join(cells))


def _print_breakdown(tallies: dict[str, Tally], part: int, title: str) -> None:
    keys = sorted({k.split("/")[part] for t in tallies.values() for k in t.phi})
    if len(keys) < 2:
        return
    print(f"\n| PHI covered by {title} | " + " | ".join(tallies) + " |")
    print("|---|" + "---|" * len(tallies))
    for key in keys:
        cells = []
        for t in tallies.values():
            n = sum(v for k, v in t.phi.items() if k.split("/")[part] == key)
            c = sum(v for k, v in t.covered.items() if k.split("/")[part] == key)
            cells.append(_pct(c, n))
        print(f"| {key} | " + " | ".join(cells) + " |")


def print_misses(name: str, t: Tally, lines: tl.LineCache) -> None:
    """Why redact missed each legible PHI item: not found / found not read / read not classified."""
    if not t.misses:
        return
    why: Counter[str] = Counter()
    per: dict[str, Counter[str]] = defaultdict(Counter)
    for s, target in t.misses:
        reason = lines.why_missed(s, target)
        why[reason] += 1
        per[f"{s.scene}/{target.category}"][reason] += 1
    print(f"\nredact's {len(t.misses)} uncovered legible PHI items on {name}: {dict(why)}")
    for key, c in sorted(per.items()):
        print(f"  {key}: {dict(c)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default=",".join(ALL_SETS))
    parser.add_argument("--subset", type=int, default=1, help="every n-th image of each set")
    parser.add_argument("--fast", action="store_true", help="classification only, on cached lines")
    parser.add_argument("--presidio", default="/work/venv-bench/bin/python", help="'' skips Presidio")
    parser.add_argument("--synth-count", type=int, default=60)
    parser.add_argument("--synth-seed", type=int, default=7)
    parser.add_argument("--no-misses", action="store_true", help="skip the miss analysis (needs cached lines)")
    parser.add_argument("--cached-only", action="store_true", help="--fast: only images whose lines are cached")
    parser.add_argument("--text-only", action="store_true", help="--fast: leave codes' covers out (text rules alone)")
    args = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    lines = tl.LineCache(CACHE / "lines")
    reader = None if args.fast else tl.Reader(CACHE / "readable")
    for name in args.sets.split(","):
        samples = subset(load(name, CACHE / "sets", args.synth_count, args.synth_seed), args.subset)
        if not samples:
            print(f"\n### {name}: data absent, skipped")
            continue
        tallies: dict[str, Tally] = {}
        if args.fast:
            if args.cached_only:
                samples = [s for s in samples if lines.has(s)]
            tallies["redact (fast)"] = evaluate_fast(samples, lines, args.text_only)
        else:
            with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
                tallies["redact"] = evaluate_outputs(samples, run_redact(samples, Path(tmp)), reader)
            if args.presidio:
                got = run_presidio(args.presidio, samples, CACHE / "presidio" / name)
                outs = {k: (p, None, ms) for k, (p, ms) in got.items()}
                tallies["presidio"] = evaluate_outputs(samples, outs, reader)
        print_set(name, tallies, args.fast)
        if not args.no_misses:
            print_misses(name, next(iter(tallies.values())), lines)
        sys.stdout.flush()
    lines.close()


if __name__ == "__main__":
    main()
