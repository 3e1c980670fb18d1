"""Sidebar controls bound to the URL, the seed control, presets, and validated uploads.

Every control takes a ``key``, which is also its query-parameter name, so a copied link reproduces the view.
Keys are unique across the app: prefix them with the page's short code (``ot_shift``, ``sk_eps``).
Call these inside ``with st.sidebar:`` (or any container).

With ``format_func``, Streamlit writes the *displayed label* into the URL (``?ot_kind=Diracs``), not the option
value; deep links and tests must use the label. Prefer options that read well as they are.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

MAX_UPLOAD_MB = 5
BIND = "query-params"
LINK_CHECKED = "_link_checked"  # session: the keys whose link value has been compared with what the control took
LINK_NOTES = "_link_notes"  # session: key -> (message, the value the control shows instead of the link's)


def _link_value(key: str) -> list[str] | None:
    """What the page's link gave ``key``, the first time its control is drawn in this session (else ``None``)."""
    checked: set = st.session_state.setdefault(LINK_CHECKED, set())
    if key in checked:
        return None
    checked.add(key)
    return st.query_params.get_all(key) or None


def _matches(given: str, value: Any, format_func: Callable[[Any], str]) -> bool:
    if isinstance(value, bool | np.bool_):
        return given.lower() == str(bool(value)).lower()
    if isinstance(value, int | float | np.integer | np.floating):
        try:
            return float(given) == float(value)
        except ValueError:
            return False
    return given in (format_func(value), str(value))


def _report_link(label: str, key: str, given: list[str] | None, value: Any, format_func: Callable = str) -> Any:
    """Say so when the link gave ``key`` a value the control could not take (Streamlit drops it silently).

    The message stays beside the control on every rerun (the router's first rerun included) until the control
    shows something else.
    """
    notes: dict = st.session_state.setdefault(LINK_NOTES, {})
    values = list(value) if isinstance(value, list | tuple) else [value]
    if given is not None and not (
        len(given) == len(values) and all(_matches(g, v, format_func) for g, v in zip(given, values, strict=True))
    ):
        shown = ", ".join(format_func(v) for v in values) or "nothing"
        notes[key] = (
            f'The link set `{key}={",".join(given)}`, which "{label}" cannot take, so it shows {shown}. '
            "Choose a value here, or fix the link.",
            value,
        )
    if key in notes:
        message, fallback = notes[key]
        if fallback == value:
            st.warning(message, icon=":material/link_off:")
        else:
            del notes[key]
    return value


def slider(
    label: str,
    min_value: Any,
    max_value: Any,
    value: Any,
    *,
    key: str,
    step: Any = None,
    help: str | None = None,
    format: str | None = None,
) -> Any:
    """A slider bound to the URL."""
    given = _link_value(key)
    value = st.slider(label, min_value, max_value, value, step=step, key=key, help=help, format=format, bind=BIND)
    return _report_link(label, key, given, value)


def select_slider(
    label: str,
    options: Sequence[Any],
    value: Any,
    *,
    key: str,
    help: str | None = None,
    format_func: Callable[[Any], str] = str,
) -> Any:
    """A slider over discrete options (e.g. log-spaced sizes), bound to the URL."""
    given = _link_value(key)
    value = st.select_slider(
        label, options=list(options), value=value, key=key, help=help, format_func=format_func, bind=BIND
    )
    return _report_link(label, key, given, value, format_func)


def select(
    label: str,
    options: Sequence[Any],
    value: Any,
    *,
    key: str,
    help: str | None = None,
    format_func: Callable[[Any], str] = str,
) -> Any:
    """A selectbox bound to the URL."""
    options = list(options)
    given = _link_value(key)
    value = st.selectbox(
        label, options, index=options.index(value), key=key, help=help, format_func=format_func, bind=BIND
    )
    return _report_link(label, key, given, value, format_func)


