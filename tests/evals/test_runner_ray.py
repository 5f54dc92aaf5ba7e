"""``--ray``: the same run spread over a local Ray cluster (optional extra)."""

import builtins
import json

import pytest

from evals.runner import RunConfig, run


def test_missing_ray_gives_install_hint(longbench_file, tmp_path, monkeypatch):
    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray":
            raise ImportError("no ray")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    config = RunConfig(
        "longbench", ["truncate"], [0.5], data=str(longbench_file), out=str(tmp_path / "r"), ray=True
    )
    with pytest.raises(RuntimeError, match=r"pip install 'condenser\[ray\]'"):
        run(config, progress=False)


@pytest.mark.slow
def test_ray_run_matches_thread_run(longbench_file, tmp_path):
    pytest.importorskip("ray", reason="ray not installed (optional extra: condenser[ray])")
    common = {"methods": ["truncate"], "rates": [0.5], "data": str(longbench_file)}
    on_ray = run(RunConfig("longbench", out=str(tmp_path / "ray"), ray=True, **common), progress=False)
    threads = run(RunConfig("longbench", out=str(tmp_path / "thr"), **common), progress=False)
    assert on_ray.new == threads.new == 4 and not on_ray.errors

    def scores(result):
        rows = [json.loads(line) for line in (result.run_dir / "results.jsonl").read_text().splitlines()]
        return {r["key"]: (r["score"], r["compressed_tokens"]) for r in rows}

    assert scores(on_ray) == scores(threads)
