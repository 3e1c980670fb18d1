"""The on-disk cache of finished runs: JSON plus NPZ, read without ever executing code.

A finished result (a frozen dataclass from ``core``, possibly nested, holding DataFrames, numpy arrays, scalars,
tuples, lists and dicts; or a plain DataFrame) is written as one JSON tree plus one ``.npz`` of its arrays. Reading
uses ``json`` and ``np.load(..., allow_pickle=False)`` only; a dataclass is rebuilt only if its class lives in the
``core`` package and its fields match. Every entry carries its run key and a hash of the ``core`` source code, so a
code change invalidates it. A file that does not parse, or belongs to another key or another code version, is
ignored and logged, never loaded. The folder is bounded in bytes: the least recently used entries go first.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

FORMAT = "learning-theory-lab/run/1"
CORE = Path(__file__).resolve().parent.parent / "core"


class Unsupported(TypeError):
    """A result holds a value the disk format does not store (it then stays in memory only)."""


def code_hash(folder: Path = CORE) -> str:
    """A SHA-256 of every ``.py`` file of the ``core`` package (path and bytes): any edit changes it."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.py")):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class Stored:
    """A finished run read back from disk."""

    result: Any
    warnings: tuple[str, ...]
    computed_at: float  # time.time() when it finished
    seconds: float  # how long it ran
    warm: bool  # computed in the background after a server start


# ---------------------------------------------------------------------------------------------------------------
# Encoding: a JSON tree whose arrays live in the NPZ under names "a0", "a1", ...


def _is_core_class(cls: type) -> bool:
    return cls.__module__ == "core" or cls.__module__.startswith("core.")


def _array(values: np.ndarray, arrays: dict[str, np.ndarray]) -> str:
    if values.dtype.kind not in "biufcUSmM":
        raise Unsupported(f"arrays of dtype {values.dtype} are not stored on disk")
    name = f"a{len(arrays)}"
    arrays[name] = values
    return name


def _column(values: pd.Series | pd.Index, arrays: dict[str, np.ndarray]) -> dict:
    """One column or index: its dtype, and its values as a plain numpy array (missing values as a mask)."""
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        cat = pd.Categorical(values)
        return {
            "cat": _array(np.asarray(cat.codes), arrays),
            "categories": _column(cat.categories, arrays),
            "ordered": bool(cat.ordered),
        }
    if isinstance(dtype, np.dtype) and dtype.kind in "biufcmM":
        return {"dtype": dtype.str, "values": _array(values.to_numpy(), arrays)}
    missing = np.asarray(values.isna(), dtype=bool)
    present = np.asarray(list(values[~missing]))
    if present.dtype.kind not in "biufU" and len(present):
        raise Unsupported(f"a column of dtype {dtype} holds values of type {type(present.flat[0]).__name__}")
    return {"dtype": str(dtype), "values": _array(present, arrays), "missing": _array(missing, arrays)}


def _index(index: pd.Index, arrays: dict[str, np.ndarray]) -> dict:
    if isinstance(index, pd.MultiIndex):
        raise Unsupported("MultiIndex is not stored on disk")
    name = encode(index.name, arrays)
    if isinstance(index, pd.RangeIndex):
        return {"range": [index.start, index.stop, index.step], "name": name}
    return {"column": _column(index, arrays), "name": name}


