"""On-disk store of RunResults keyed by RunConfig, library versions and the data's digest; one
lock per key shared by every process on the directory; the progress of runs being trained."""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import functools
import hashlib
import json
import logging
import os
import socket
import tempfile
import time
import uuid
import zipfile
from pathlib import Path

import numpy as np
from filelock import FileLock

from explainer.config import RunConfig
from explainer.engines import engine_versions
from explainer.run import Progress, RunResult

FORMAT = 5  # bump when RunResult or the training procedure changes
ARRAYS = ("step_loss", "kernels", "biases")
# a temporary file older than this belongs to a writer that died (a write takes well under a second)
ORPHAN_SECONDS = 300
log = logging.getLogger(__name__)
# why a write to the cache can fail that the reader can fix, in words
UNWRITABLE = {
    errno.ENOSPC: "its disk is full",
    errno.EDQUOT: "its disk quota is used up",
    errno.EROFS: "it is on a read-only file system",
    errno.EACCES: "this process may not write there",
    errno.EPERM: "this process may not write there",
}


class CacheUnwritable(OSError):
    """Results cannot be stored in the cache directory; the message says why and what to do."""


class StoreNotShared(LookupError):
    """A worker does not see the store its caller made (another machine without the shared volume)."""


@contextlib.contextmanager
def writing(directory: Path):
    """Turns a write error the reader can fix into CacheUnwritable, in one sentence."""
    try:
        yield
    except OSError as error:
        if error.errno not in UNWRITABLE:
            raise
        raise CacheUnwritable(
            f"results cannot be stored in {directory}: {UNWRITABLE[error.errno]}; make room there, or set "
            "EXPLAINER_CACHE_DIR to a directory with room that this process can write"
        ) from None


def cache_dir() -> Path:
    """$EXPLAINER_CACHE_DIR, else the user's cache directory."""
    if os.environ.get("EXPLAINER_CACHE_DIR"):
        return Path(os.environ["EXPLAINER_CACHE_DIR"]).expanduser()
    return user_cache() / "keras-lr-explainer"


