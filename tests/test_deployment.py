"""The deployment files stay valid without a Docker engine: the compose file against the compose-spec schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
# compose_spec.json: the Compose Specification schema (Apache-2.0, github.com/compose-spec/compose-spec)
SCHEMA = Path(__file__).parent / "fixtures" / "compose_spec.json"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_file_follows_the_compose_spec(compose):
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft201909Validator(json.loads(SCHEMA.read_text())).validate(compose)


def test_api_and_redis_with_health_checks_volume_and_gpu_profile(compose):
    services = compose["services"]
    assert {"api", "api-gpu", "redis"} <= set(services)
    assert services["api"]["environment"]["CONDENSER_REDIS_URL"] == "redis://redis:6379/0"
    assert services["api"]["depends_on"]["redis"]["condition"] == "service_healthy"
    for name in ("api", "redis"):
        assert services[name]["healthcheck"]["test"]
    assert "redis-data" in compose["volumes"] and services["redis"]["volumes"][0].startswith("redis-data:")
    gpu = services["api-gpu"]
    assert gpu["profiles"] == ["gpu"]
    assert gpu["deploy"]["resources"]["reservations"]["devices"][0]["capabilities"] == ["gpu"]


def test_dockerfile_installs_cpu_torch_by_default_and_serves():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu" in dockerfile
    assert 'pip install --index-url "${TORCH_INDEX}" "torch==${TORCH_VERSION}"' in dockerfile
    assert '"condenser", "serve"' in dockerfile
    for package in ("compressor", "retriever", "pipelines", "api", "condenser"):
        assert f"COPY {package} {package}" in dockerfile


def test_every_service_setting_is_in_the_readme_table():
    from api.settings import Settings

    readme = (ROOT / "README.md").read_text()
    missing = [n for n in Settings.model_fields if f"| `CONDENSER_{n.upper()}` |" not in readme]
    assert not missing, f"settings missing from the README table: {missing}"


def test_gpu_service_gets_same_env(compose):
    """Both API services read one shared block: the GPU profile cannot run without proxy auth, upstream
    URLs, per-route keys or the rate limit again."""
    from api.settings import Settings

    api, gpu = (compose["services"][name]["environment"] for name in ("api", "api-gpu"))
    assert {k: v for k, v in gpu.items() if k != "CONDENSER_COMPRESS_CONCURRENCY"} == api
    for name in ("CONDENSER_API_KEYS", "CONDENSER_OPENAI_BASE_URL", "CONDENSER_ANTHROPIC_BASE_URL",
                 "CONDENSER_RATE_LIMIT_PER_MINUTE", "CONDENSER_UPSTREAM_API_KEYS", "CONDENSER_MODEL_ROUTES",
                 "CONDENSER_CHECKPOINTS"):
        assert name in gpu, name
    fields = {f"CONDENSER_{n.upper()}" for n in Settings.model_fields}
    assert set(gpu) <= fields, f"not settings: {set(gpu) - fields}"  # a misspelt variable is silently ignored
    text = (ROOT / "docker-compose.yml").read_text()
    assert text.count("<<: *condenser-env") == 2 and text.count("<<: *condenser-api") == 2
    assert compose["services"]["api-gpu"]["healthcheck"] == compose["services"]["api"]["healthcheck"]


def _host_ports(spec: str) -> range:
    """The host ports of a ``"${VAR:-8000-8009}:8000"`` mapping (the default of its variable)."""
    host = spec.rsplit(":", 1)[0]
    host = host.split(":-", 1)[1].rstrip("}") if host.startswith("${") else host
    first, _, last = host.partition("-")
    return range(int(first), int(last or first) + 1)


def test_scaled_replicas_get_their_own_host_ports(compose):
    """``--scale api=4`` needs four host ports (a fixed one collides); the GPU service's must not overlap."""
    api, gpu = (_host_ports(compose["services"][n]["ports"][0]) for n in ("api", "api-gpu"))
    assert len(api) >= 4 and len(gpu) >= 4 and api[0] == 8000
    assert not set(api) & set(gpu)
    assert all(compose["services"][n]["ports"][0].endswith(":8000") for n in ("api", "api-gpu"))
