"""The consent store and matcher without dlib: file format, permissions, errors, expiry."""

from __future__ import annotations

import datetime as dt
import json
import stat
from pathlib import Path

import numpy as np
import pytest

from redact.config import load_settings
from redact.consent import ConsentMatcher, ConsentStore, default_store_path
from redact.consent.store import FORMAT, VERSION
from redact.errors import ExitCode, InputError, UsageError
from redact.types import Box, Finding, Kind

DAY = dt.date(2026, 11, 25)


def vec(seed: int) -> list[float]:
    v = np.random.default_rng(seed).normal(size=128)
    return (v / np.linalg.norm(v)).tolist()


def face(x: float = 0) -> Finding:
    return Finding(Kind.FACE, Box(x, 0, x + 100, 120), 0.9, "centerface", "FACE")


class FakeEncoder:
    """Returns a fixed encoding per face, by the face's x position."""

    def __init__(self, by_x: dict[float, list[float] | None]) -> None:
        self.by_x = by_x

    def encode(self, image: object, box: Box) -> np.ndarray | None:
        v = self.by_x[box.x0]
        return None if v is None else np.asarray(v)


def test_round_trip(tmp_path: Path):
    path = tmp_path / "consent.json"
    store = ConsentStore(path)
    store.add("Nurse A. Jones", [vec(1), vec(2)], expires=dt.date(2027, 1, 31), today=DAY)
    store.add("Dr B", [vec(3)], today=DAY)
    store.save()
    loaded = ConsentStore.load(path)
    assert sorted(loaded.people) == ["Dr B", "Nurse A. Jones"]
    jones = loaded.people["Nurse A. Jones"]
    assert jones.added == DAY and jones.expires == dt.date(2027, 1, 31)
    assert np.allclose(jones.encodings, [vec(1), vec(2)])
    data = json.loads(path.read_text())
    assert data["format"] == FORMAT and data["version"] == VERSION
    assert loaded.people["Dr B"].expires is None


def test_file_is_owner_only_and_new_folder_private(tmp_path: Path):
    path = tmp_path / "new" / "deeper" / "consent.json"
    store = ConsentStore(path)
    store.add("A", [vec(1)], today=DAY)
    store.save()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    # Rewriting keeps 0600 and leaves no temporary file behind.
    store.remove("A")
    store.save()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["consent.json"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "corrupt"),
        ('{"hello": "world"}', "not a redact consent store"),
        ("[1, 2]", "not a redact consent store"),
        (json.dumps({"format": FORMAT, "version": 99, "people": []}), "version 99 is not supported"),
        (
            json.dumps({"format": FORMAT, "version": 1, "encoding_model": "other", "people": []}),
            "another face model",
        ),
    ],
)
def test_corrupt_or_foreign_file_is_one_line_input_error(tmp_path: Path, content: str, message: str):
    path = tmp_path / "consent.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message) as err:
        ConsentStore.load(path)
    assert err.value.exit_code == ExitCode.BAD_INPUT
    assert "\n" not in str(err.value)
    assert path.read_text() == content  # never rewritten


def test_malformed_entry_is_corrupt(tmp_path: Path):
    path = tmp_path / "consent.json"
    store = ConsentStore(path)
    store.add("A", [vec(1)], today=DAY)
    store.save()
    data = json.loads(path.read_text())
    data["people"][0]["encodings"][0] = data["people"][0]["encodings"][0][:10]
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match=r"entry 1 is malformed"):
        ConsentStore.load(path)


def test_missing_store(tmp_path: Path):
    assert ConsentStore.load(tmp_path / "none.json", missing_ok=True).people == {}
    with pytest.raises(UsageError, match="consent store not found") as err:
        ConsentStore.load(tmp_path / "none.json")
    assert err.value.exit_code == ExitCode.USAGE