def encode(obj: Any, arrays: dict[str, np.ndarray]) -> Any:
    """The JSON tree of ``obj``; its arrays are added to ``arrays``. Raises ``Unsupported`` for other types."""
    if obj is None or isinstance(obj, bool | str) or type(obj) in (int, float):
        return obj
    if isinstance(obj, np.generic):
        if obj.dtype.kind not in "biuf":
            raise Unsupported(f"numpy scalars of dtype {obj.dtype} are not stored on disk")
        return {"$scalar": obj.dtype.str, "value": obj.item()}
    if isinstance(obj, np.ndarray):
        return {"$array": _array(obj, arrays)}
    if isinstance(obj, tuple):
        return {"$tuple": [encode(v, arrays) for v in obj]}
    if isinstance(obj, list):
        return [encode(v, arrays) for v in obj]
    if isinstance(obj, dict):
        return {"$dict": [[encode(k, arrays), encode(v, arrays)] for k, v in obj.items()]}
    if isinstance(obj, pd.DataFrame):
        if isinstance(obj.columns, pd.MultiIndex):
            raise Unsupported("MultiIndex columns are not stored on disk")
        return {
            "$frame": [_column(obj.iloc[:, i], arrays) for i in range(obj.shape[1])],
            "columns": [encode(c, arrays) for c in obj.columns],
            "columns_name": encode(obj.columns.name, arrays),
            "index": _index(obj.index, arrays),
        }
    if isinstance(obj, pd.Series):
        return {"$series": _column(obj, arrays), "name": encode(obj.name, arrays), "index": _index(obj.index, arrays)}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        cls = type(obj)
        if not _is_core_class(cls):
            raise Unsupported(f"dataclass {cls.__module__}.{cls.__qualname__} is not from the core package")
        fields = {f.name: encode(getattr(obj, f.name), arrays) for f in dataclasses.fields(obj)}
        return {"$dataclass": f"{cls.__module__}:{cls.__qualname__}", "fields": fields}
    raise Unsupported(f"values of type {type(obj).__name__} are not stored on disk")


def _core_class(name: str) -> type:
    module, _, qualname = name.partition(":")
    parts = [*module.split("."), *qualname.split(".")]
    if not (module == "core" or module.startswith("core.")) or not all(p.isidentifier() for p in parts):
        raise ValueError(f"refusing class {name!r}: only dataclasses of the core package are rebuilt")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    if not (isinstance(obj, type) and dataclasses.is_dataclass(obj) and _is_core_class(obj)):
        raise ValueError(f"refusing {name!r}: not a dataclass of the core package")
    return obj


def _read_column(tree: dict, arrays: Any) -> pd.Series:
    if "cat" in tree:
        categories = pd.Index(_read_column(tree["categories"], arrays))
        codes = arrays[tree["cat"]]
        return pd.Series(pd.Categorical.from_codes(codes, categories, ordered=tree["ordered"]))
    values = arrays[tree["values"]]
    if "missing" not in tree:
        return pd.Series(values, dtype=np.dtype(tree["dtype"]))
    missing = arrays[tree["missing"]]
    full = np.full(len(missing), None, dtype=object)
    full[~missing] = values.tolist()
    return pd.Series(full, dtype=tree["dtype"])


def _read_index(tree: dict, arrays: Any) -> pd.Index:
    name = decode(tree["name"], arrays)
    if "range" in tree:
        return pd.RangeIndex(*tree["range"], name=name)
    return pd.Index(_read_column(tree["column"], arrays), name=name)


def decode(tree: Any, arrays: Any) -> Any:
    """Rebuild what ``encode`` wrote (``arrays``: the loaded NPZ)."""
    if isinstance(tree, list):
        return [decode(v, arrays) for v in tree]
    if not isinstance(tree, dict):
        return tree
    if "$scalar" in tree:
        return np.dtype(tree["$scalar"]).type(tree["value"])
    if "$array" in tree:
        return arrays[tree["$array"]]
    if "$tuple" in tree:
        return tuple(decode(v, arrays) for v in tree["$tuple"])
    if "$dict" in tree:
        return {decode(k, arrays): decode(v, arrays) for k, v in tree["$dict"]}
    if "$frame" in tree:
        columns = [decode(c, arrays) for c in tree["columns"]]
        index = _read_index(tree["index"], arrays)
        data = {i: _read_column(c, arrays).set_axis(index) for i, c in enumerate(tree["$frame"])}
        frame = pd.DataFrame(data, index=index)
        frame.columns = pd.Index(columns, name=decode(tree["columns_name"], arrays))
        return frame
    if "$series" in tree:
        index = _read_index(tree["index"], arrays)
        return _read_column(tree["$series"], arrays).set_axis(index).rename(decode(tree["name"], arrays))
    if "$dataclass" in tree:
        cls = _core_class(tree["$dataclass"])
        names = {f.name for f in dataclasses.fields(cls)}
        if set(tree["fields"]) != names:
            raise ValueError(f"{cls.__qualname__} fields changed: {sorted(names ^ set(tree['fields']))}")
        obj = object.__new__(cls)
        for name, value in tree["fields"].items():
            object.__setattr__(obj, name, decode(value, arrays))
        return obj
    raise ValueError(f"unknown node {sorted(tree)[:3]}")