def radio(
    label: str,
    options: Sequence[Any],
    value: Any,
    *,
    key: str,
    help: str | None = None,
    format_func: Callable[[Any], str] = str,
    horizontal: bool = True,
) -> Any:
    """A radio group bound to the URL."""
    options = list(options)
    given = _link_value(key)
    value = st.radio(
        label,
        options,
        index=options.index(value),
        key=key,
        help=help,
        format_func=format_func,
        horizontal=horizontal,
        bind=BIND,
    )
    return _report_link(label, key, given, value, format_func)


def multiselect(
    label: str,
    options: Sequence[Any],
    value: Sequence[Any],
    *,
    key: str,
    help: str | None = None,
    format_func: Callable[[Any], str] = str,
) -> list[Any]:
    """A multiselect bound to the URL."""
    given = _link_value(key)
    value = st.multiselect(
        label, list(options), default=list(value), key=key, help=help, format_func=format_func, bind=BIND
    )
    return _report_link(label, key, given, value, format_func)


def toggle(label: str, value: bool, *, key: str, help: str | None = None) -> bool:
    """A toggle bound to the URL."""
    given = _link_value(key)
    return _report_link(label, key, given, st.toggle(label, value=value, key=key, help=help, bind=BIND))


def number(
    label: str,
    min_value: Any,
    max_value: Any,
    value: Any,
    *,
    key: str,
    step: Any = None,
    help: str | None = None,
    format: str | None = None,
) -> Any:
    """A number input bound to the URL; the value is clamped to [min_value, max_value] by the widget."""
    given = _link_value(key)
    value = st.number_input(
        label,
        min_value=min_value,
        max_value=max_value,
        value=value,
        step=step,
        key=key,
        help=help,
        format=format,
        bind=BIND,
    )
    return _report_link(label, key, given, value)


def text(label: str, value: str, *, key: str, help: str | None = None, max_chars: int | None = None) -> str:
    """A one-line text input bound to the URL."""
    return st.text_input(label, value=value, key=key, help=help, max_chars=max_chars, bind=BIND)


def seed(*, key: str, value: int = 0) -> int:
    """The seed control: the same seed gives the same result."""
    given = _link_value(key)
    value = int(
        st.number_input(
            "Seed",
            min_value=0,
            max_value=2**31 - 1,
            value=value,
            step=1,
            key=key,
            help="Same seed, same result.",
            bind=BIND,
        )
    )
    return _report_link("Seed", key, given, value)


def preset(label: str, presets: Mapping[str, Mapping[str, Any]], *, key: str, help: str | None = None) -> str:
    """A preset picker: choosing a preset writes its values into the controls named by its keys.

    Place it above the controls it sets. ``presets`` maps a preset name to ``{control_key: value}``; the
    first entry should be ``"Custom"`` with an empty mapping (leave the controls as they are).
    """
    names = list(presets)

    def apply() -> None:
        for control_key, value in presets[st.session_state[key]].items():
            st.session_state[control_key] = value

    return st.selectbox(label, names, key=key, help=help, on_change=apply)


def parse_csv(
    raw: bytes,
    *,
    required: Sequence[str] = (),
    numeric: Sequence[str] | None = None,
    min_rows: int = 1,
    max_rows: int = 100_000,
) -> pd.DataFrame:
    """Parse CSV bytes and check columns, row count and numbers; raise ``ValueError`` saying what to fix.

    ``numeric`` lists columns that must be finite numbers (default: the required ones).
    """
    try:
        df = pd.read_csv(io.BytesIO(raw))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValueError(
            f"The file is not a readable CSV ({exc}). Save it as comma-separated text with a header row."
        ) from None
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ValueError(
            f"The CSV needs the column(s) {', '.join(missing)}; it has {', '.join(df.columns)}. "
            "Rename the columns in the header row."
        )
    if not min_rows <= len(df) <= max_rows:
        raise ValueError(f"The CSV must have between {min_rows} and {max_rows} rows. Got {len(df)} instead.")
    for col in required if numeric is None else numeric:
        values = pd.to_numeric(df[col], errors="coerce")
        bad = int((~np.isfinite(values.to_numpy(dtype=float))).sum())
        if bad:
            raise ValueError(
                f"Column {col} has {bad} entries that are not finite numbers (text, NaN or inf). "
                "Fix or remove those rows."
            )
        df[col] = values.astype(float)
    return df


