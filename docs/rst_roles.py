"""A griffe extension for the API reference: docstrings written for Sphinx read as Markdown.

The docstrings use reStructuredText roles (``:class:`QuoteClient```) and
``::`` before literal blocks, which Markdown would show as they are. This
turns a role into inline code, linked to the reference when it names a
public object (``asyncquote.X`` or ``asyncquote.sim.X``), and ``text::``
into ``text:``, and escapes a ``>`` that starts a line (``> 0``), which
Markdown would take for a quote. Docstrings in the code stay as they are; mkdocs.yml loads
this for mkdocstrings (and keeps it out of the site).
"""

from __future__ import annotations

import importlib
import inspect
import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:class|exc|func|meth|attr|data|mod|obj):`(~?)([\w.]+?)(\(\))?`")
PUBLIC_MODULES = ("asyncquote", "asyncquote.sim")


def public_path(target: str) -> str | None:
    """The reference's identifier for ``target`` (e.g. "asyncquote.QuoteClient.request"), or None.

    A member that the reference shows under a heading of its own (a method,
    a property) is linked to; any other (an enum member, a field) to its class.
    """
    parts = target.split(".")
    for module in sorted(PUBLIC_MODULES, key=len, reverse=True):
        prefix = module.split(".")
        if parts[: len(prefix)] == prefix:  # a full path
            parts = parts[len(prefix) :]
            break
    else:  # a name relative to the module the docstring is in
        module = next((m for m in PUBLIC_MODULES if parts[0] in public_names(m)), "")
    if not module or not parts or parts[0] not in public_names(module):
        return None
    obj: Any = getattr(importlib.import_module(module), parts[0])
    linked = [parts[0]]
    for part in parts[1:]:
        member = inspect.getattr_static(obj, part, None)
        if not (inspect.isfunction(member) or isinstance(member, (property, classmethod))):
            break
        linked.append(part)
        obj = getattr(obj, part)
    return ".".join([module, *linked])


def public_names(module: str) -> list[str]:
    return list(importlib.import_module(module).__all__)


def markdown(text: str) -> str:
    def role(match: re.Match[str]) -> str:
        short, target, call = match.groups()
        shown = (target.rsplit(".", 1)[-1] if short else target.lstrip(".")) + (call or "")
        path = public_path(target.lstrip("."))
        return f"[`{shown}`][{path}]" if path else f"`{shown}`"

    lines = []
    for line in ROLE.sub(role, text).split("\n"):
        if line.strip() == "::":
            continue
        if line.lstrip().startswith("> "):  # "> 0" continuing a line, not a quote
            line = line.replace("> ", "\\> ", 1)
        lines.append(line[:-1] if line.endswith("::") else line)
    return "\n".join(lines)


class RstRoles(griffe.Extension):
    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = markdown(obj.docstring.value)
