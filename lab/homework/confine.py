"""Confine the process that runs a student's code, from inside it, before any of it runs.

Run by ``runner.py`` in the child (standard library only; never imported by the grader).
Each step is the strongest the OS allows, and says what it managed, so that the output
can tell a teacher what was and was not isolated:

* ``isolate``: new network and process-id namespaces (with a user namespace when not
  root): no network, and when the first process ends every process it started dies;
* ``own_disk``: its folder becomes a tmpfs of a fixed size in a mount namespace of its
  own (the file size limit caps each file, not how many);
* ``limit``: CPU seconds, address space, file size, open files and processes;
* ``drop_root``: as root, a high uid of its own (so that the process limit holds: root is
  exempt from it), keeping only the right to read files (``CAP_DAC_READ_SEARCH``), since
  the interpreter may live in a folder only root may enter; Landlock decides what it reads;
* ``landlock``: read only the interpreter's library and numpy, write only its folder, no
  TCP, no signals or abstract sockets outside itself (Linux 5.13+);
* ``refuse_sockets_and_processes``: no socket at all and no new process (seccomp): a
  network namespace hides the network but not the Unix sockets in the file system, and
  Landlock does not guard ``connect``; a process forked past Python's hooks has the
  limits all over again.
"""

from __future__ import annotations

import ctypes
import os
import platform
import resource
import struct
from typing import Any

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
PR_SET_KEEPCAPS = 8
PR_SET_NO_NEW_PRIVS = 38
CAP_DAC_READ_SEARCH = 2
_CAPABILITY_VERSION_3 = 0x20080522

# landlock_create_ruleset, landlock_add_rule, landlock_restrict_self (the same on every arch)
_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446
_RULE_PATH_BENEATH = 1
_EXECUTE, _WRITE_FILE, _READ_FILE, _READ_DIR = 1, 2, 4, 8
_REFER, _TRUNCATE, _IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_FILE_ONLY = _EXECUTE | _WRITE_FILE | _READ_FILE | _TRUNCATE | _IOCTL_DEV
_TCP = 1 | 2  # bind, connect
_SCOPES = 1 | 2  # abstract unix sockets, signals


def _libc() -> Any:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def _unshare(flags: int) -> str | None:
    """None on success, else why not."""
    try:
        libc = _libc()
        if libc.unshare(ctypes.c_int(flags)) == 0:
            return None
        return os.strerror(ctypes.get_errno())
    except (OSError, AttributeError) as error:  # not Linux
        return str(error)


def isolate() -> dict[str, str]:
    """Network off and a process-id namespace of its own, each where the OS allows it."""
    uid, gid = os.getuid(), os.getgid()
    user = 0 if os.geteuid() == 0 else CLONE_NEWUSER
    problem = _unshare(user | CLONE_NEWNET | CLONE_NEWPID)
    if problem is None:
        _map_self(user, uid, gid)
        return {"network": "off", "processes": "own namespace"}
    notes = {}
    net = _unshare(user | CLONE_NEWNET)
    notes["network"] = "off" if net is None else f"not isolated (a network namespace: {net})"
    pid = _unshare((user if net is not None else 0) | CLONE_NEWPID)
    notes["processes"] = "own namespace" if pid is None else f"shared namespace ({pid})"
    if net is None or pid is None:
        _map_self(user, uid, gid)
    return notes


def _map_self(user: int, uid: int, gid: int) -> None:
    """In a user namespace just made, be the same uid and gid as outside: an unmapped uid
    (65534 inside) may own no file on a file system mounted there (own_disk's tmpfs)."""
    if not user:
        return
    try:
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
            with open(f"/proc/self/{name}", "w", encoding="ascii") as f:
                f.write(text)
    except OSError:
        pass  # own_disk says what it could not do


MS_NOSUID, MS_NODEV, MS_REC, MS_PRIVATE, MNT_DETACH = 2, 4, 1 << 14, 1 << 18, 2


def own_disk(folder: str, size: int, uid: int | None) -> str:
    """Mount a tmpfs of ``size`` bytes over ``folder``, in a mount namespace of this
    process's own, with the folder's files copied in (as ``uid`` when given: as root).
    Everything written there goes when the namespace does. Returns what was done."""
    files = []
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                files.append((os.path.relpath(path, folder), f.read()))
    try:
        libc = _libc()
        mount = libc.mount
        mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
    except (OSError, AttributeError) as error:  # not Linux
        return f"not limited ({error})"
    problem = _unshare(CLONE_NEWNS)
    if problem is not None:
        return f"not limited (a mount namespace: {problem})"
    options = f"size={size},nr_inodes=4096,mode=0700".encode()
    if (
        mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0
        or mount(b"tmpfs", folder.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, options) != 0
    ):
        return f"not limited (mount: {os.strerror(ctypes.get_errno())})"
    try:
        _copy_in(folder, files, uid)
    except OSError as error:  # back to the folder as it was
        libc.umount2(folder.encode(), MNT_DETACH)
        return f"not limited (its files on a tmpfs: {error.strerror})"
    return f"{size >> 20} MB of its own"


