"""The `{field}` templates of a task file: which placeholders are allowed (checked when the file is
read) and how one is filled from an example's fields."""

from __future__ import annotations

import json
import re
import string
from typing import Any

_FIELD = re.compile(r"[A-Za-z_]\w*(\[[^\[\]]+\])*\Z")  # name, then [key] or [index] parts


def template_fields(template: str) -> list[str]:
    """Every placeholder of a template as written ('text', 'choices[0]'), those nested in a format
    spec included; ValueError for any that is not a field name, optionally indexed. Attribute
    access ('{text.__class__}') and conversions ('!r') render Python internals, the same for
    every example, instead of its data; positional fields ('{}', '{0}') have nothing to fill them."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as e:
        raise ValueError(f"bad template {template!r}: {e}") from None
    names = []
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        shown = "{" + name + (f"!{conversion}" if conversion else "") + "}"
        if not _FIELD.match(name):
            why = ("attribute access is not allowed" if "." in name and _FIELD.match(name.split(".")[0])
                   else "a placeholder must name a field" if not name or name[0].isdigit() or name[0] == "["
                   else "not a field name")
            raise ValueError(f"placeholder {shown}: {why}; use {{field}}, or {{field[key]}} / {{field[0]}} to "
                             f"read into a list or table field")
        if conversion:
            raise ValueError(f"placeholder {shown}: conversions (!r, !s, !a) are not allowed; use {{{name}}}")
        names.append(name)
        names += template_fields(spec or "")
    return names


def placeholders(template: str) -> set[str]:
    """The field names a template uses ('{{' is a literal brace; '{choices[0]}' uses 'choices')."""
    return {name.split("[")[0] for name in template_fields(template)}


NOT_BARE = object()


def bare_value(template: str, fields: dict[str, Any]) -> Any:
    """The value of a template that is a single '{field}' or '{field[key]}', else NOT_BARE."""
    if not re.fullmatch(r"\{[^{}!:]+\}", template):
        return NOT_BARE
    value, _ = string.Formatter().get_field(template[1:-1], (), fields)
    return value


def render_value(template: str, fields: dict[str, Any]) -> str:
    """A template filled in; a bare placeholder holding a list or dict renders as JSON, not repr."""
    value = bare_value(template, fields)
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return template.format_map(fields)
