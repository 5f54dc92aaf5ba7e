import json

import pytest
from typer.testing import CliRunner

from condenser import __version__
from condenser.cli import app

runner = CliRunner()
TEXT = " ".join(f"Line {i} says the code word is w{i}." for i in range(80))


def error_line(result) -> str:
    """The one line a failed command prints (CliRunner mixes stderr into ``output``)."""
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


def test_help_everywhere_and_version():
    for args in ([], ["compress"], ["methods"], ["serve"]):
        for flag in ("--help", "-h"):
            result = runner.invoke(app, [*args, flag])
            assert result.exit_code == 0 and "Usage" in result.output
    for flag in ("--version", "-V"):
        result = runner.invoke(app, [flag])
        assert result.exit_code == 0 and result.output.strip() == f"condenser {__version__}"


def test_compress_stdin_json():
    result = runner.invoke(app, ["compress", "-", "-q", "code word of line 7", "-t", "60", "-m", "extractive",
                                 "--json"], input=TEXT)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output.strip().splitlines()[-1])
    assert data["compressed_tokens"] <= 60 and "w7." in data["text"]


def test_several_files_are_headed_by_their_names(tmp_path):
    paths = []
    for i in range(2):
        p = tmp_path / f"d{i}.txt"
        p.write_text(f"File {i}. " + TEXT)
        paths.append(str(p))
    result = runner.invoke(app, ["compress", *paths, "-r", "0.3", "-m", "truncate"])
    assert result.exit_code == 0
    out = result.stdout
    assert out.count("Line 0 says") == 2
    assert out.index(f"==> {paths[0]} <==") < out.index("File 0.") < out.index(f"==> {paths[1]} <==") \
        < out.index("File 1.")


def test_several_files_with_json_give_one_array(tmp_path):
    paths = []
    for i in range(3):
        p = tmp_path / f"d{i}.txt"
        p.write_text(f"File {i}. " + TEXT)
        paths.append(str(p))
    result = runner.invoke(app, ["compress", *paths, "-t", "40", "-m", "truncate", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [d["file"] for d in data] == paths
    assert all(d["text"].startswith(f"File {i}.") and d["compressed_tokens"] <= 40 for i, d in enumerate(data))


def test_option_encoding_and_model_reach_the_method():
    base = ["compress", "-", "-q", "When did the Osk flood?", "-t", "20", "-m", "condenser", "--json"]
    story = TEXT + " The river Osk flooded the valley in 1953. " + TEXT
    bm25 = runner.invoke(app, [*base, "--option", "dense_weight=0", "-o", "coarse=false"], input=story)
    assert bm25.exit_code == 0, bm25.output
    assert "Osk flooded the valley in 1953" in json.loads(bm25.stdout)["text"]
    bad = runner.invoke(app, [*base, "-o", "hops=7"], input=story)
    assert bad.exit_code == 2 and error_line(bad).startswith("error: --option hops: must be")
    for flags, encoding in ((["--encoding", "o200k_base"], "o200k_base"), (["--model", "gpt-4o"], "o200k_base"),
                            ([], "cl100k_base")):
        result = runner.invoke(app, [*base, *flags], input=TEXT)
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["encoding"] == encoding


def test_directories_undecodable_and_missing_files_fail_in_one_line(tmp_path):
    binary = tmp_path / "image.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff")
    cases = [(str(tmp_path), "is a directory"), (str(binary), "not UTF-8 text (byte 0x89 at offset 0)"),
             (str(tmp_path / "missing.txt"), "no such file")]
    for path, says in cases:
        result = runner.invoke(app, ["compress", path, "-m", "truncate"])
        assert result.exit_code == 2
        assert error_line(result) == f"error: {path}: {says}" or says in error_line(result)
        assert "Traceback" not in result.output


@pytest.mark.parametrize(("args", "says"), [
    (["-r", "2"], "error: --rate must be in (0, 1]"),
    (["-r", "0.5", "-t", "10"], "error: give --rate or --target-tokens, not both"),
    (["-m", "truncate", "-t", "5", "--encoding", "nope"], "error: --encoding: encoding 'nope' is not available"),
    (["-m", "truncate", "-o", "bogus=1"], "error: --option: unknown option(s) for method 'truncate': bogus"),
    (["-o", "novalue"], "error: --option takes key=value, got 'novalue'"),
])
def test_errors_name_the_command_line_flags(args, says):
    result = runner.invoke(app, ["compress", "-", *args], input=TEXT)
    assert result.exit_code == 2
    line = error_line(result)
    assert line.startswith(says), line
    assert "target_tokens" not in line and "Traceback" not in result.output


def test_a_method_without_its_checkpoint_says_what_it_needs(tmp_path, monkeypatch):
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-hf"))
    result = runner.invoke(app, ["compress", "-", "-m", "llmlingua2", "-t", "20"], input=TEXT)
    assert result.exit_code == 2
    line = error_line(result)
    assert line.startswith("error: --method llmlingua2 is not ready: needs checkpoint microsoft/llmlingua-2")
    assert "hf download microsoft/llmlingua-2" in line and "--option model_path=/folder" in line


def test_option_model_path_runs_a_checkpoint_method(tmp_path):
    from tests.fixtures import tiny_models

    folder = tiny_models.bert_token_classifier(tmp_path / "bert")
    result = runner.invoke(app, ["compress", "-", "-m", "llmlingua2", "-o", f"model_path={folder}", "-t", "30",
                                 "--json"], input=TEXT)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["method"] == "llmlingua2" and 0 < data["compressed_tokens"] <= 30


def test_methods_marks_the_default_and_readiness(tmp_path, monkeypatch):
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-hf"))
    listed = json.loads(runner.invoke(app, ["methods", "--json"]).output)
    by_name = {m["name"]: m for m in listed}
    assert {"truncate", "condenser", "llmlingua2"} <= by_name.keys()
    assert [m["name"] for m in listed if m["default"]] == ["condenser"]
    assert by_name["condenser"]["ready"] and not by_name["exit"]["ready"]
    assert all(m["description"] for m in listed)

    text = runner.invoke(app, ["methods"]).output
    rows = {line.split()[1] if line.startswith("*") else line.split()[0]: line
            for line in text.splitlines() if line[:1] in "* " and line.strip() and not line.startswith("   ")}
    assert rows["condenser"].startswith("* condenser") and "ready" in rows["condenser"]
    assert "needs a checkpoint" in rows["provence"] and "hf download naver/provence" in text
    assert text.rstrip().endswith("* default (--method condenser)")
