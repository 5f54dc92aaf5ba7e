import json

from typer.testing import CliRunner

from condenser.cli import app

runner = CliRunner()
TEXT = " ".join(f"Line {i} says the code word is w{i}." for i in range(80))


def test_help_everywhere():
    for args in ([], ["compress"], ["methods"], ["serve"]):
        result = runner.invoke(app, [*args, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output


def test_compress_stdin_json():
    result = runner.invoke(app, ["compress", "-", "-q", "code word of line 7", "-t", "60", "-m", "extractive",
                                 "--json"], input=TEXT)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output.strip().splitlines()[-1])
    assert data["compressed_tokens"] <= 60 and "w7." in data["text"]


def test_compress_files_with_progress(tmp_path):
    paths = []
    for i in range(2):
        p = tmp_path / f"d{i}.txt"
        p.write_text(TEXT)
        paths.append(str(p))
    result = runner.invoke(app, ["compress", *paths, "-r", "0.3", "-m", "truncate"])
    assert result.exit_code == 0
    assert result.stdout.count("Line 0 says") == 2


def test_bad_input_exits_with_message(tmp_path):
    result = runner.invoke(app, ["compress", "-", "-r", "2"], input=TEXT)
    assert result.exit_code == 2 and "rate" in result.output
    result = runner.invoke(app, ["compress", str(tmp_path / "missing.txt")])
    assert result.exit_code != 0 and "no such file" in result.output


def test_methods_lists_builtins():
    result = runner.invoke(app, ["methods", "--json"])
    assert {"truncate", "condenser"} <= set(json.loads(result.output))
