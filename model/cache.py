"""A memory and disk cache for expensive deterministic results (GD trajectories), keyed by code.

The key of an entry is its parameters (a JSON-ready dict) plus a fingerprint of the code that computes
it: the bytecode and constants of every function and the values of the simple constants in the
modules it depends on (``FINGERPRINTED`` by default, or a finer list of modules and single
functions) *as they are at call time*. Editing the code, or a planted fault that
replaces a function (:mod:`properties.faults`), changes the fingerprint, so a stale or faulty result
is never served for a correct one (and vice versa).

The directory is ``$ONENN_CACHE_DIR`` if set, else ``~/.cache/onenn-verify``; ``ONENN_CACHE_DIR=off``
turns the disk cache off. Entries are .npz files written atomically (a temporary file, then
``os.replace``), read with ``allow_pickle=False``; an unreadable entry is recomputed. While an entry
is computed, its lock file (``<entry>.lock``, an advisory ``fcntl`` lock where the platform has one)
is held, so processes that want the same entry at once (parallel workers, pytest and ``verify``
side by side) compute it once: the others wait and then read it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib
import json
import os
import platform
import tempfile
import types
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import scipy

from model.errors import InvalidParameter

try:
    import fcntl
except ImportError:  # pragma: no cover - not on this platform: no cross-process lock, only atomic writes
    fcntl = None  # type: ignore[assignment]

__all__ = ["FINGERPRINTED", "cache_dir", "cached", "clear_memory", "entry_name", "fingerprint", "lookup"]

#: The modules whose code the cached results depend on.
FINGERPRINTED = ("model.quadrature", "model.checks", "model.exact", "model.dynamics", "model.cache")

T = TypeVar("T")
#: The numerical stack the results depend on, part of every key (a new numpy or scipy recomputes).
_VERSIONS = {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__}
_MEMORY: dict[str, Any] = {}


def _code_bytes(code: types.CodeType) -> bytes:
    """The bytecode, names and constants of ``code`` (nested code objects included), stable across processes.

    Not ``marshal.dumps``: its output depends on reference counts (FLAG_REF), so it can differ between
    two processes running the same code.
    """
    parts = [code.co_code, repr(code.co_names).encode(), repr(code.co_varnames).encode()]
    parts += [_constant_bytes(constant) for constant in code.co_consts]
    return b"\x00".join(parts)


def _constant_bytes(constant: object) -> bytes:
    """A code constant, in a form independent of the hash seed (a frozenset's repr order is not)."""
    if isinstance(constant, types.CodeType):
        return _code_bytes(constant)
    if isinstance(constant, frozenset):
        return b"frozenset(" + b",".join(sorted(_constant_bytes(item) for item in constant)) + b")"
    if isinstance(constant, tuple):
        return b"(" + b",".join(_constant_bytes(item) for item in constant) + b")"
    return repr(constant).encode()


def _check_depends(depends: object) -> tuple[str, ...]:
    if isinstance(depends, str) or not isinstance(depends, tuple | list) or not all(
            isinstance(name, str) and name for name in depends):
        raise InvalidParameter(f"depends must be a tuple of module names ('model.exact' or 'module:attr'), "
                               f"got {depends!r:.80}")
    for name in depends:
        module_name, _, attribute = name.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            raise InvalidParameter(f"depends names an unknown module {module_name!r}") from None
        if attribute and not hasattr(module, attribute):
            raise InvalidParameter(f"depends names an unknown attribute {name!r}")
    return tuple(depends)


def _check_key(key: object) -> dict[str, Any]:
    if not isinstance(key, dict) or not all(isinstance(k, str) for k in key):
        raise InvalidParameter(f"key must be a dict with string keys, got {key!r:.80}")
    try:
        json.dumps(key, allow_nan=False)
    except (TypeError, ValueError):
        raise InvalidParameter(f"key must hold finite JSON values only, got {key!r:.80}") from None
    return key


def _check_cls(cls: object) -> None:
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise InvalidParameter(f"cls must be a dataclass type, got {cls!r:.80}")


def fingerprint(depends: tuple[str, ...] = FINGERPRINTED) -> str:
    """A hash of the current code and constants a result depends on.

    ``depends`` names modules (``"model.exact"``: every function, class and simple constant in it) or
    single attributes (``"model.dynamics:literal_gd"``), as they are at call time.
    """
    depends = _check_depends(depends)
    digest = hashlib.sha256()
    for name in depends:
        module_name, _, attribute = name.partition(":")
        module = importlib.import_module(module_name)
        items = [(attribute, getattr(module, attribute))] if attribute else sorted(vars(module).items())
        for label, value in items:
            if not label.startswith("__") and value is not _MEMORY:  # the cache's own contents are not code
                digest.update(module_name.encode() + label.encode())
                _digest_value(digest, value, module_name)
    return digest.hexdigest()


def _digest_value(digest: Any, value: Any, module_name: str) -> None:
    if isinstance(value, types.FunctionType):
        digest.update(f"{value.__module__}.{value.__qualname__}".encode())  # a patched-in function differs here
        digest.update(_code_bytes(value.__code__))
        if value.__module__ == module_name:  # our own defaults; a library's may hold sentinels with addresses
            digest.update(repr((value.__defaults__, value.__kwdefaults__)).encode())
    elif isinstance(value, type):
        digest.update(f"{value.__module__}.{value.__qualname__}".encode())  # a class swapped in differs here
        if value.__module__ != module_name:
            return
        for member, item in sorted(vars(value).items()):
            inner = getattr(item, "__func__", item)
            inner = getattr(inner, "func", inner)  # cached_property
            if isinstance(inner, types.FunctionType):
                digest.update(member.encode() + f"{inner.__module__}.{inner.__qualname__}".encode())
                digest.update(_code_bytes(inner.__code__))
            elif callable(inner):  # a member replaced by another callable (a functools.partial, ...)
                digest.update(member.encode() + type(inner).__qualname__.encode())
    elif isinstance(value, bool | int | float | str | tuple | dict | list | frozenset):
        digest.update(repr(value).encode())  # constants (DOMAIN, tolerances); reprs of plain data are stable
    elif isinstance(value, np.ndarray):
        digest.update(value.tobytes())
    elif callable(value) and not isinstance(value, type | types.ModuleType | types.BuiltinFunctionType):
        digest.update(repr(value).encode())  # a patched-in callable of another kind (a functools.partial, ...)


def cache_dir() -> Path | None:
    """The disk cache directory, or None when ONENN_CACHE_DIR=off."""
    setting = os.environ.get("ONENN_CACHE_DIR", "")
    if setting.lower() == "off":
        return None
    return Path(setting) if setting else Path.home() / ".cache" / "onenn-verify"


def clear_memory() -> None:
    """Forget the in-memory entries (the disk cache is left alone)."""
    _MEMORY.clear()


def entry_name(key: dict[str, Any], depends: tuple[str, ...] = FINGERPRINTED) -> tuple[str, str]:
    """(name, key text) of the entry for ``key`` with the code of ``depends`` as it is now."""
    key = _check_key(key)
    text = json.dumps({"key": key, "code": fingerprint(depends), "versions": _VERSIONS}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32], text


def _path(name: str, cls: type) -> Path | None:
    directory = cache_dir()
    return None if directory is None else directory / f"{cls.__name__.lower()}-{name}.npz"


def _read(name: str, cls: type[T]) -> T | None:
    """The entry from memory or disk (then kept in memory), or None."""
    if name in _MEMORY:
        return _MEMORY[name]
    path = _path(name, cls)
    if path is None or not path.exists():
        return None
    try:
        value = _load(path, cls)
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile):
        return None  # a truncated or foreign file: recompute
    _MEMORY[name] = value
    return value


