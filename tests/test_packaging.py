"""The built-in theme is found however okrsite is installed, from any folder."""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False, timeout=600)
    assert proc.returncode == 0, f"{cmd}\n{proc.stdout}\n{proc.stderr}"
    return proc


def new_and_build(okrsite: list[str], workdir: Path) -> None:
    run([*okrsite, "new", "x"], workdir)
    proc = run([*okrsite, "build", "--site", "x", "--strict"], workdir)
    assert "0 errors, 0 warnings" in proc.stderr
    assert (workdir / "x" / "site" / "assets" / "style.css").is_file()
    assert (workdir / "x" / "site" / "index.html").is_file()


def test_current_install_works_from_another_folder(tmp_path):
    """The install the tests run under (editable in .ci/run)."""
    new_and_build([sys.executable, "-m", "okrsite"], tmp_path)


@pytest.mark.slow
def test_wheel_in_a_fresh_venv(tmp_path):
    wheels = tmp_path / "wheels"
    run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(REPO)],
        tmp_path,
    )
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    wheel = next(wheels.glob("okrsite-*.whl"))
    run([str(python), "-m", "pip", "install", "-q", str(wheel)], tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    new_and_build([str(env_dir / "bin" / "okrsite")], work)
    # Not the source checkout's theme: the wheel's own copy.
    out = run(
        [str(python), "-c", "import okrsite.render as r; print(r.builtin_themes_dir())"], work
    )
    assert str(REPO) not in out.stdout and "site-packages" in out.stdout
    shutil.rmtree(env_dir)
