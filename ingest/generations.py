"""Index generations: each ingest run builds a new directory and switches to it at the end.

    data/index/
      CURRENT          the name of the generation being served, replaced atomically (os.replace)
      gen-000007/      index.db, keyword arrays, vectors: never written after it is published
      building/        the run in progress (or killed): resumed by the next run on the same base
      chroma/          the vector store of record, shared by all generations
      ingest.lock      one ingest at a time

A run killed at any point leaves CURRENT and the generation it names untouched, so the index
answers exactly as before; the next run picks `building/` up where the killed one stopped.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

POINTER = "CURRENT"
BUILDING = "building"
BUILD_INFO = "BUILD.json"
LOCK = "ingest.lock"
_GENERATION = re.compile(r"^gen-(\d{6,})$")
# What an index from before generations kept directly in data/index (served until the first
# generation replaces it).
LEGACY_FILES = (
    "index.db",
    "index.db-wal",
    "index.db-shm",
    "keyword_meta.npz",
    "art_words.npz",
    "art_bigrams.npz",
    "doc_words.npz",
    "card_words.npz",
    "card_bigrams.npz",
)


class IngestBusy(RuntimeError):
    """Another ingest holds the lock of this data directory."""


def current_generation(index_dir: Path) -> Path | None:
    """The directory of the index being served: the generation CURRENT names, or an index
    from before generations kept in `index_dir` itself; None when there is no index."""
    pointer = index_dir / POINTER
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        name = ""
    if name and _GENERATION.match(name) and (index_dir / name).is_dir():
        return index_dir / name
    if (index_dir / "index.db").is_file():
        return index_dir
    return None


@dataclass
class Build:
    """The directory a run writes into, and the generation it started from."""

    path: Path
    base: str  # name of the generation it was copied from ("" for none, "." for the legacy index)
    resumed: bool
    db_linked: bool  # index.db is a hard link to the base's (only reading allowed)

    def save_info(self) -> None:
        info = {"base": self.base, "db_linked": self.db_linked}
        tmp = self.path / (BUILD_INFO + ".tmp")
        tmp.write_text(json.dumps(info), encoding="utf-8")
        os.replace(tmp, self.path / BUILD_INFO)


def resume_build(index_dir: Path, base: Path | None) -> Build | None:
    """The killed run's `building/` when it was started from the same base, else None (a
    leftover of a run on another base is removed)."""
    path = index_dir / BUILDING
    try:
        info = json.loads((path / BUILD_INFO).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        info = None
    if info is not None and info.get("base") == _base_name(index_dir, base):
        return Build(path, info["base"], resumed=True, db_linked=bool(info.get("db_linked")))
    if path.exists():
        shutil.rmtree(path)
    return None


def new_build(index_dir: Path, base: Path | None) -> Build:
    """An empty `building/` for a run on top of `base`."""
    path = index_dir / BUILDING
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    build = Build(path, _base_name(index_dir, base), resumed=False, db_linked=False)
    build.save_info()
    return build


def link_file(source: Path, target: Path) -> None:
    """Hard-link an immutable file of the base into the build (a copy where links fail)."""
    if target.exists():
        target.unlink()
    try:
        os.link(source, target)
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
            raise
        shutil.copy2(source, target)


def publish(index_dir: Path, build: Build) -> Path:
    """Turn the build into the next generation and point CURRENT at it; remove older ones."""
    (build.path / BUILD_INFO).unlink(missing_ok=True)
    name = f"gen-{_next_number(index_dir):06d}"
    target = index_dir / name
    os.replace(build.path, target)
    _fsync_dir(index_dir)
    tmp = index_dir / (POINTER + ".tmp")
    with open(tmp, "w", encoding="utf-8") as out:
        out.write(name + "\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, index_dir / POINTER)
    _fsync_dir(index_dir)
    remove_old(index_dir)
    return target


def remove_old(index_dir: Path) -> None:
    """Delete every generation but the current one, and a legacy index once a generation serves."""
    current = current_generation(index_dir)
    if current is None or current == index_dir:
        return
    for child in index_dir.iterdir():
        if _GENERATION.match(child.name) and child != current:
            shutil.rmtree(child, ignore_errors=True)
    for name in LEGACY_FILES:
        (index_dir / name).unlink(missing_ok=True)


class IngestLock:
    """An exclusive lock on the data directory's index for the length of one run."""

    def __init__(self, index_dir: Path):
        index_dir.mkdir(parents=True, exist_ok=True)
        self.path = index_dir / LOCK
        self._file = None

    def __enter__(self):
        self._file = open(self.path, "a+")  # noqa: SIM115 (held for the whole run)
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.close()
            raise IngestBusy(
                f"另一个导入正在进行（{self.path.parent}），请等它结束后再运行 lianhu ingest"
            ) from None
        return self

    def __exit__(self, *exc):
        fcntl.flock(self._file, fcntl.LOCK_UN)
        self._file.close()
        return False


def _base_name(index_dir: Path, base: Path | None) -> str:
    if base is None:
        return ""
    return "." if base == index_dir else base.name


def _next_number(index_dir: Path) -> int:
    numbers = [
        int(m.group(1)) for child in index_dir.iterdir() if (m := _GENERATION.match(child.name))
    ]
    return max(numbers, default=0) + 1


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
