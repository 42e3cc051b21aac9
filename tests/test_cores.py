"""``--jobs N`` = use up to N cores: the worker plan and the thread budget every thread pool reads."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

import redact.batch as batch
import redact.cores as cores
import redact.executor as executor
from redact.analysis import Analyzer
from redact.batch import run
from redact.config import Settings
from redact.cores import thread_budget, thread_budget_of, worker_plan
from redact.detect import onnx
from redact.jobs import Job, plan_jobs
from redact.types import FileResult, Mode, Status

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


@pytest.fixture
def four_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend the machine has four usable cores, so the tests do not depend on this one."""
    monkeypatch.setattr(cores, "usable_cores", lambda: 4)


@pytest.mark.parametrize(
    ("jobs", "files", "plan"),
    [
        (1, 120, (1, 1)),  # --jobs 1: one process, one thread
        (2, 120, (2, 1)),  # two workers share two cores
        (2, 1, (1, 2)),  # a single file gets both cores
        (4, 2, (2, 2)),
        (4, 3, (3, 1)),
        (4, 0, (1, 4)),
        (0, 5, (1, 1)),
    ],
)
def test_worker_plan_shares_the_cores_among_the_workers(jobs: int, files: int, plan: tuple[int, int]):
    assert worker_plan(jobs, files) == plan


def test_the_budget_sets_opencv_and_is_restored(four_cores: None):
    assert thread_budget() == 4  # nothing set: every usable core
    with thread_budget_of(1):
        assert thread_budget() == 1
        assert cv2.getNumThreads() == 1
        with thread_budget_of(8):
            assert thread_budget() == 4  # never more than the usable cores
    assert thread_budget() == 4
    assert cv2.getNumThreads() == 4


