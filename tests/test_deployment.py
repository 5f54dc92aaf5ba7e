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
