"""Synthetic hospital photos with ground truth, for tests and benchmarks (no real PHI)."""

from redact.synth.scenes import Item, Scene, generate, scene

__all__ = ["Item", "Scene", "generate", "scene"]
