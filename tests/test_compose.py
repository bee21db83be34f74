"""docker-compose.yml and the Dockerfile, checked without a Docker engine.

Loads the compose file and checks the services, volumes and health check, that every command it
runs is a real entry point of this package, and that every environment name it sets is a setting
the code reads.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from indexing.settings import Settings

REPO = Path(__file__).resolve().parent.parent
SETTINGS = {name.upper() for name in Settings.model_fields}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def test_services_and_volumes(compose: dict) -> None:
    services = compose["services"]
    assert set(services) == {"qdrant", "bot", "indexer"}
    assert "qdrant_storage" in compose["volumes"]
    for name in ("bot", "indexer"):
        assert services[name]["build"] == "."
        assert services[name]["environment"]["QDRANT_URL"] == "http://qdrant:6333"
        assert services[name]["depends_on"]["qdrant"]["condition"] == "service_healthy"
        assert services[name]["restart"] in {"unless-stopped", "always"}
        mounts = services[name]["volumes"]
        assert any(mount.endswith(":/data/articles") for mount in mounts)
    assert services["bot"]["environment"]["TELEGRAM_BOT_TOKEN"].startswith("${TELEGRAM_BOT_TOKEN")


def test_qdrant_service(compose: dict) -> None:
    qdrant = compose["services"]["qdrant"]
    image, tag = qdrant["image"].split(":")
    assert image == "qdrant/qdrant"
    assert re.fullmatch(r"v\d+\.\d+\.\d+", tag), "pin an exact Qdrant version"
    assert qdrant["ports"] == ["127.0.0.1:6333:6333"], "REST port only on loopback"
    assert any(volume.startswith("qdrant_storage:") for volume in qdrant["volumes"])
    assert "QDRANT__SERVICE__API_KEY" in qdrant["environment"]
    check = " ".join(qdrant["healthcheck"]["test"])
    assert "curl" not in check and "wget" not in check and "/dev/tcp/127.0.0.1/6333" in check
    assert "/readyz" in check


def _python_module_commands(compose: dict) -> list[list[str]]:
    commands = []
    for service in compose["services"].values():
        command = service.get("command")
        if command:
            assert isinstance(command, list), "use the exec form"
            assert command[:2] == ["python", "-m"]
            commands.append(command[2:])
    dockerfile_cmd = re.search(r"^CMD (\[.*\])$", (REPO / "Dockerfile").read_text(), re.M)
    assert dockerfile_cmd
    commands.append(yaml.safe_load(dockerfile_cmd.group(1))[2:])
    return commands


def test_every_command_is_a_real_entry_point(compose: dict) -> None:
    for module, *args in _python_module_commands(compose):
        spec = importlib.util.find_spec(module)
        assert spec is not None, f"{module} is not importable"
        if spec.submodule_search_locations:  # a package: needs __main__
            assert importlib.util.find_spec(f"{module}.__main__") is not None
        result = subprocess.run(
            [sys.executable, "-m", module, *(args[:1]), "--help"],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=REPO,
        )
        assert result.returncode == 0, f"python -m {module} {' '.join(args[:1])} --help failed: {result.stderr[-500:]}"


def test_environment_names_are_settings(compose: dict) -> None:
    for name, service in compose["services"].items():
        if name == "qdrant":
            continue
        unknown = set(service["environment"]) - SETTINGS
        assert not unknown, f"{name} sets {unknown}, which the code does not read"
    env_lines = re.findall(r"^ENV (.+?)(?<!\\)$", (REPO / "Dockerfile").read_text(), re.M | re.S)
    names = set(re.findall(r"([A-Z][A-Z0-9_]+)=", " ".join(env_lines)))
    runtime = {"PYTHONUNBUFFERED", "PIP_NO_CACHE_DIR", "PIP_DISABLE_PIP_VERSION_CHECK", "HF_HUB_OFFLINE"}
    runtime |= {"TOKENIZERS_PARALLELISM"}
    assert names - runtime <= SETTINGS


def test_dockerfile_installs_cpu_torch_first() -> None:
    text = (REPO / "Dockerfile").read_text()
    torch_at = text.index("torch==2.13.0")
    assert "whl/cpu" in text[torch_at : text.index("\n", torch_at)]
    assert torch_at < text.index("pip install .")
