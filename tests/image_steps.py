"""docker/Dockerfile's build steps performed without Docker (no engine on this machine kind).

``build_image(folder)`` reads the Dockerfile, copies exactly what the build stage's COPY lines
copy into ``folder/src``, makes a fresh virtualenv ``folder/venv`` (the image's /opt/venv) and
runs the build stage's ``pip install`` line in it. What is honest and what is fast:

- The package itself is built from the copied files alone, with pip's build isolation as in
  the image, so a package that pyproject.toml ships but the Dockerfile does not copy is
  missing from the install.
- The dependencies are not downloaded again: the venv sees, through a ``.pth`` file, a folder
  of links to the distributions that the running test environment holds *and that backorders
  requires* (its requirements' closure, extras included), nothing else (no pytest, no httpx).
  pip still resolves every requirement against ``-c constraints.txt``; one that those links
  do not satisfy at the pinned version is fetched as it would be in the image.

This module has no pytest imports; ``tests/integration/test_docker_files.py`` drives it.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "docker" / "Dockerfile"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, comments dropped and continuation lines joined."""
    result: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, rest = (pending + line).partition(" ")
        pending = ""
        result.append((keyword.upper(), rest.strip()))
    return result


def stage(name: str, text: str | None = None) -> list[tuple[str, str]]:
    """The instructions of the stage ``FROM ... AS name``, its FROM line first."""
    found: list[tuple[str, str]] = []
    for keyword, rest in instructions(text or DOCKERFILE.read_text(encoding="utf-8")):
        if keyword == "FROM":
            if found:
                break
            if re.search(rf"\s+AS\s+{re.escape(name)}$", rest, re.IGNORECASE):
                found.append((keyword, rest))
        elif found:
            found.append((keyword, rest))
    assert found, f"no stage {name!r} in the Dockerfile"
    return found


def argv_of(rest: str) -> list[str]:
    """An instruction's arguments, JSON (exec) form or shell form."""
    return list(json.loads(rest)) if rest.startswith("[") else shlex.split(rest)


def perform_copy(rest: str, context: Path, workdir: Path) -> list[Path]:
    """One ``COPY [--flags] SRC... DEST`` from the build context into ``workdir``, as Docker
    does it: a directory's contents go into DEST, files into DEST/ (or DEST itself)."""
    words = [word for word in argv_of(rest) if not word.startswith("--")]
    assert len(words) >= 2, f"COPY needs a source and a destination: {rest!r}"
    *sources, destination = words
    target = workdir / destination
    many = len(sources) > 1 or destination.endswith("/")
    copied: list[Path] = []
    for pattern in sources:
        matches = sorted(glob.glob(str(context / pattern)))
        assert matches, f"COPY {pattern}: nothing in the build context matches"
        for match in map(Path, matches):
            if match.is_dir():
                shutil.copytree(match, target, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                into = target / match.name if many or target.is_dir() else target
                into.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(match, into)
            copied.append(target)
    return copied


def runtime_closure(pyproject: Path) -> list[metadata.Distribution]:
    """The installed distributions that the project of ``pyproject`` needs at run time: its
    dependencies and theirs, extras included. One not installed here is left to pip."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    todo = [Requirement(line) for line in project["dependencies"]]
    seen: set[tuple[str, frozenset[str]]] = set()
    found: dict[str, metadata.Distribution] = {}
    while todo:
        requirement = todo.pop()
        key = (canonicalize_name(requirement.name), frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        try:
            dist = found[key[0]] = metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError:
            continue
        for line in dist.requires or []:
            needed = Requirement(line)
            extras = requirement.extras or {""}
            if needed.marker is None or any(needed.marker.evaluate({"extra": extra})
                                            for extra in extras):
                todo.append(needed)
    return list(found.values())


def link_distributions(dists: list[metadata.Distribution], folder: Path) -> None:
    """A site folder of links to each distribution's top-level files and its metadata."""
    folder.mkdir(parents=True)
    for dist in dists:
        base = Path(str(dist.locate_file("")))
        tops = {Path(str(file)).parts[0] for file in dist.files or []}
        for top in sorted(tops - {"..", "__pycache__"}):
            link = folder / top
            if not link.exists() and (base / top).exists():
                link.symlink_to(base / top)


@dataclass
class Image:
    """The built image's file system, as far as the tests need it."""

    src: Path
    venv: Path
    app: Path
    """An empty working directory outside the repository (the image's WORKDIR /app)."""

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    @property
    def path(self) -> str:
        """PATH as the image sets it: the virtualenv's bin first."""
        return f"{self.bin}:{os.environ.get('PATH', '/usr/bin:/bin')}"

    def command(self, argv: list[str]) -> list[str]:
        """An argv as the image's PATH (/opt/venv/bin first) would resolve it."""
        found = shutil.which(argv[0], path=self.path)
        assert found, f"{argv[0]} is not on the image's PATH"
        return [found, *argv[1:]]


def build_image(folder: Path, pip_quiet: bool = True) -> Image:
    build = stage("build")
    src, venv, deps, app = (folder / name for name in ("src", "venv", "deps", "app"))
    workdir = Path("/")
    for keyword, rest in build[1:]:
        if keyword == "WORKDIR":
            workdir = Path(rest)
            assert workdir == Path("/src"), "the build stage's WORKDIR moved: update image_steps"
            src.mkdir(parents=True, exist_ok=True)
        elif keyword == "COPY":
            perform_copy(rest, ROOT, src)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    link_distributions(runtime_closure(src / "pyproject.toml"), deps)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(venv)}))
    (site / "image-deps.pth").write_text(f"{deps}\n", encoding="utf-8")
    for args in pip_installs(build):
        subprocess.run(
            [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
             "--no-compile", *(["-q"] if pip_quiet else []), *args],
            cwd=src, check=True, env=clean_environment(),
        )
    app.mkdir()
    return Image(src=src, venv=venv, app=app)


def pip_installs(build: list[tuple[str, str]]) -> list[list[str]]:
    """The arguments of every ``pip install`` the build stage's RUN lines make."""
    found = []
    for keyword, rest in build:
        if keyword != "RUN":
            continue
        for command in re.split(r"&&|;", rest):
            words = shlex.split(command)
            if words[:2] == ["pip", "install"]:
                found.append(words[2:])
            elif words[:4] == ["python", "-m", "pip", "install"]:
                found.append(words[4:])
    assert found, "the build stage runs no pip install"
    return found


def clean_environment(**extra: str) -> dict[str, str]:
    """This environment without what points at the repository or its settings."""
    keep = {key: value for key, value in os.environ.items()
            if key not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}
            and not key.startswith("BACKORDERS_")}
    return {**keep, **extra}
