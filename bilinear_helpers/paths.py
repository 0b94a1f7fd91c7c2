"""Where datasets, runs and figures live, and the one way files are written (atomically).

Paths are resolved from this package's location, never from the current directory:
nbval runs a notebook from `notebooks/` while papermill runs it from wherever the shell
is, and both must find the same `data/` and `figures/`.

Overrides, in order of precedence: an explicit argument, then the environment variables
`BILINEAR_DATA_DIR` / `BILINEAR_FIGURES_DIR`, then the repository's own folders. An
override must be absolute (or start with `~`): a relative one would depend on where the
shell is, so it is refused with a ConfigError. When
the package is installed outside a checkout (no `pyproject.toml` beside it) the folders
fall back to `~/bilinear_tutorial/{data,figures}`.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
from pathlib import Path

from .checks import ConfigError

DATA_ENV_VAR = "BILINEAR_DATA_DIR"
FIGURES_ENV_VAR = "BILINEAR_FIGURES_DIR"


def repo_root() -> Path | None:
    """The checkout this package lives in, or None for an installed copy."""
    candidate = Path(__file__).resolve().parent.parent
    if (candidate / "pyproject.toml").is_file() and (candidate / "notebooks").is_dir():
        return candidate
    return None


def _base_dir() -> Path:
    root = repo_root()
    return root if root is not None else Path.home() / "bilinear_tutorial"


def absolute_folder(what: str, value: str | os.PathLike) -> Path:
    """`value` as an absolute path (`~` expanded); an empty or relative one is a ConfigError naming `what`."""
    if not isinstance(value, (str, os.PathLike)):
        raise ConfigError(f"{what} must be a folder path, got {value!r} ({type(value).__name__})")
    path = Path(value).expanduser()
    if not str(value) or not path.is_absolute():
        raise ConfigError(f"{what} must be an absolute folder path, got {str(value)!r}: a relative one would depend "
                          f"on the current directory. Write e.g. {str(Path(str(value) or '.').resolve())!r}")
    return path.resolve()


def data_dir(override: str | os.PathLike | None = None) -> Path:
    """The `data/` folder: datasets (torchvision layout), runs and checkpoints."""
    if override is not None:
        return absolute_folder("data_root", override)
    if DATA_ENV_VAR in os.environ:
        return absolute_folder(f"the environment variable {DATA_ENV_VAR}", os.environ[DATA_ENV_VAR])
    return _base_dir() / "data"


def figures_dir(override: str | os.PathLike | None = None) -> Path:
    """The `figures/` folder where notebooks save PNG and HTML figures (created on demand)."""
    if override is not None:
        path = absolute_folder("figures_dir", override)
    elif FIGURES_ENV_VAR in os.environ:
        path = absolute_folder(f"the environment variable {FIGURES_ENV_VAR}", os.environ[FIGURES_ENV_VAR])
    else:
        path = _base_dir() / "figures"
    path.mkdir(parents=True, exist_ok=True)
    return path


def runs_dir(data_root: str | os.PathLike | None = None) -> Path:
    """`data/runs/`: one folder per training run (see `runs.RunLayout`)."""
    return data_dir(data_root) / "runs"


def display_path(path: str | os.PathLike) -> str:
    """A path as shown to users: relative to the repository when inside it.

    Keeps notebook outputs free of this machine's absolute paths.
    """
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise ValueError(f"path must be a file or folder path, got {path!r}")
    path = Path(path).resolve()
    root = repo_root()
    if root is not None:
        try:
            return str(path.relative_to(root))
        except ValueError:
            pass
    return str(path)


# --- atomic writes ---------------------------------------------------------------------------------

TEMP_SUFFIX = ".tmp"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def remove_stale_temp_files(folder: str | os.PathLike) -> list[Path]:
    """Delete `.<name>.<pid>.<random>.tmp` files in `folder` whose writing process has died.

    A save killed mid-write leaves its temp file behind; the next atomic write into the
    same folder removes it. Temp files of processes still running are left alone.
    """
    removed = []
    for path in Path(folder).glob(f".*{TEMP_SUFFIX}"):
        parts = path.name.split(".")  # ["", name..., pid, random, "tmp"]
        if len(parts) >= 5 and parts[-3].isdigit() and not pid_alive(int(parts[-3])):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _disk_full(exc: BaseException | None) -> bool:
    """True for the errors a full disk raises: ENOSPC / EDQUOT, or torch's "file write failed",
    also when raised while handling one (torch's zip writer hides the OSError behind its own)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if isinstance(exc, RuntimeError) and "write failed" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def atomic_write(path: str | os.PathLike, write, mode: str = "wb") -> Path:
    """Write `path` atomically: `write(file)` fills a unique temp file, then `os.replace` moves it.

    A crash leaves the previous file whole; concurrent writers never share a temp file (the
    last complete one wins). Stale temp files of dead processes in the folder are removed.
    A full disk is an OSError(ENOSPC) that names the folder and the space left.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(path.parent)
    tmp = path.parent / f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}{TEMP_SUFFIX}"
    try:
        with open(tmp, mode) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if _disk_full(exc):
            free_mb = shutil.disk_usage(path.parent).free / 2**20
            raise OSError(errno.ENOSPC, f"the disk is full: could not write {path.name} to {path.parent} "
                          f"({free_mb:.1f} MB free). Free some space there (or set {DATA_ENV_VAR} to a folder on "
                          "another disk) and run again; the previous file is unchanged") from None
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """`atomic_write` for a string (UTF-8)."""
    return atomic_write(path, lambda f: f.write(text), mode="w")


# --- safe loads ---------------------------------------------------------------------------------

CODE_REFUSED = re.compile(r"unsupported global|global .* is blocked", re.IGNORECASE)


def refused_code(exc: BaseException) -> bool:
    """True when `torch.load(weights_only=True)` failed because the file carries pickled objects or
    code (a GLOBAL it will not import), as opposed to bytes that are merely corrupt."""
    return bool(CODE_REFUSED.search(str(exc)))