def _copy_in(folder: str, files: list[tuple[str, bytes]], uid: int | None) -> None:
    for relative, content in files:
        path = os.path.join(folder, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(content)
    if uid is not None:
        for root, dirs, names in os.walk(folder):
            for name in [*dirs, *names]:
                os.chown(os.path.join(root, name), uid, uid)
        os.chown(folder, uid, uid)


def own_processes() -> int:
    """How many processes this real uid has now (RLIMIT_NPROC counts them all; 0 for root,
    which drops to a uid of its own)."""
    if os.geteuid() == 0:
        return 0
    uid, count = os.getuid(), 0
    try:
        entries = os.listdir("/proc")
    except OSError:  # no /proc: leave room for a typical desktop session
        return 256
    for entry in entries:
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/status", "rb") as status:  # binary: no codec to import
                    for line in status:
                        if line.startswith(b"Uid:"):
                            count += int(line.split()[1]) == uid
                            break
            except OSError:
                continue
    return count


def limit(cpu_seconds: int, memory_bytes: int, file_bytes: int, processes: int, open_files: int = 64) -> str:
    """Hard resource limits (never above the ones already in force). Not root, the
    process limit counts every process of the uid: ``processes`` must include those
    (see :func:`own_processes`, counted before a user namespace hides them)."""
    wanted = {
        resource.RLIMIT_CORE: 0,
        resource.RLIMIT_CPU: cpu_seconds,
        resource.RLIMIT_AS: memory_bytes,
        resource.RLIMIT_FSIZE: file_bytes,
        resource.RLIMIT_NOFILE: open_files,
        resource.RLIMIT_NPROC: processes,
    }
    missed = []
    for which, value in wanted.items():
        try:
            _, hard = resource.getrlimit(which)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):  # a limit this OS does not take (macOS and RLIMIT_AS)
            missed.append(_NAMES.get(which, str(which)))
    return "limited" if not missed else f"limited, except {', '.join(missed)} (the OS refused)"


_NAMES = {resource.RLIMIT_AS: "memory", resource.RLIMIT_CPU: "CPU time", resource.RLIMIT_NPROC: "processes"}


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def drop_root(uid: int | None, real_uid: int) -> str:
    """As root: become ``uid`` (group too, no supplementary groups), keeping only the
    right to read and search folders. Not root (``uid`` None): every capability the user
    namespace gave (own_disk needed them; nothing after it does)."""
    libc = _libc()
    if uid is None or os.geteuid() != 0:
        none = (_CapData * 2)(_CapData(0, 0, 0), _CapData(0, 0, 0))
        libc.capset(ctypes.byref(_CapHeader(_CAPABILITY_VERSION_3, 0)), none)
        return f"uid {real_uid} (not root)"
    if libc.prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_KEEPCAPS)")
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    keep = 1 << CAP_DAC_READ_SEARCH
    header = _CapHeader(_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)(_CapData(keep, keep, 0), _CapData(0, 0, 0))
    if libc.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capset")
    return f"uid {uid}"


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi() -> int:
    """Landlock's ABI version, or 0 where there is none."""
    try:
        version = _libc().syscall(ctypes.c_long(_CREATE_RULESET), None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    except (OSError, AttributeError):
        return 0
    return max(int(version), 0)


def landlock(read: list[str], write: list[str]) -> str:
    """Allow reading beneath ``read`` and everything but executing beneath ``write``;
    deny every other file access, TCP, and signals to processes outside. Paths that do
    not exist are skipped. Returns what was done."""
    abi = landlock_abi()
    if abi < 1:
        return "not confined (this kernel has no Landlock: Linux 5.13+ with Landlock enabled)"
    handled = (1 << 13) - 1
    handled |= (_REFER if abi >= 2 else 0) | (_TRUNCATE if abi >= 3 else 0) | (_IOCTL_DEV if abi >= 5 else 0)
    attr = _RulesetAttr(handled, _TCP if abi >= 4 else 0, _SCOPES if abi >= 6 else 0)
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    libc = _libc()
    ruleset = libc.syscall(
        ctypes.c_long(_CREATE_RULESET), ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0)
    )
    if ruleset < 0:
        return f"not confined (landlock_create_ruleset: {os.strerror(ctypes.get_errno())})"
    try:
        for paths, rights in ((read, _READ_FILE | _READ_DIR), (write, handled & ~_EXECUTE)):
            for path in paths:
                _add_rule(libc, ruleset, path, rights)
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
        if libc.syscall(ctypes.c_long(_RESTRICT_SELF), ctypes.c_int(ruleset), ctypes.c_uint32(0)) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self")
    finally:
        os.close(ruleset)
    return f"confined to its folder (Landlock ABI {abi})"


