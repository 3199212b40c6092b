"""Hostile files (issue 11, points 7, 8, 9 and the backup of point 11): what a user names
that is not a regular file, a second local user who can write to a shared folder or to
the config file, and a disk that fills up in the middle of a save.

Every attack happens in ``tmp_path``: a named pipe (FIFO) made with ``os.mkfifo`` and
symbolic links to it stand in for device nodes; nothing touches a real device or a
system path. What is asserted is what the user sees through ``casewatch.cli.main`` (the
message, the exit status) and what is left on disk.
"""

from __future__ import annotations

import errno
import grp
import os
import pwd
import re
import stat
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path

import pytest

from casewatch.cases import US_EASTERN
from casewatch.cli import main
from casewatch.receipts import parse_receipt_number
from casewatch.watchlist import Watchlist, backup_path, reading
from casewatch.watchlist.writing import digest_path

NOW = datetime(2026, 11, 29, 9, 30, tzinfo=US_EASTERN)
MiB = 1024 * 1024

FIRST = "EAC9999103403"
SECOND = "EAC9999103402"
THIRD = "WAC2190012345"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``casewatch ARGV``: (exit status, stdout, stderr)."""
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@contextmanager
def fed(fifo: Path) -> Iterator[None]:
    """A writer waiting on the named pipe ``fifo``: should casewatch open it to read, it
    gets a line that is not TOML and the end of the file (so a casewatch that reads it
    fails the test's assertions instead of hanging). On leaving, the test opens the pipe
    itself so that the writer never waits for ever."""

    def feed() -> None:
        fd = os.open(fifo, os.O_WRONLY)  # waits for a reader
        os.write(fd, b"read from a pipe [[[\n")
        os.close(fd)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    try:
        yield
    finally:
        reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        writer.join()
        os.close(reader)


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


def saved(tmp_path: Path, *receipts: str) -> Path:
    """A watchlist in ``tmp_path`` holding ``receipts``, saved once after each is added
    (so the backup holds all but the last)."""
    path = tmp_path / "w.toml"
    watchlist = Watchlist(path)
    for receipt in receipts:
        watchlist.add(parse_receipt_number(receipt), added_at=NOW)
        watchlist.save()
    return path


def as_another_user(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``path`` (not followed if a link) belong to someone other than the user:
    given to ``nobody`` when the tests run as root, else by making casewatch believe it
    runs as another user id."""
    if os.geteuid() == 0:
        os.lchown(path, 65534, -1)
    else:
        uid = os.geteuid() + 1
        monkeypatch.setattr("casewatch.files.os.geteuid", lambda: uid)


@pytest.fixture
def shared_group(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every group has other members than the user (as a team's group has), so a
    group-writable file or folder is one others can write."""
    monkeypatch.setattr(
        "casewatch.files.grp.getgrgid",
        lambda gid: grp.struct_group(("legal", "x", gid, ["alice", "bob"])),
    )


# --- 7. files that are not files --------------------------------------------------------------


@pytest.mark.parametrize("verb", [["list"], ["add", FIRST], ["remove", FIRST], ["export"]])
@pytest.mark.parametrize("linked", [False, True])
def test_a_pipe_named_as_the_watchlist_is_refused_without_waiting(
    capsys: pytest.CaptureFixture[str], fifo: Path, verb: list[str], linked: bool
) -> None:
    named = fifo
    if linked:  # a symbolic link to a device is read through, and refused the same
        named = fifo.with_name("w.toml")
        named.symlink_to(fifo)
    with fed(fifo):
        code, out, err = run(capsys, *verb, "--watchlist", str(named))
    assert code == 2 and out == ""
    assert f"the watchlist {named} is a named pipe (FIFO), not a regular file" in err
    assert "name a regular file instead" in err
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert named.is_symlink() == linked


@pytest.mark.parametrize("linked", [False, True])
def test_export_never_replaces_a_pipe_or_a_link_to_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, fifo: Path, linked: bool
) -> None:
    watchlist = saved(tmp_path, FIRST)
    output = fifo
    if linked:
        output = tmp_path / "cases.csv"
        output.symlink_to(fifo)
    code, out, err = run(capsys, "export", "--output", str(output), "--watchlist", str(watchlist))
    assert code == 1 and out == ""
    assert f"{fifo} is a named pipe (FIFO), not a regular file" in err
    assert "Errno" not in err
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert output.is_symlink() == linked
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_save_refuses_a_pipe_put_in_place_of_the_watchlist_after_it_was_read(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = saved(tmp_path, FIRST)
    digest_path(path).unlink()  # as by hand: read whole, then saved (no quick add)
    real_load = Watchlist.load

    def load_then_swap(target: Path) -> Watchlist:
        loaded = real_load(target)
        target.unlink()
        os.mkfifo(target)
        pipes.enter_context(fed(target))
        return loaded

    monkeypatch.setattr(Watchlist, "load", staticmethod(load_then_swap))
    with ExitStack() as pipes:
        code, _, err = run(capsys, "add", SECOND, "--watchlist", str(path))
    assert code == 1
    assert f"the watchlist {path} is a named pipe (FIFO), not a regular file" in err
    assert "Nothing was added" in err
    assert stat.S_ISFIFO(path.lstat().st_mode)


def test_a_pipe_named_as_the_config_file_or_the_import_file_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, fifo: Path
) -> None:
    watchlist = tmp_path / "w.toml"
    with fed(fifo):
        code, _, err = run(capsys, "config", "--config", str(fifo))
    assert code == 2
    assert f"the config file {fifo} is a named pipe (FIFO), not a regular file" in err
    with fed(fifo):
        code, _, err = run(capsys, "import", str(fifo), "--watchlist", str(watchlist))
    assert code == 2
    assert f"{fifo} is a named pipe (FIFO), not a regular file" in err
    assert not watchlist.exists()


def test_a_folder_named_as_the_export_file_is_refused_as_not_a_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    watchlist = saved(tmp_path, FIRST)
    folder = tmp_path / "exports"
    folder.mkdir()
    code, _, err = run(capsys, "export", "--output", str(folder), "--watchlist", str(watchlist))
    assert code == 1
    assert f"{folder} is a folder, not a regular file" in err
    assert folder.is_dir() and not list(folder.iterdir())


def test_what_is_read_of_a_watchlist_is_bounded(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = saved(tmp_path, FIRST)
    with path.open("a") as handle:  # valid TOML past the bound: a long comment
        handle.write("# " + "x" * MiB + "\n")
    monkeypatch.setattr(reading, "WATCHLIST_MAX_BYTES", MiB)
    code, out, err = run(capsys, "list", "--watchlist", str(path))
    assert code == 2 and out == ""
    assert f"the watchlist {path} is larger than 1 MB" in err
    assert "check that this is the right file" in err


# --- 8. a shared folder -----------------------------------------------------------------------


def test_a_save_never_changes_the_mode_of_a_file_swapped_in_for_the_temporary_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("the victim's own file\n")
    victim.chmod(0o644)
    path = saved(tmp_path, FIRST)
    real_fsync = os.fsync

    def swap_then_fsync(fd: int) -> None:
        # Another user, between the write and the rest of the save, replaces the
        # temporary file with a link to a file of the victim's.
        (temporary,) = tmp_path.glob(".w.toml.*.tmp")
        temporary.unlink()
        temporary.symlink_to(victim)
        real_fsync(fd)

    monkeypatch.setattr("casewatch.files.os.fsync", swap_then_fsync)
    run(capsys, "add", SECOND, "--watchlist", str(path))
    assert stat.S_IMODE(victim.stat().st_mode) == 0o644
    assert victim.read_text() == "the victim's own file\n"


@pytest.mark.parametrize("verb", [["add", FIRST], ["export", "--output", "{folder}/cases.csv"]])
def test_a_save_into_a_folder_anyone_can_write_is_refused_unless_it_is_sticky(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, verb: list[str]
) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o777)
    watchlist = folder / "w.toml" if verb[0] == "add" else saved(tmp_path, FIRST)
    argv = [part.format(folder=folder) for part in verb]
    code, _, err = run(capsys, *argv, "--watchlist", str(watchlist))
    assert code == 1
    assert f"the folder {folder} can be written by any user and is not sticky" in err
    assert f"chmod go-w {folder}" in err and f"chmod +t {folder}" in err
    assert not list(folder.iterdir())
    folder.chmod(0o1777)  # sticky, as /tmp: others cannot rename or remove what is not theirs
    assert run(capsys, *argv, "--watchlist", str(watchlist))[0] == 0


def test_a_save_into_a_folder_a_shared_group_can_write_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, shared_group: None
) -> None:
    folder = tmp_path / "team"
    folder.mkdir()
    folder.chmod(0o770)
    code, _, err = run(capsys, "add", FIRST, "--watchlist", str(folder / "w.toml"))
    assert code == 1
    assert f"the folder {folder} can be written by the group legal and is not sticky" in err
    assert not list(folder.iterdir())


def test_a_folder_the_users_own_group_can_write_is_fine(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A system that gives each user a group of their own (umask 002): the group has no
    # other member, listed or by its primary group, as OpenSSH's StrictModes accepts.
    me = pwd.getpwuid(os.geteuid())
    monkeypatch.setattr(
        "casewatch.files.grp.getgrgid",
        lambda gid: grp.struct_group((me.pw_name, "x", gid, [])),
    )
    monkeypatch.setattr("casewatch.files.pwd.getpwall", lambda: [me])
    folder = tmp_path / "mine"
    folder.mkdir()
    folder.chmod(0o775)
    assert run(capsys, "add", FIRST, "--watchlist", str(folder / "w.toml"))[0] == 0


def test_a_save_into_a_folder_of_another_user_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "theirs"
    folder.mkdir()
    as_another_user(folder, monkeypatch)
    code, _, err = run(capsys, "add", FIRST, "--watchlist", str(folder / "w.toml"))
    assert code == 1
    assert f"the folder {folder} belongs to another user" in err
    assert not list(folder.iterdir())


def test_a_link_of_the_users_is_written_through_and_stays_a_link(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    synced = tmp_path / "synced"
    synced.mkdir()
    target = saved(synced, FIRST)
    link = tmp_path / "w.toml"
    link.symlink_to(target)
    assert run(capsys, "add", SECOND, "--watchlist", str(link))[0] == 0
    assert link.is_symlink()
    assert SECOND in target.read_text()
    assert backup_path(link).read_text().count("[[case]]") == 1


def test_a_link_another_user_made_is_not_written_through(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("the victim's own file\n")
    watchlist = saved(tmp_path, FIRST)
    output = tmp_path / "cases.csv"
    output.symlink_to(victim)
    as_another_user(output, monkeypatch)
    code, _, err = run(capsys, "export", "--output", str(output), "--watchlist", str(watchlist))
    assert code == 1
    assert f"{output} is a symbolic link made by another user" in err
    assert victim.read_text() == "the victim's own file\n" and output.is_symlink()


# --- 9. config trust ---------------------------------------------------------------------------

HOOK_CONFIG = 'env = "demo"\non_change = ["touch", "/nonexistent/hooked"]\n'


@pytest.mark.parametrize("mode", [0o666, 0o646, 0o602])
def test_a_config_file_anyone_can_write_is_refused_whatever_it_holds(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, mode: int
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(HOOK_CONFIG)
    config.chmod(mode)
    code, out, err = run(capsys, "config", "--config", str(config))
    assert code == 2 and out == ""
    assert f"the config file {config} can be changed by any user" in err
    assert f"chmod 600 {config}" in err
    assert stat.S_IMODE(config.stat().st_mode) == mode


def test_a_config_file_a_shared_group_can_write_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, shared_group: None
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(HOOK_CONFIG)
    config.chmod(0o660)
    code, _, err = run(capsys, "list", "--config", str(config))
    assert code == 2
    assert f"the config file {config} can be changed by the group legal" in err


def test_a_config_file_of_another_user_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(HOOK_CONFIG)
    config.chmod(0o644)
    as_another_user(config, monkeypatch)
    code, _, err = run(capsys, "config", "--config", str(config))
    assert code == 2
    assert f"the config file {config} belongs to another user" in err
    assert re.search(rf"chown \S+ {re.escape(str(config))}", err)  # the user's name


def test_a_config_file_in_a_folder_anyone_can_write_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    config = folder / "config.toml"
    config.write_text(HOOK_CONFIG)
    config.chmod(0o600)
    folder.chmod(0o777)
    code, _, err = run(capsys, "config", "--config", str(config))
    assert code == 2
    assert f"the folder {folder} can be written by any user and is not sticky" in err


def test_a_private_config_file_with_a_hook_is_accepted(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(HOOK_CONFIG)
    config.chmod(0o644)  # readable by others is fine without a secret; writable is not
    code, out, _ = run(capsys, "config", "--config", str(config))
    assert code == 0 and "touch /nonexistent/hooked" in out


# --- 11. the backup on a full disk ----------------------------------------------------------


def test_a_save_that_fails_on_a_full_disk_keeps_the_older_backup(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = saved(tmp_path, FIRST, SECOND)  # the backup holds FIRST alone
    older, current = backup_path(path).read_bytes(), path.read_bytes()

    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("casewatch.files.os.fsync", disk_full)
    code, _, err = run(capsys, "add", THIRD, "--watchlist", str(path))
    assert code == 1
    assert f"cannot write {path}: No space left on device. Nothing was added" in err
    assert path.read_bytes() == current
    assert backup_path(path).read_bytes() == older
    assert backup_path(path).stat().st_ino != path.stat().st_ino
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "w.toml",
        "w.toml.bak",
        "w.toml.lock",
        "w.toml.sha256",
    ]
