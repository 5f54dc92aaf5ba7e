"""The ``evals.cli`` typer app (mounted as ``condenser eval``)."""

import json

from typer.testing import CliRunner

from evals.cli import app

runner = CliRunner()


def test_longbench_command_runs_and_resumes(longbench_file, tmp_path):
    out = tmp_path / "run"
    args = ["longbench", "--data", str(longbench_file), "--methods", "truncate", "--rates", "0.5,0.2",
            "--limit", "1", "--out", str(out), "--quiet"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "truncate" in result.output and "6 new" in result.output
    config = json.loads((out / "config.json").read_text())
    assert (config["rates"], config["limit"], config["reader"]) == ([0.5, 0.2], 1, "oracle-retention")
    again = runner.invoke(app, args)
    assert "0 new, 6 already done" in again.output


def test_zeroscrolls_command(zeroscrolls_dir, tmp_path):
    args = [
        "zeroscrolls",
        "--data",
        str(zeroscrolls_dir),
        "--methods",
        "none",
        "--out",
        str(tmp_path / "z"),
        "--quiet",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "z" / "summary.md").read_text().count("| none |") >= 3


def test_bad_reader_and_missing_data_exit_with_message(longbench_file, tmp_path):
    bad = runner.invoke(
        app, ["longbench", "--data", str(longbench_file), "--reader", "gpt", "--out", str(tmp_path / "a")]
    )
    assert bad.exit_code == 2 and "unknown reader" in bad.output
    missing = runner.invoke(
        app, ["longbench", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "b")]
    )
    assert missing.exit_code == 2 and "no such data" in missing.output


def test_report_rewrites_summary_from_results(longbench_file, tmp_path):
    out = tmp_path / "run"
    runner.invoke(
        app, ["longbench", "--data", str(longbench_file), "--methods", "none", "--out", str(out), "--quiet"]
    )
    (out / "summary.md").unlink()
    result = runner.invoke(app, ["report", str(out)])
    assert result.exit_code == 0, result.output
    assert "| none | 1 |" in (out / "summary.md").read_text()
    assert runner.invoke(app, ["report", str(tmp_path / "nope")]).exit_code == 2
