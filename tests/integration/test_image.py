"""The container image, checked without Docker: its build stage is replayed here exactly as
docker/Dockerfile writes it (the same COPY lines, the same pip command), into a fresh
virtual environment outside the checkout, where every module must import, every data file
the code reads must be installed, and the command line must start. The final stage must run
as an unprivileged user and keep its data directory in a volume."""

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(900)  # a fresh virtual environment installs every dependency

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "docker" / "Dockerfile"
VENV_IN_IMAGE = "/opt/procurement"
PACKAGES = [
    "schemas",
    "procurement",
    "bidding",
    "contracts",
    "publication",
    "adapters",
    "app",
    "readmodels",
    "sdk",
    "entrypoints",
]


def stages(text: str) -> list[list[tuple[str, str]]]:
    """The Dockerfile's stages, each a list of (instruction, arguments), continuations joined."""
    joined = text.replace("\\\n", " ")
    found: list[list[tuple[str, str]]] = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, arguments = line.partition(" ")
        if instruction.upper() == "FROM":
            found.append([])
        found[-1].append((instruction.upper(), arguments.strip()))
    return found


def build_like_the_image(work: Path) -> Path:
    """The build stage's COPY and RUN lines, with /opt/procurement a venv under ``work``."""
    build, _final = stages(DOCKERFILE.read_text())
    source, venv = work / "src", work / "venv"
    source.mkdir()
    for instruction, arguments in build:
        if instruction == "COPY":
            *sources, target = shlex.split(arguments)
            destination = source / target
            for name in sources:
                origin = ROOT / name
                if origin.is_dir():
                    shutil.copytree(
                        origin, destination, ignore=shutil.ignore_patterns("__pycache__")
                    )
                else:
                    destination.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(origin, destination / origin.name)
        elif instruction == "RUN":
            command = arguments.replace(VENV_IN_IMAGE, str(venv))
            command = command.replace("python -m venv", f"{sys.executable} -m venv")
            subprocess.run(command, shell=True, cwd=source, check=True, env=_clean_env())
    return venv


def _clean_env() -> dict[str, str]:
    """Nothing of the checkout's own environment: no PYTHONPATH, no active virtualenv."""
    keep = ("PATH", "HOME", "LANG", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    env["PATH"] = os.pathsep.join(
        part for part in env.get("PATH", "").split(os.pathsep) if ".venv" not in part
    )
    return env | {"PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def tracked_package_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", *PACKAGES], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.split()
    return sorted(name for name in listed if (ROOT / name).is_file())


CHECK = """
import importlib, json, pkgutil, sys
from importlib import metadata
packages = sys.argv[1].split()
failed = {}
for package in packages:
    root = importlib.import_module(package)
    for module in pkgutil.walk_packages(root.__path__, f"{package}."):
        if module.name.endswith(".__main__"):  # runs the command line when imported
            continue
        try:
            importlib.import_module(module.name)
        except Exception as error:
            failed[module.name] = f"{type(error).__name__}: {error}"
installed = sorted(str(f) for f in metadata.distribution("procurement-platform").files)
origin = {package: importlib.import_module(package).__file__ for package in packages}
print(json.dumps({"failed": failed, "installed": installed, "origin": origin}))
"""


@pytest.fixture(scope="module")
def image_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_like_the_image(tmp_path_factory.mktemp("image"))


def test_every_module_imports_from_the_installed_package(image_venv: Path, tmp_path: Path) -> None:
    import json

    ran = subprocess.run(
        [str(image_venv / "bin" / "python"), "-c", CHECK, " ".join(PACKAGES)],
        cwd=tmp_path,  # not the checkout: only what the package installed can be imported
        env=_clean_env(),
        capture_output=True,
        text=True,
    )
    assert ran.returncode == 0, ran.stderr
    found = json.loads(ran.stdout)
    assert found["failed"] == {}
    for package, location in found["origin"].items():
        assert location.startswith(str(image_venv)), f"{package} came from {location}"
    installed = set(found["installed"])
    missing = [name for name in tracked_package_files() if name not in installed]
    assert missing == [], f"in the repository but not in the image: {missing}"


def test_the_command_line_starts(image_venv: Path, tmp_path: Path) -> None:
    for command in (["--help"], ["api", "--help"], ["worker", "--help"], ["up", "--help"]):
        ran = subprocess.run(
            [str(image_venv / "bin" / "procurement"), *command],
            cwd=tmp_path,
            env=_clean_env(),
            capture_output=True,
            text=True,
        )
        assert ran.returncode == 0, ran.stderr


def test_the_image_runs_unprivileged_with_its_data_in_a_volume() -> None:
    _build, final = stages(DOCKERFILE.read_text())
    told = dict(final)
    user = told["USER"].split(":")[0]
    assert user not in ("0", "root"), "the image must not run as root"
    assert int(user) >= 1000
    volumes = told["VOLUME"]
    environment = " ".join(arguments for instruction, arguments in final if instruction == "ENV")
    data_dir = environment.split("PROCUREMENT_DATA_DIR=")[1].split()[0]
    assert any(
        data_dir.startswith(volume) for volume in shlex.split(volumes.strip("[]").replace(",", " "))
    )
    assert shlex.split(told["CMD"].strip("[]").replace(",", " "))[:2] == ["procurement", "api"]
