"""What `pip install .` ships: every data file the code reads at run time."""

import tomllib
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_every_data_file_is_declared_as_package_data() -> None:
    """Files that are not Python in the installed packages match a package-data glob, so a
    non-editable install (the Docker image) has the OCDS codelists and the SQL schema."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    declared = config["tool"]["setuptools"]["package-data"]
    missing = []
    for package in config["tool"]["importlinter"]["root_packages"]:
        for path in (ROOT / package).rglob("*"):
            if not path.is_file() or path.suffix in {".py", ".pyc"} or "__pycache__" in path.parts:
                continue
            inside = path.relative_to(ROOT / package).as_posix()
            if not any(fnmatch(inside, glob) for glob in declared.get(package, [])):
                missing.append(f"{package}/{inside}")
    assert missing == []
