"""Front matter values written as YAML scalars that read back as exactly the text given."""

from __future__ import annotations

import re
from collections.abc import Sequence

import yaml

from mdfollow.core.parse import load_yaml

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PLAIN_FIRST = re.compile(r"""^[^\s\-?:,\[\]{}#&*!|>'"%@`]""")
_FLOW_INDICATORS = re.compile(r"[,\[\]{}]")
_SHORT_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def yaml_value(value: str, *, flow: bool = False) -> str:
    """`value` as a YAML scalar that reads back as exactly this text: plain when that is
    unambiguous (and for ISO dates), double-quoted otherwise. `flow` for inside `[...]`."""
    if _ISO_DATE.match(value):
        return value
    plain = (
        value == value.strip()
        and _PLAIN_FIRST.match(value) is not None
        and ": " not in value
        and " #" not in value
        and not value.endswith(":")
        and not (flow and _FLOW_INDICATORS.search(value))
        and all(ch == _escape(ch) for ch in value)
    )
    return value if plain and _reads_back(value, value) else '"' + "".join(_escape(ch) for ch in value) + '"'


def yaml_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(yaml_value(v, flow=True) for v in values) + "]"


def quoted(value: str, style: str | None) -> str | None:
    """`value` in an old value's quotes (`'` or `"`), if it reads back exactly that way."""
    if style == '"':
        text = '"' + "".join(_escape(ch) for ch in value) + '"'
    elif style == "'" and all(ch == _escape(ch) or ch in '"\\' for ch in value):
        text = "'" + value.replace("'", "''") + "'"
    else:
        return None
    return text if _reads_back(text, value) else None


def _reads_back(written: str, value: str) -> bool:
    """Whether `key: written` reads back as `value`, both as mdfollow reads front matter and
    as a YAML 1.1 reader would (PyYAML, older tools), so no reader sees a number or a yes/no."""
    try:
        return all(load(f"k: {written}") == {"k": value} for load in (load_yaml, yaml.safe_load))
    except yaml.YAMLError:
        return False


def _escape(ch: str) -> str:
    """One character inside a double-quoted YAML scalar. Line breaks of any kind (they would
    split the line for `str.splitlines`) and characters YAML may not hold are escaped."""
    if ch in '"\\':
        return "\\" + ch
    if ch in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[ch]
    code = ord(ch)
    if code < 0x20 or 0x7F <= code <= 0x9F or ch in "\u2028\u2029\ufffe\uffff" or 0xD800 <= code <= 0xDFFF:
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return ch
