"""Atomic writes behave like open(path, "w") for the user, without half-written files
(issue 10, findings 4 and 11)."""

import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tinygrad_hw.nn import MLP
from tinygrad_hw.serialize import load, save
from tinygrad_hw.train import History

try:
    from tinygrad_hw.atomic import write_atomic
except ImportError:  # before the module existed, the same function lived in serialize
    from tinygrad_hw.serialize import write_atomic


def _files(folder):
    return sorted(p.name for p in folder.iterdir())


def test_a_private_file_stays_private(tmp_path):
    path = tmp_path / "model.json"
    save(MLP(2, [1], seed=0), path)
    path.chmod(0o600)
    save(MLP(2, [1], seed=1), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o640)
    History(loss=[0.5]).save(path.with_suffix(".csv"))
    write_atomic(path, "{}")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_a_symlink_is_written_through_to_its_target(tmp_path):
    real = tmp_path / "models" / "real.json"
    real.parent.mkdir()
    save(MLP(2, [1], seed=0), real)
    link = tmp_path / "latest.json"
    link.symlink_to(real)
    save(MLP(2, [1], seed=7), link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert load(real).parameters()[0].data == MLP(2, [1], seed=7).parameters()[0].data
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "models" / "new.json")
    write_atomic(dangling, "new")  # as open() does, the link's target is created
    assert dangling.is_symlink() and (tmp_path / "models" / "new.json").read_text() == "new"


def _write_as_another_user(path):
    """Try write_atomic(path) as the unprivileged user 'nobody' (we are root)."""
    pid = os.fork()
    if pid == 0:  # the child drops root, tries, and reports by its exit status
        code = 3
        try:
            os.setgid(65534)
            os.setuid(65534)
            probe = path.parent / "probe"
            probe.write_text("the folder is writable to this user")  # so a refusal is about the file
            probe.unlink()
            write_atomic(path, "overwritten")
            code = 0
        except PermissionError as error:
            code = 1 if str(path) in str(error) and ".tghw-" not in str(error) else 2
        except BaseException:
            code = 4
        finally:
            os._exit(code)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def test_a_file_the_user_may_not_write_is_refused_and_kept(tmp_path):
    base = Path(tempfile.mkdtemp())  # outside pytest's private folders, so another user can reach it
    try:
        base.chmod(0o755)
        folder = base / "shared"
        folder.mkdir()
        folder.chmod(0o777)  # anyone may create files here, but this one is read-only to them
        path = folder / "model.json"
        path.write_text("precious")
        if os.geteuid() == 0:
            path.chmod(0o644)
            assert _write_as_another_user(path) == 1  # PermissionError naming the user's path
        else:
            path.chmod(0o444)
            with pytest.raises(PermissionError) as caught:
                write_atomic(path, "overwritten")
            assert str(path) in str(caught.value) and ".tghw-" not in str(caught.value)
        assert path.read_text() == "precious"
        assert _files(folder) == ["model.json"]
    finally:
        shutil.rmtree(base)


def test_errors_name_the_users_path_not_the_temporary_file(tmp_path):
    with pytest.raises(FileNotFoundError) as caught:
        write_atomic(tmp_path / "no" / "such" / "folder.json", "x")
    assert "folder.json" in str(caught.value)
    with pytest.raises(IsADirectoryError) as caught:
        write_atomic(tmp_path, "x")
    assert str(tmp_path) in str(caught.value)

    def fails(f):
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full") as caught:
        write_atomic(tmp_path / "out.png", writer=fails)
    assert "out.png" in str(caught.value) and ".tghw" not in str(caught.value)
    assert _files(tmp_path) == []


def test_a_long_legal_file_name_can_be_written(tmp_path):
    name = "m" * 245 + ".json"  # 250 characters, under the usual 255-byte limit
    save(MLP(2, [1], seed=0), tmp_path / name)
    assert _files(tmp_path) == [name]


def test_no_temporary_file_survives_an_exception_or_an_interrupt(tmp_path):
    def interrupted(f):
        f.write(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(tmp_path / "a.txt", writer=interrupted)
    with pytest.raises(ZeroDivisionError):
        write_atomic(tmp_path / "a.txt", writer=lambda f: 1 / 0)
    assert _files(tmp_path) == []


def test_leftovers_of_killed_writers_are_recognised_and_removed_by_the_next_write(tmp_path):
    code = (
        "import sys, time\n"
        "from tinygrad_hw.atomic import write_atomic\n"
        "def stall(f):\n"
        "    f.write(b'partial'); f.flush(); print('writing', flush=True); time.sleep(60)\n"
        f"write_atomic({str(tmp_path / 'model.json')!r}, writer=stall)\n"
    )
    for _ in range(3):
        child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline() == "writing\n"
        child.kill()  # kill -9 in the middle of a write
        child.wait()
        child.stdout.close()
        leftovers = _files(tmp_path)  # each write removed the one killed before it
        assert len(leftovers) == 1 and leftovers[0].startswith(".tghw-") and len(leftovers[0]) < 40
    old = tmp_path / ".tghw-1-stale.tmp"  # pid 1 lives, but a day-old leftover is stale anyway
    old.write_text("x")
    day_ago = time.time() - 2 * 86400
    os.utime(old, (day_ago, day_ago))
    save(MLP(2, [1], seed=0), tmp_path / "model.json")
    assert _files(tmp_path) == ["model.json"]


def test_text_and_bytes_and_a_writer(tmp_path):
    write_atomic(tmp_path / "t.txt", "σ'(x)")
    write_atomic(tmp_path / "b.bin", b"\x00\x01")
    write_atomic(tmp_path / "w.bin", writer=lambda f: f.write(b"abc"))
    assert (tmp_path / "t.txt").read_text(encoding="utf-8") == "σ'(x)"
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01" and (tmp_path / "w.bin").read_bytes() == b"abc"