def test_duplicate_name_any_case(tmp_path: Path):
    store = ConsentStore(tmp_path / "c.json")
    store.add("Nurse Jones", [vec(1)], today=DAY)
    with pytest.raises(UsageError, match="already enrolled") as err:
        store.add("  nurse   JONES ", [vec(2)], today=DAY)
    assert err.value.exit_code == ExitCode.USAGE
    assert len(store.people["Nurse Jones"].encodings) == 1


def test_remove(tmp_path: Path):
    store = ConsentStore(tmp_path / "c.json")
    store.add("Nurse Jones", [vec(1)], today=DAY)
    assert store.remove("nurse jones").name == "Nurse Jones"
    assert store.people == {}
    with pytest.raises(UsageError, match="'Nurse Jones' is not enrolled"):
        store.remove("Nurse Jones")


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "tab\tname\x07"])
def test_bad_names(tmp_path: Path, name: str):
    with pytest.raises(UsageError):
        ConsentStore(tmp_path / "c.json").add(name, [vec(1)])


def test_expiry_day_itself_is_valid():
    store = ConsentStore(Path("unused.json"))
    person = store.add("A", [vec(1)], expires=DAY, today=DAY)
    assert not person.expired(DAY)
    assert person.expired(DAY + dt.timedelta(days=1))


def test_default_path_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_store_path() == tmp_path / "redact" / "consent.json"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_store_path() == tmp_path / "home" / ".local" / "share" / "redact" / "consent.json"


def test_config_key_is_relative_to_the_config_file(tmp_path: Path):
    (tmp_path / "redact.toml").write_text('consent_store = "team/consent.json"\n')
    assert load_settings(tmp_path / "redact.toml").consent_store == tmp_path / "team" / "consent.json"
    (tmp_path / "redact.toml").write_text("consent_store = 3\n")
    with pytest.raises(UsageError, match="bad value for 'consent_store'"):
        load_settings(tmp_path / "redact.toml")


def matcher(store: ConsentStore, by_x: dict[float, list[float] | None], today: dt.date = DAY) -> ConsentMatcher:
    return ConsentMatcher(store, encoder=FakeEncoder(by_x), today=today)  # type: ignore[arg-type]


def test_matcher_keeps_only_close_unexpired_faces():
    store = ConsentStore(Path("unused.json"))
    store.add("Jones", [vec(1)], today=DAY)
    store.add("Old", [vec(2)], expires=DAY - dt.timedelta(days=1), today=DAY - dt.timedelta(days=30))
    near = (np.asarray(vec(1)) + 0.01).tolist()
    m = matcher(store, {0: near, 200: vec(2), 400: vec(3), 600: None})
    assert [p.name for p in m.expired] == ["Old"]
    assert m.keep(np.zeros((10, 10, 3), np.uint8), [face(0), face(200), face(400), face(600)]) == [
        "Jones",  # close to an enrolled, unexpired person
        None,  # Old's consent has expired: covered
        None,  # a stranger
        None,  # not encodable (too small or blurred): covered
    ]


def test_matcher_threshold_is_strict():
    store = ConsentStore(Path("unused.json"))
    store.add("Jones", [[0.0] * 128], today=DAY)
    inside, outside = [0.0] * 128, [0.0] * 128
    inside[0], outside[0] = 0.39, 0.41
    m = ConsentMatcher(store, encoder=FakeEncoder({}), tolerance=0.4, today=DAY)  # type: ignore[arg-type]
    assert m.match(np.asarray(inside)) == "Jones"
    assert m.match(np.asarray(outside)) is None
    assert m.match(None) is None


def test_matcher_never_keeps_non_faces():
    store = ConsentStore(Path("unused.json"))
    store.add("Jones", [vec(1)], today=DAY)
    text = Finding(Kind.TEXT, Box(0, 0, 100, 120), 0.9, "ocr", "NAME")
    assert matcher(store, {0: vec(1)}).keep(np.zeros((4, 4, 3), np.uint8), [text]) == [None]