@pytest.fixture
def sessions(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Record the intra-op threads each onnxruntime session is opened with, by model."""
    opened: dict[str, int] = {}
    real = onnx.session

    def spy(model: Any, threads: int, what: str) -> Any:
        session = real(model, threads, what)
        opened[what] = session.get_session_options().intra_op_num_threads
        return session

    monkeypatch.setattr(onnx, "session", spy)
    return opened


def test_a_worker_with_one_thread_opens_every_session_with_one_thread(four_cores: None, sessions: dict[str, int]):
    try:
        executor._init_worker(Settings(), Mode.SCAN, 1)
        assert thread_budget() == 1 and cv2.getNumThreads() == 1
    finally:
        cores.set_thread_budget(None)
        executor._worker_state.clear()
    assert sessions == {"face": 1, "text detection": 1, "text recognition": 1}


def test_an_analyzer_gets_the_whole_budget_for_its_faces(four_cores: None, sessions: dict[str, int]):
    with thread_budget_of(3):
        Analyzer(Settings()).close()
    assert sessions["face"] == 3
    # The text models are single-threaded whatever the budget (within any budget).
    assert sessions["text detection"] == sessions["text recognition"] == 1


def _reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the threads each zxing decode pass of the barcode detector runs on."""
    import redact.detect.barcodes as barcodes

    names: list[str] = []
    real = barcodes._read

    def spy(*args: Any, **kwargs: Any) -> Any:
        names.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(barcodes, "_read", spy)
    return names


@pytest.mark.parametrize(("budget", "threaded"), [(1, False), (2, True)])
def test_the_barcode_full_resolution_pass_uses_a_second_thread_only_with_two(
    four_cores: None, monkeypatch: pytest.MonkeyPatch, budget: int, threaded: bool
):
    from redact.detect.barcodes import BarcodeDetector

    names = _reads(monkeypatch)
    large = np.random.default_rng(0).integers(0, 255, (2400, 3200, 3), dtype=np.uint8)  # > barcode_max_side
    with thread_budget_of(budget):
        BarcodeDetector(Settings()).detect(large)
    assert len(names) == 2  # the scaled-down pass and the full-resolution pass
    assert any(n.startswith("redact-zxing") for n in names) is threaded


@pytest.fixture
def three_photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(3):
        shutil.copy(SAMPLES / "coffee_no_faces.jpg", folder / f"{i}.jpg")
    return folder


def _spy_on_analyzers(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The thread budget each :class:`Analyzer` built in this process was built under."""
    budgets: list[int] = []
    real = batch.Analyzer

    class Spy(real):  # type: ignore[misc,valid-type]
        def __init__(self, settings: Settings) -> None:
            budgets.append(thread_budget())
            super().__init__(settings)

    monkeypatch.setattr(batch, "Analyzer", Spy)
    return budgets


def test_one_job_on_three_files_starts_one_worker_with_one_thread(
    four_cores: None, monkeypatch: pytest.MonkeyPatch, three_photos: Path
):
    # A worker even for --jobs 1: a file that crashes or hangs it then fails alone.
    calls = _fake_pool(monkeypatch)
    results = run(plan_jobs([three_photos], Mode.SCAN, None), Mode.SCAN, Settings(), cores=1)
    assert [(workers, threads) for workers, threads, _ in calls] == [(1, 1)]
    assert [r.status for r in results] == [Status.CLEAN] * 3


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_single_file_runs_here_with_every_core_asked_for(
    jobs: int, four_cores: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    budgets = _spy_on_analyzers(monkeypatch)
    monkeypatch.setattr(executor, "run_parallel", lambda *a, **k: pytest.fail("no pool for one file"))
    photo = tmp_path / "one.jpg"
    shutil.copy(SAMPLES / "coffee_no_faces.jpg", photo)
    results = run(plan_jobs([photo], Mode.SCAN, None), Mode.SCAN, Settings(), cores=jobs)
    assert [r.status for r in results] == [Status.CLEAN]
    assert budgets == [jobs]
    assert thread_budget() == 4  # restored after the run


def test_two_jobs_on_three_files_start_two_workers_with_one_thread_each(
    four_cores: None, monkeypatch: pytest.MonkeyPatch, three_photos: Path
):
    calls = _fake_pool(monkeypatch)
    run(plan_jobs([three_photos], Mode.SCAN, None), Mode.SCAN, Settings(), cores=2)
    assert [(workers, threads) for workers, threads, _ in calls] == [(2, 1)]


def _fake_pool(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int, list[str]]]:
    """Replace the pool: record ``(workers, threads, file names in the order sent)``, pass every file."""
    calls: list[tuple[int, int, list[str]]] = []

    def fake(
        jobs: list[Job],
        mode: Mode,
        settings: Settings,
        workers: int,
        on_result: Any,
        threads: int = 1,
        on_progress: Any = None,
    ) -> None:
        calls.append((workers, threads, [job.path.name for job in jobs]))
        for k, job in enumerate(jobs):
            on_result(k, FileResult(job.path, Status.CLEAN))

    monkeypatch.setattr(executor, "run_parallel", fake)
    return calls


def test_videos_go_to_the_pool_first_then_photos_largest_first(
    four_cores: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(SAMPLES / "coffee_no_faces.jpg", folder / "a_small.jpg")
    shutil.copy(SAMPLES / "faces_many_sizes.jpg", folder / "b_large.jpg")
    shutil.copy(SAMPLES / "ward_pan.mp4", folder / "c_clip.mp4")
    assert (folder / "b_large.jpg").stat().st_size > (folder / "a_small.jpg").stat().st_size
    calls = _fake_pool(monkeypatch)
    jobs = plan_jobs([folder], Mode.SCAN, None)
    results = run(jobs, Mode.SCAN, Settings(), cores=2)
    assert calls == [(2, 1, ["c_clip.mp4", "b_large.jpg", "a_small.jpg"])]
    assert [r.path for r in results] == [j.path for j in jobs]  # reported in job order


def test_a_video_in_a_worker_reports_its_frames_before_its_result(tmp_path: Path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(SAMPLES / "ward_pan.mp4", folder / "clip.mp4")
    shutil.copy(SAMPLES / "coffee_no_faces.jpg", folder / "photo.jpg")
    events: list[tuple[str, str, int, int]] = []

    def progress(path: Path, done: int, expected: int) -> None:
        events.append(("frames", path.name, done, expected))

    def result(r: FileResult) -> None:
        events.append(("result", r.path.name, 0, 0))

    jobs = plan_jobs([folder], Mode.SCAN, None)
    results = run(jobs, Mode.SCAN, Settings(), result, cores=2, on_progress=progress)
    assert all(r.status is not Status.FAILED for r in results), [r.error for r in results]
    clip = [e for e in events if e[1] == "clip.mp4"]
    assert clip[-1][0] == "result" and [e[0] for e in clip[:-1]] == ["frames"] * (len(clip) - 1)
    frames = [e for e in clip if e[0] == "frames"]
    assert frames and frames[-1][2] == frames[-1][3] > 0  # the last count says all frames are done
    assert not [e for e in events if e[1] == "photo.jpg" and e[0] == "frames"]


def test_the_progress_relay_drops_counts_for_finished_files():
    import multiprocessing

    seen: list[tuple[str, int]] = []
    frames = multiprocessing.get_context("spawn").Queue()
    relay = executor._ProgressRelay(frames, lambda path, done, expected: seen.append((path.name, done)))
    relay.finished(Path("done.mp4"))
    frames.put((Path("done.mp4"), 5, 10))
    frames.put((Path("busy.mp4"), 3, 10))
    relay.stop()
    assert seen == [("busy.mp4", 3)]
    assert not relay.thread.is_alive()


def test_video_codecs_get_the_budget_only_when_it_is_below_the_cores(four_cores: None):
    from redact.media.video import _codec_threads

    with thread_budget_of(1):
        assert _codec_threads() == 1
    with thread_budget_of(4):
        assert _codec_threads() is None  # FFmpeg's own choice, as before