def _add_rule(libc: Any, ruleset: int, path: str, rights: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # nothing there to allow
    try:
        if not os.path.isdir(path):
            rights &= _FILE_ONLY
        rule = _PathBeneath(rights, fd)
        if libc.syscall(ctypes.c_long(_ADD_RULE), ctypes.c_int(ruleset), ctypes.c_int(_RULE_PATH_BENEATH),
                        ctypes.byref(rule), ctypes.c_uint32(0)) != 0:  # fmt: skip
            raise OSError(ctypes.get_errno(), f"landlock_add_rule {path}")
    finally:
        os.close(fd)


# seccomp, per architecture: its audit id; socket(2) and io_uring_setup(2) (io_uring opens
# sockets without socket(2)); fork, vfork, clone and clone3 (-1: no such call there)
_SECCOMP_ARCHES = {
    "x86_64": (0xC000003E, 41, 425, 57, 58, 56, 435),
    "aarch64": (0xC00000B7, 198, 425, -1, -1, 220, 435),
}
_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 22, 2
_RET_ALLOW, _RET_ERRNO = 0x7FFF0000, 0x00050000
_EPERM, _EACCES, _ENOSYS = 1, 13, 38
_CLONE_THREAD = 0x00010000
# BPF_LD|W|ABS, BPF_JMP|JEQ|K, BPF_JMP|JGE|K, BPF_JMP|JSET|K, BPF_RET|K
_LD_ABS, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def refuse_sockets_and_processes() -> str:
    """Refuse socket(2) and io_uring (EACCES), and new processes (EPERM: fork, vfork, a
    clone that is not a thread's; clone3 says ENOSYS, so that threads are made with clone),
    to this process and all it runs; a system call of another architecture (a 32-bit one,
    or x32's) is refused outright. A fork through ctypes passes Python's at-fork hook, and
    each copy would have the address-space limit again: 16 processes, 16 GB.
    Returns "refused", or "allowed (why)"."""
    arch = _SECCOMP_ARCHES.get(platform.machine())
    if arch is None:
        return f"allowed (no seccomp filter for {platform.machine() or 'this machine'})"
    audit, socket_nr, io_uring_nr, fork_nr, vfork_nr, clone_nr, clone3_nr = (n & 0xFFFFFFFF for n in arch)
    eacces, eperm = (_RET, 0, 0, _RET_ERRNO | _EACCES), (_RET, 0, 0, _RET_ERRNO | _EPERM)
    allow = (_RET, 0, 0, _RET_ALLOW)
    program = [  # (code, jump if true, jump if false, k): jumps count instructions skipped
        (_LD_ABS, 0, 0, 4),  # 0: the architecture
        (_JEQ, 1, 0, audit),
        eacces,
        (_LD_ABS, 0, 0, 0),  # 3: the system call's number
        (_JGE, 9, 0, 0x40000000),  # x32's numbers -> 14
        (_JEQ, 8, 0, socket_nr),  # -> 14
        (_JEQ, 7, 0, io_uring_nr),  # -> 14
        (_JEQ, 7, 0, fork_nr),  # -> 15
        (_JEQ, 6, 0, vfork_nr),  # -> 15
        (_JEQ, 6, 0, clone3_nr),  # -> 16
        (_JEQ, 0, 2, clone_nr),  # -> 11, else 13
        (_LD_ABS, 0, 0, 16),  # 11: clone's flags (the low half of its first argument)
        (_JSET, 0, 2, _CLONE_THREAD),  # a thread -> 13, else 15
        allow,  # 13
        eacces,  # 14
        eperm,  # 15
        (_RET, 0, 0, _RET_ERRNO | _ENOSYS),  # 16
    ]
    code = ctypes.create_string_buffer(b"".join(struct.pack("=HBBI", *op) for op in program))
    fprog = _SockFprog(len(program), ctypes.cast(code, ctypes.c_void_p))
    try:
        libc = _libc()
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return f"allowed (prctl: {os.strerror(ctypes.get_errno())})"
        if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
            return f"allowed (seccomp: {os.strerror(ctypes.get_errno())})"
    except (OSError, AttributeError) as error:
        return f"allowed ({error})"
    return "refused"