# ---------------------------------------------------------------------------------------------------------------


class DiskCache:
    """Finished runs in ``folder``, at most ``max_bytes`` in total, valid for one version of the core code.

    Parameters
    ----------
    folder : Path
        Created on first write.
    max_bytes : int
        The least recently used entries are deleted when the folder's entries exceed this.
    code : str, optional
        The code version entries must carry (default: ``code_hash()`` of the ``core`` package).
    """

    def __init__(self, folder: Path, *, max_bytes: int, code: str | None = None) -> None:
        self.folder = Path(folder)
        self.max_bytes = int(max_bytes)
        self.code = code or code_hash()

    def _stem(self, key: tuple) -> Path:
        name = hashlib.sha256(json.dumps([self.code, *key]).encode()).hexdigest()[:40]
        return self.folder / f"run-{name}"

    def load(self, key: tuple) -> Stored | None:
        """The stored run of ``key``, or ``None`` (missing, corrupt or foreign files are logged and ignored)."""
        stem = self._stem(key)
        meta, npz = stem.with_suffix(".json"), stem.with_suffix(".npz")
        if not meta.is_file():
            return None
        try:
            head = json.loads(meta.read_text())
            if head.get("format") != FORMAT or head.get("code") != self.code or head.get("key") != list(key):
                log.warning("Ignoring %s: written for another run or another version of the core code", meta)
                return None
            with np.load(npz, allow_pickle=False) as arrays:
                result = decode(head["result"], arrays)
            stored = Stored(
                result, tuple(head["warnings"]), float(head["computed_at"]), float(head["seconds"]), head["warm"]
            )
        except Exception:
            log.warning("Ignoring the unreadable cached run %s", meta, exc_info=True)
            return None
        now = time.time()
        for path in (meta, npz):
            os.utime(path, (now, now))  # least recently *used* goes first
        return stored

    def save(self, key: tuple, stored: Stored) -> bool:
        """Write a finished run; ``False`` (and nothing written) when its result holds an unsupported type."""
        arrays: dict[str, np.ndarray] = {}
        try:
            tree = encode(stored.result, arrays)
        except Unsupported as exc:
            log.info("Run %s stays in memory only: %s", key[:2], exc)
            return False
        head = {
            "format": FORMAT,
            "code": self.code,
            "key": list(key),
            "warnings": list(stored.warnings),
            "computed_at": stored.computed_at,
            "seconds": stored.seconds,
            "warm": stored.warm,
            "result": tree,
        }
        stem = self._stem(key)
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = stem.with_name(f".{stem.name}.{os.getpid()}.tmp")
        with open(tmp.with_suffix(".npz"), "wb") as f:
            np.savez(f, **arrays)
        tmp.with_suffix(".json").write_text(json.dumps(head))
        os.replace(tmp.with_suffix(".npz"), stem.with_suffix(".npz"))  # the JSON goes last: it marks a full entry
        os.replace(tmp.with_suffix(".json"), stem.with_suffix(".json"))
        self.evict()
        return True

    def evict(self) -> None:
        """Delete least recently used entries until the folder's entries fit in ``max_bytes``."""
        entries = []
        for meta in self.folder.glob("run-*.json"):
            npz = meta.with_suffix(".npz")
            try:
                size = meta.stat().st_size + (npz.stat().st_size if npz.exists() else 0)
                entries.append((meta.stat().st_mtime, size, meta, npz))
            except FileNotFoundError:
                continue
        total = sum(e[1] for e in entries)
        for _, size, meta, npz in sorted(entries, key=lambda e: e[0]):
            if total <= self.max_bytes:
                break
            meta.unlink(missing_ok=True)
            npz.unlink(missing_ok=True)
            total -= size
