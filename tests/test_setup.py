"""A newcomer's first hour: a fresh clone sets up quietly, and the README's commands run
there as printed, right after ``make demo``.

The clone is of the committed tree (``git clone`` of this checkout's HEAD: commit first).
Its ``.venv`` is made as ``make demo`` makes it, except that the dependencies come from
the running virtualenv (a path to its site-packages) instead of the network: the
package itself is installed with ``pip install -e`` as the Makefile does."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from optional import need

ROOT = Path(__file__).resolve().parent.parent


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done


def _outside_this_venv() -> dict[str, str]:
    """The environment of a new shell: nothing of the virtualenv running the tests on PATH."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    prefix = os.path.realpath(sys.prefix)
    paths = [p for p in env.get("PATH", os.defpath).split(os.pathsep) if not os.path.realpath(p).startswith(prefix)]
    env["PATH"] = os.pathsep.join(paths)
    env["MPLBACKEND"] = "Agg"
    return env


def _fresh_clone(tmp_path: Path) -> Path:
    need(None if shutil.which("git") else "git is missing: sudo apt-get install git")
    need(None if (ROOT / ".git").exists() else f"{ROOT} is not a git checkout: nothing to clone")
    need(None if shutil.which("make") else "make is missing: sudo apt-get install make")
    clone = tmp_path / "clone"
    _run(["git", "clone", "--quiet", str(ROOT), str(clone)], tmp_path)
    return clone


def _venv_as_make_makes_it(clone: Path) -> str:
    """``.venv`` with the package installed editable from the clone; returns pip's output."""
    venv = clone / ".venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], clone)
    python = venv / "bin" / "python"
    site = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], clone).stdout
    (Path(site.strip()) / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    pip = [str(python), "-m", "pip", "install", "--no-deps", "--no-build-isolation", "-e", "."]
    installed = _run(pip, clone, _outside_this_venv())
    (venv / ".installed").touch()  # the Makefile's stamp: what `make setup` would have left
    return installed.stdout + installed.stderr


def _command_section(readme: str) -> str:
    section = readme.split("## The command line", 1)[1]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


@pytest.mark.slow
def test_the_readmes_commands_run_as_printed_in_a_fresh_clone_after_make_demo(tmp_path):
    clone = _fresh_clone(tmp_path)
    pip_said = _venv_as_make_makes_it(clone)
    for noise in ("Editable installation", "may take precedence", "BuildBackendWarning"):
        assert noise not in pip_said, pip_said  # setuptools' warning about the layout, before pyproject said it
    env = _outside_this_venv()
    assert shutil.which("tinygrad-hw", path=env["PATH"]) is None  # as for a newcomer: nothing on PATH yet

    demo = _run(["make", "demo"], clone, env)
    assert "pip install" not in demo.stdout and "Accuracy: 100.0 %" in demo.stdout

    commands = _command_section((clone / "README.md").read_text(encoding="utf-8"))
    assert commands.splitlines()[0].startswith(". .venv/bin/activate")  # as printed: activation first
    ran = _run(["bash", "-e", "-c", commands], clone, env)
    assert "Traceback" not in ran.stdout + ran.stderr
    for made in ("out/stepthrough.html", "out/xor_model_graph.svg", "out/xor_model.json", "report/report.md"):
        assert (clone / made).is_file(), made
    assert "usage: tinygrad-hw" in ran.stdout  # the last command, --help, ran too


@pytest.mark.slow
def test_the_quiet_test_run_has_no_placeholder_from_xdist(tmp_path):
    tests = tmp_path / "tests"
    tests.mkdir()
    shutil.copy(ROOT / "tests" / "conftest.py", tests)
    shutil.copy(ROOT / "tests" / "optional.py", tests)
    (tests / "test_one.py").write_text("def test_one():\n    assert True\n")
    ran = _run([sys.executable, "-m", "pytest", "-q", "-n", "2", "-p", "no:cacheprovider", "tests"], tmp_path)
    assert "1 passed" in ran.stdout and "bringing up nodes" not in ran.stdout
