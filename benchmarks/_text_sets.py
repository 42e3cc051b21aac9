"""Evaluation sets for the #16 text benchmark, as one shape: samples with text targets.

Every set becomes a list of :class:`Sample` s, each an image file with ground-truth text
:class:`Target` s (PHI to cover, or harmless text to keep) and, where the set says so,
whether the photo is a patient record.  Sets (all optional, skipped when absent):

* ``synth`` -- redact's own generator (``redact.synth``, wherever it lives), saved as PNGs
  under the cache folder once per (count, seed);
* ``phi_even`` / ``phi_odd`` -- ``../shared/phi_scenes_dev`` split by file number
  (even numbers are the tuning half);
* ``funsd`` / ``sroie`` -- ``../shared/real/{funsd,sroie}_dev`` (forms and receipts;
  personal-data fields and harmless entries as word boxes);
* ``ic15`` -- ``../shared/real/ic15_dev`` (street photos; every legible word is harmless).

Nothing here is copied into the repository; the data stays in ``../shared``.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from benchmarks._data import shared_dir

Poly = list[tuple[float, float]]

#: Which sets rules were tuned on (every table says so).
TUNED = frozenset({"phi_even", "funsd"})
ALL_SETS = ("synth", "phi_even", "phi_odd", "funsd", "sroie", "ic15")


@dataclass
class Target:
    """One ground-truth text item: PHI (``phi``) with its entity, or harmless text."""

    text: str
    phi: bool
    category: str
    shapes: list[Poly]  # quads or word boxes (the item counts as covered by their pixels)
    legible: bool = True


@dataclass
class Sample:
    """One image of a set and its ground truth."""

    set: str
    name: str
    path: Path
    scene: str
    is_record: bool | None  # None: the set does not say
    negative: bool  # harmless text here should stay
    targets: list[Target] = field(default_factory=list)

    def load(self) -> np.ndarray:
        from PIL import ImageOps

        with Image.open(self.path) as im:
            return np.asarray(ImageOps.exif_transpose(im).convert("RGB"))


def _box(b: Sequence[float]) -> Poly:
    x0, y0, x1, y1 = (float(v) for v in b)
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def _phi_scenes(root: Path, parity: int, name: str) -> list[Sample]:
    out = []
    for js in sorted((root / "phi_scenes_dev").glob("*.json")):
        if int(js.stem) % 2 != parity:
            continue
        d = json.loads(js.read_text())
        targets = [
            Target(
                t["text"],
                bool(t["is_phi"]),
                t["category"] if t["is_phi"] else (t.get("sub") or "TEXT"),
                [[(float(x), float(y)) for x, y in t["quad"]]],
                bool(t["legible"]),
            )
            for t in d["texts"]
        ]
        negative = not d["is_record"]
        out.append(
            Sample(name, js.stem, js.with_name(d["file"]), d["scene_type"], bool(d["is_record"]), negative, targets)
        )
    return out


def _documents(folder: Path, name: str) -> list[Sample]:
    out = []
    for line in (folder / "gt.jsonl").read_text().splitlines():
        d = json.loads(line)
        targets = [Target(p["text"], True, p["category"], [_box(w) for w in p["words"]]) for p in d["phi"]]
        targets += [Target(h["text"], False, "TEXT", [_box(w) for w in h["words"]]) for h in d["harmless"]]
        path = folder / d["file"]
        out.append(Sample(name, path.stem, path, "form" if name == "funsd" else "receipt", None, False, targets))
    return out


def _ic15(folder: Path) -> list[Sample]:
    out = []
    for line in (folder / "gt.jsonl").read_text().splitlines():
        d = json.loads(line)
        targets = [
            Target(w["text"], False, "WORD", [[(float(x), float(y)) for x, y in w["quad"]]], bool(w["legible"]))
            for w in d["words"]
        ]
        path = folder / d["file"]
        out.append(Sample("ic15", path.stem, path, "street", False, True, targets))
    return out


def _synth_module() -> Any:
    """``redact.synth`` or wherever the refactor moved the generator."""
    for name in ("redact.synth.scenes", "redact_synth.scenes", "synth.scenes", "tests.synth.scenes"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


def _synth(cache: Path, count: int, seed: int) -> list[Sample]:
    mod = _synth_module()
    if mod is None:
        return []
    folder = cache / f"synth-{count}-{seed}"
    index = folder / "gt.json"
    if not index.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        rows = []
        for i, s in enumerate(mod.generate(count, seed)):
            path = folder / f"{i:04d}-{s.kind}.png"
            Image.fromarray(s.image).save(path)
            items = [
                {"text": it.text, "phi": it.phi, "label": it.label, "poly": it.polygon, "legible": it.legible}
                for it in s.items
            ]
            rows.append({"file": path.name, "kind": s.kind, "negative": s.negative, "items": items})
        index.write_text(json.dumps(rows))
    positive = set(mod.POSITIVE_KINDS)
    out = []
    for r in json.loads(index.read_text()):
        targets = [
            Target(
                it["text"],
                it["phi"],
                it["label"] if it["phi"] else "TEXT",
                [[tuple(p) for p in it["poly"]]],
                it["legible"],
            )
            for it in r["items"]
        ]
        legible_phi = any(t.phi and t.legible for t in targets)
        record = r["kind"] in positive and legible_phi
        out.append(Sample("synth", Path(r["file"]).stem, folder / r["file"], r["kind"], record, r["negative"], targets))
    return out


def load(name: str, cache: Path, synth_count: int = 60, synth_seed: int = 7) -> list[Sample]:
    """The samples of set ``name`` (empty when its data is absent)."""
    if name == "synth":
        return _synth(cache, synth_count, synth_seed)
    root = shared_dir()
    if root is None:
        return []
    loaders: dict[str, Callable[[], list[Sample]]] = {
        "phi_even": lambda: _phi_scenes(root, 0, "phi_even"),
        "phi_odd": lambda: _phi_scenes(root, 1, "phi_odd"),
        "funsd": lambda: _documents(root / "real" / "funsd_dev", "funsd"),
        "sroie": lambda: _documents(root / "real" / "sroie_dev", "sroie"),
        "ic15": lambda: _ic15(root / "real" / "ic15_dev"),
    }
    needed = {"phi_even": "phi_scenes_dev", "phi_odd": "phi_scenes_dev", "funsd": "real/funsd_dev"}
    needed |= {"sroie": "real/sroie_dev", "ic15": "real/ic15_dev"}
    if not (root / needed[name]).is_dir():
        return []
    return loaders[name]()


def subset(samples: list[Sample], every: int) -> list[Sample]:
    """Every ``every``-th sample (1: all)."""
    return samples[:: max(1, every)]