def lookup(key: dict[str, Any], cls: type[T], depends: tuple[str, ...] = FINGERPRINTED) -> T | None:
    """The cached value for ``key`` (memory, then disk), or None; never computes."""
    _check_cls(cls)
    return _read(entry_name(key, depends)[0], cls)


@contextlib.contextmanager
def _locked(path: Path | None) -> Iterator[None]:
    """Hold ``path``'s lock file while the block runs (no lock without a disk cache or fcntl, or if unwritable).

    The lock files (``<entry>.lock``, empty) stay in the directory; deleting them is harmless when no
    process is computing.
    """
    stream = None
    if path is not None and fcntl is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            stream = open(path.with_suffix(".lock"), "a")
        except OSError:
            stream = None  # an unwritable directory: no lock (and no entry will be written either)
    if stream is None:
        yield
        return
    with stream:
        fcntl.flock(stream, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(stream, fcntl.LOCK_UN)


def cached(key: dict[str, Any], compute: Callable[[], T], cls: type[T],
           depends: tuple[str, ...] = FINGERPRINTED) -> T:
    """The dataclass ``cls`` for ``key``: from memory, else from disk, else ``compute()`` (then stored).

    ``depends``: the code the result depends on (see :func:`fingerprint`), part of the key. Another
    process computing the same entry is waited for (module docstring).
    """
    _check_cls(cls)
    if not callable(compute):
        raise InvalidParameter(f"compute must be callable, got {compute!r:.80}")
    name, text = entry_name(key, depends)
    value = _read(name, cls)
    if value is not None:
        return value
    path = _path(name, cls)
    with _locked(path):
        value = _read(name, cls)  # another process may have written it while this one waited
        if value is not None:
            return value
        value = compute()
        _MEMORY[name] = value
        if path is not None:
            _store(path, value, text)
    return value


def _store(path: Path, value: Any, key_text: str) -> None:
    arrays, scalars = {}, {}
    for item in dataclasses.fields(value):
        content = getattr(value, item.name)
        if isinstance(content, np.ndarray):
            arrays[item.name] = content
        else:
            scalars[item.name] = content
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    except OSError:
        return  # an unwritable cache directory only costs a recomputation next time
    try:
        with os.fdopen(handle, "wb") as stream:
            arrays["__scalars__"] = np.array(json.dumps(scalars))
            arrays["__key__"] = np.array(key_text)
            np.savez(stream, **arrays)  # type: ignore[arg-type]
        os.replace(temporary, path)
    except OSError:
        pass
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _load(path: Path, cls: type[T]) -> T:
    with np.load(path, allow_pickle=False) as data:
        scalars = json.loads(str(data["__scalars__"]))
        arrays = {name: data[name] for name in data.files if not name.startswith("__")}
    return cls(**scalars, **arrays)
