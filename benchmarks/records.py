"""Patient-record flag: recall on record-like scenes, precision against harmless ones.

    python benchmarks/records.py [--per-kind 12] [--seed 100]

Generates scenes with :mod:`redact.synth` (wristbands, whiteboards, EHR screens, printed
records and specimen labels are records; signage, posters, menus, staff badges and plain
scenes are not), runs redact's text and barcode stages and the record judgement exactly as
``redact scan`` does, and prints per-kind flag rates, overall recall and precision, and
the reasons given.  Scenes whose PHI is too small for a person to read (every PHI item
under 9 px) are reported but not counted as records a tool could be expected to flag.
"""

from __future__ import annotations

import argparse
from collections import Counter

from redact.analysis import Analyzer
from redact.config import Settings
from redact.synth import generate
from redact.synth.scenes import KINDS, POSITIVE_KINDS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-kind", type=int, default=12)
    parser.add_argument("--seed", type=int, default=100)
    args = parser.parse_args()
    analyzer = Analyzer(Settings(stages=("text", "barcodes")))
    rows: dict[str, Counter[str]] = {k: Counter() for k in KINDS}
    reasons: Counter[str] = Counter()
    for s in generate(args.per_kind * len(KINDS), seed=args.seed):
        legible = any(i.phi and i.legible for i in s.items)
        analysis = analyzer.analyse(s.image)
        flagged = bool(analysis.flags)
        row = rows[s.kind]
        row["n"] += 1
        row["flagged"] += flagged
        row["illegible"] += s.kind in POSITIVE_KINDS and not legible
        row["flagged_legible"] += flagged and legible
        for f in analysis.flags:
            reasons[f.code] += 1
    print("| scene kind | record? | scenes | flagged | legible-PHI scenes flagged |")
    print("|---|---|---:|---:|---:|")
    tp = fp = fn = 0
    for kind in KINDS:
        r = rows[kind]
        positive = kind in POSITIVE_KINDS
        legible_n = r["n"] - r["illegible"]
        col = f"{r['flagged_legible']}/{legible_n}" if positive else "-"
        print(f"| {kind} | {'yes' if positive else 'no'} | {r['n']} | {r['flagged']} | {col} |")
        if positive:
            tp += r["flagged_legible"]
            fn += legible_n - r["flagged_legible"]
        else:
            fp += r["flagged"]
    recall = tp / (tp + fn) if tp + fn else 0.0
    precision = tp / (tp + fp) if tp + fp else 0.0
    print(f"\nrecall (legible records) {recall:.3f} (target >= 0.99); precision {precision:.3f} (target >= 0.95)")
    print("reasons:", dict(reasons))


if __name__ == "__main__":
    main()