def user_cache() -> Path:
    """The user's cache directory on this machine ($XDG_CACHE_HOME, else ~/.cache)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


@functools.lru_cache(maxsize=4096)  # a page asks for dozens of runs per visit, most of them stored
def run_key(config: RunConfig, fingerprint: str) -> str:
    """What determines a result: the config, the installed engine's libraries, the data."""
    parts = {
        "format": FORMAT,
        "config": config.key(),
        "data": fingerprint,
        "packages": engine_versions(config.engine),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


@dataclasses.dataclass(frozen=True)
class RunStore:
    """A cache directory: runs as `<key>.npz`, results derived from them as
    `derived/<key>.npz` (keys starting "derived-"), `locks/<key>.lock`, `progress/<key>.json`,
    `claimed/<key>` (a prefetch somebody now waits for, see `claim`)."""

    directory: Path

    @classmethod
    def default(cls) -> RunStore:
        return cls(cache_dir())

    def path(self, key: str) -> Path:
        folder = self.directory / "derived" if key.startswith("derived-") else self.directory
        return folder / f"{key}.npz"

    def has(self, key: str) -> bool:
        """Whether an entry exists, without reading it (a corrupt one is found by `load`)."""
        return self.path(key).is_file()

    def load(self, key: str) -> RunResult | None:
        """The stored run, or None if absent; a corrupt entry is deleted and reported as absent."""
        arrays = self.read_arrays(key)
        if arrays is None:
            return None
        try:
            meta = json.loads(str(arrays.pop("meta")))
            if meta.pop("key") != key:
                raise ValueError("entry stored under another key")
            meta["config"] = RunConfig.from_dict(meta["config"])
            return RunResult(**meta, **{name: arrays[name] for name in ARRAYS})
        except (ValueError, KeyError, TypeError):
            self.discard(key)
            return None

    def store(self, key: str, result: RunResult) -> None:
        """Write a run atomically (see `write_arrays`)."""
        fields = {field.name: getattr(result, field.name) for field in dataclasses.fields(result)}
        arrays = {name: fields.pop(name) for name in ARRAYS}
        meta = {**fields, "config": result.config.to_dict(), "key": key}
        self.write_arrays(key, {"meta": np.array(json.dumps(meta)), **arrays})

    def write_arrays(self, key: str, arrays: dict[str, np.ndarray]) -> None:
        """Write an entry atomically: readers see the whole entry or none. Something other than
        a file at the entry's path is left alone, and the write fails saying so."""
        path = self.path(key)
        if path.exists() and not path.is_file():
            raise OSError(f"cannot cache this: {path} is in the way and is not a cache entry; remove it")
        with writing(self.directory), _atomic(path) as file:
            np.savez_compressed(file, **arrays)  # a quarter smaller: warm --all stores ~1,600 runs

    def read_arrays(self, key: str) -> dict[str, np.ndarray] | None:
        """An entry's arrays, or None if absent; a corrupt entry is deleted and reported absent."""
        path = self.path(key)
        try:
            with np.load(path, allow_pickle=False) as npz:
                return {name: npz[name] for name in npz.files}
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as error:
            if not path.is_file() or path.is_symlink():  # not ours to delete: say so, treat it as absent
                log.warning("skipped %s: not a cache entry (%s)", path, error)
            self.discard(key)
            return None

    def discard(self, key: str) -> None:
        """Remove an entry that cannot be used (only a regular file: nothing else is ours)."""
        path = self.path(key)
        if path.is_file() and not path.is_symlink():
            path.unlink(missing_ok=True)

    def remove_orphans(self, older_than: float = ORPHAN_SECONDS) -> int:
        """Delete the temporary files of writers that died mid-write; how many there were."""
        removed = 0
        for temporary in self.directory.glob("**/*.tmp"):
            with contextlib.suppress(OSError):  # another process may remove or finish it meanwhile
                if temporary.is_file() and time.time() - temporary.stat().st_mtime > older_than:
                    temporary.unlink()
                    removed += 1
        return removed

    def seen_here(self) -> RunStore:
        """This store, which the service that sent a job made: a worker that does not see it is on
        another machine and would train into a directory nobody reads (StoreNotShared)."""
        if not self.directory.is_dir():
            raise StoreNotShared(
                f"the cache directory {self.directory} is not on {socket.gethostname()}: every replica and worker must "
                "see one store at the same path (mount one shared volume there on every machine)"
            )
        return self

    def lock(self, key: str) -> FileLock:
        """The key's lock, shared by every thread and process that trains into this directory."""
        with writing(self.directory):
            (self.directory / "locks").mkdir(parents=True, exist_ok=True)
        return FileLock(self.directory / "locks" / f"{key}.lock")

    def write_progress(self, key: str, progress: Progress) -> None:
        with writing(self.directory), _atomic(self._progress_path(key)) as file:
            file.write(json.dumps(dataclasses.asdict(progress)).encode())

    def read_progress(self, key: str) -> Progress | None:
        """The latest progress of a run being trained (by any process), or None."""
        try:
            return Progress(**json.loads(self._progress_path(key).read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def clear_progress(self, key: str) -> None:
        self._progress_path(key).unlink(missing_ok=True)

    def _progress_path(self, key: str) -> Path:
        return self.directory / "progress" / f"{key}.json"

    def claim(self, key: str) -> None:
        """Somebody now waits for the prefetch of `key` that a worker is running: it goes on
        instead of giving way (jobs.give_way), wherever that worker is. Unwritable: it may
        give way, and is queued again as any prefetch that gives way."""
        with contextlib.suppress(OSError):
            self.claimed_path(key).parent.mkdir(parents=True, exist_ok=True)
            self.claimed_path(key).touch()

    def unclaim(self, key: str) -> None:
        self.claimed_path(key).unlink(missing_ok=True)

    def claimed_path(self, key: str) -> Path:
        return self.directory / "claimed" / key


@contextlib.contextmanager
def _atomic(target: Path):
    """A file written whole over `target`, or not at all: an unnamed file in its directory
    (O_TMPFILE), named only once written and then renamed over it, so that a writer killed
    mid-write (kill -9, the OOM killer, a worker lost with its machine) leaves nothing behind.
    Where the file system has no unnamed files (NFS, an older overlayfs) it is a named temporary
    file, removed on failure; one left by a writer killed is an orphan (`remove_orphans`)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = _unnamed(target.parent), None
    if descriptor is None:
        descriptor, temporary = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as file:
            yield file
            if temporary is None:  # named for the rename: the one moment a kill would leave it
                temporary = target.parent / f"{uuid.uuid4().hex}.tmp"
                _name(descriptor, temporary)
        os.replace(temporary, target)
    except BaseException:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
        raise


def _name(descriptor: int, path: Path) -> None:
    """Give the unnamed file open as `descriptor` the name `path` (in its directory). Through a
    directory's descriptor, which makes Python call linkat and follow /proc's link to the file:
    a plain link() would link the /proc link itself, on another file system."""
    directory = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.link(f"/proc/self/fd/{descriptor}", path.name, dst_dir_fd=directory, follow_symlinks=True)
    finally:
        os.close(directory)


def _unnamed(directory: Path) -> int | None:
    """A new unnamed file in `directory`, open for writing, where the system has them (Linux, with
    /proc to name it by); None elsewhere."""
    if not hasattr(os, "O_TMPFILE") or not Path("/proc/self/fd").is_dir():
        return None
    with contextlib.suppress(OSError):  # a file system without them
        return os.open(directory, os.O_TMPFILE | os.O_WRONLY, 0o600)
    return None
