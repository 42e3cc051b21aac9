import pytest

from redact.config import FaceMethod, Settings, from_mapping, load_settings
from redact.errors import ExitCode, UsageError


def test_defaults_are_valid_and_irreversible():
    s = Settings()
    assert s.face_method is FaceMethod.BLUR
    assert s.mosaic_cells <= 5
    assert s.face_padding >= 0.3


@pytest.mark.parametrize(("key", "value"), [("face_threshold", 2.0), ("mosaic_cells", 12), ("face_padding", 0.1)])
def test_out_of_range_values_are_usage_errors_naming_the_key(key, value):
    with pytest.raises(UsageError) as info:
        from_mapping({key: value})
    assert key in str(info.value)
    assert info.value.exit_code is ExitCode.USAGE


def test_unknown_key_is_named():
    with pytest.raises(UsageError, match="unknown key 'face-thresh'"):
        from_mapping({"face-thresh": 0.5})


def test_wrong_type_is_named():
    with pytest.raises(UsageError, match="bad value for 'max_pixels'"):
        from_mapping({"max_pixels": "lots"})


def test_loads_tool_table_from_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.redact]\nface-method = "fill"\nface_threshold = 0.25\n')
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    s = load_settings(start=sub)
    assert s.face_method is FaceMethod.FILL
    assert s.face_threshold == 0.25


def test_redact_toml_wins_and_bad_toml_is_one_line(tmp_path):
    cfg = tmp_path / "redact.toml"
    cfg.write_text("face_method = [")
    with pytest.raises(UsageError) as info:
        load_settings(cfg)
    assert "\n" not in str(info.value)


def test_replace_ignores_none_and_validates():
    s = Settings().replace(face_threshold=None, face_method="pixelate")
    assert s.face_method is FaceMethod.PIXELATE
    with pytest.raises(UsageError):
        Settings().replace(max_pixels=10)


SECRET = "JANE DOE 48271930"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("text_deny", SECRET),  # a string where a list is expected
        ("text_allow", [SECRET, 5]),
        ("face_method", SECRET),
        ("face_threshold", SECRET),
        ("face_threshold", 48271930.0),  # out of range
        ("stages", ["faces", SECRET]),
        ("consent_store", 48271930),
        ("fill_color", [SECRET]),
        ("keep_audio", SECRET),
    ],
)
def test_config_errors_name_the_key_never_the_value(key, value):
    # text_deny/text_allow hold patient names: an error message must never repeat a value.
    with pytest.raises(UsageError) as info:
        from_mapping({key: value}, origin="redact.toml")
    message = str(info.value)
    assert key in message
    assert "JANE" not in message and "48271930" not in message


def test_toml_syntax_errors_never_quote_the_file(tmp_path):
    cfg = tmp_path / "redact.toml"
    cfg.write_text(f'text_deny = ["{SECRET}", "{SECRET}" "x"]\n')
    with pytest.raises(UsageError) as info:
        load_settings(cfg)
    assert "JANE" not in str(info.value) and "line 1" in str(info.value)


def test_cli_config_error_output_never_holds_a_value(tmp_path):
    from typer.testing import CliRunner

    from redact.cli import app

    (tmp_path / "redact.toml").write_text(f'text_deny = "{SECRET}"\n')
    result = CliRunner().invoke(app, ["check", "--config", str(tmp_path / "redact.toml"), str(tmp_path)])
    assert result.exit_code == ExitCode.USAGE
    assert "text_deny" in result.output and "JANE" not in result.output
