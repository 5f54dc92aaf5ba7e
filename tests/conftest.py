"""Suite-wide settings: offline model hubs, and markers for slow and GPU tests."""

import os

import pytest

# Tests must never reach a model hub: everything loads from the package or from tmp dirs.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SHARED_DATA = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")


def pytest_collection_modifyitems(config, items):
    slow_ok = os.environ.get("CONDENSER_SLOW") == "1"
    try:
        import torch

        gpu_ok = torch.cuda.is_available()
    except ImportError:
        gpu_ok = False
    for item in items:
        if "slow" in item.keywords and not slow_ok:
            item.add_marker(pytest.mark.skip(reason="slow test: set CONDENSER_SLOW=1 to run"))
        if "gpu" in item.keywords and not gpu_ok:
            item.add_marker(pytest.mark.skip(reason="needs a CUDA GPU (none on this machine)"))


@pytest.fixture(scope="session")
def shared_data() -> str:
    """The read-only evaluation data beside the repo (../shared/data); skips if absent."""
    path = os.path.abspath(SHARED_DATA)
    if not os.path.isdir(path):
        pytest.skip(f"shared data not found at {path}")
    return path