def parse_npz(raw: bytes, *, required: Sequence[str], optional: Sequence[str] = ()) -> dict[str, np.ndarray]:
    """Load an NPZ archive without unpickling; check the arrays named; raise ``ValueError`` saying what to fix."""
    if not raw.startswith(b"PK\x03\x04"):
        raise ValueError(
            "The file is not a readable NPZ archive (an NPZ is a zip of .npy arrays). Save it with numpy.savez."
        )
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as archive:
            names = set(archive.files)
            missing = [k for k in required if k not in names]
            if missing:
                raise ValueError(
                    f"The NPZ file needs the array(s) {', '.join(missing)}; it has "
                    f"{', '.join(sorted(names)) or 'none'}. Save it with np.savez(file, "
                    + ", ".join(f"{k}=..." for k in required)
                    + ")."
                )
            arrays = {k: archive[k] for k in (*required, *optional) if k in names}
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise ValueError(
                "The NPZ file holds Python objects, which are never unpickled here. Save plain numeric arrays."
            ) from None
        raise
    except (OSError, EOFError) as exc:
        raise ValueError(f"The file is not a readable NPZ archive ({exc}). Save it with numpy.savez.") from None
    for k, a in arrays.items():
        if a.dtype.kind not in "biuf":
            raise ValueError(f"Array {k} must be numeric. Got dtype {a.dtype} instead.")
        if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
            raise ValueError(f"Array {k} has NaN or inf entries. Remove or fix them.")
    return arrays


def _upload(label: str, types: list[str], key: str, help: str | None, max_mb: int) -> bytes | None:
    file = st.file_uploader(label, type=types, key=key, help=help or f"At most {max_mb} MB.", max_upload_size=max_mb)
    if file is None:
        return None
    if file.size > max_mb * 1024 * 1024:
        st.error(f"{file.name} is {file.size / 2**20:.1f} MB; the limit is {max_mb} MB. Upload a smaller file.")
        return None
    return file.getvalue()


def upload_csv(
    label: str,
    *,
    key: str,
    required: Sequence[str] = (),
    numeric: Sequence[str] | None = None,
    parser: Callable[[bytes], Any] | None = None,
    help: str | None = None,
    max_mb: int = MAX_UPLOAD_MB,
) -> Any | None:
    """A CSV uploader: returns the parsed data, or ``None`` (no file, or a problem shown with ``st.error``).

    ``parser`` replaces the default :func:`parse_csv` (e.g. a ``core`` reader that knows a file format); it
    must raise ``ValueError`` with a message that says what to fix.
    """
    raw = _upload(label, ["csv", "txt"], key, help, max_mb)
    if raw is None:
        return None
    try:
        return parser(raw) if parser else parse_csv(raw, required=required, numeric=numeric)
    except ValueError as exc:
        st.error(str(exc), icon=":material/error:")
        return None


def upload_npz(
    label: str,
    *,
    key: str,
    required: Sequence[str],
    optional: Sequence[str] = (),
    help: str | None = None,
    max_mb: int = MAX_UPLOAD_MB,
) -> dict[str, np.ndarray] | None:
    """An NPZ uploader (never unpickles): returns the arrays, or ``None`` with a problem shown by ``st.error``."""
    raw = _upload(label, ["npz"], key, help, max_mb)
    if raw is None:
        return None
    try:
        return parse_npz(raw, required=required, optional=optional)
    except ValueError as exc:
        st.error(str(exc), icon=":material/error:")
        return None
