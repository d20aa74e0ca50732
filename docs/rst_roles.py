"""A griffe extension for the API reference: docstrings written for Sphinx read as Markdown.

The docstrings use reStructuredText roles (``:class:`QuoteClient```) and
``::`` before literal blocks, which Markdown would show as they are. This
turns a role into inline code, linked to the reference when it names a
public object (``asyncquote.X``, ``asyncquote.sim.X``, ``asyncquote.testing.X``),
``text::`` and the indented block after it into ``text:`` and a fenced code
block (``python`` when it parses as Python, else ``text``): left indented, a
block after a list item would be Markdown's continuation of the item, one
run-on paragraph. It also escapes a ``>`` that starts a line (``> 0``), which
Markdown would take for a quote. And it shows a method a class takes from
another module by assignment (``follow_user_security = follow_user_security``)
as that function, with its signature and docstring, not as an undocumented
attribute, which the reference would leave out. Docstrings in the code stay
as they are; mkdocs.yml loads this for mkdocstrings (and keeps it out of the site).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import textwrap
from typing import Any

import griffe

ROLE = re.compile(r":(?:class|exc|func|meth|attr|data|mod|obj):`(~?)([\w.]+?)(\(\))?`")
PUBLIC_MODULES = ("asyncquote", "asyncquote.sim", "asyncquote.testing")


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

    lines: list[str] = []
    source = ROLE.sub(role, text).split("\n")
    at = 0
    while at < len(source):
        line = source[at]
        at += 1
        if line.rstrip().endswith("::"):
            at = literal_block(line, source, at, lines)
            continue
        if line.lstrip().startswith("> "):  # "> 0" continuing a line, not a quote
            line = line.replace("> ", "\\> ", 1)
        lines.append(line)
    return "\n".join(lines)


def indent_of(line: str) -> int:
    return len(line) - len(line.lstrip())


def literal_block(line: str, source: list[str], at: int, lines: list[str]) -> int:
    """Append ``line`` ("text::") as "text:", then the block from ``at`` fenced.

    Returns the index of the first line after the block.
    """
    intro = line.rstrip()[:-2].rstrip()
    if intro.strip():
        lines.append(intro + ":")
    indent = indent_of(line)
    end = at
    while end < len(source) and (not source[end].strip() or indent_of(source[end]) > indent):
        end += 1
    while end > at and not source[end - 1].strip():
        end -= 1  # trailing blank lines belong to what follows
    code = textwrap.dedent("\n".join(source[at:end])).strip("\n")
    if not code:
        return end
    try:
        ast.parse(code)
        language = "python"
    except SyntaxError:
        language = "text"
    pad = " " * indent
    if lines and lines[-1].strip():
        lines.append("")
    fenced = [f"```{language}", *code.split("\n"), "```"]
    lines.extend(pad + row if row else "" for row in fenced)
    return end


class RstRoles(griffe.Extension):
    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = markdown(obj.docstring.value)

    def on_class_members(self, *, cls: griffe.Class, **kwargs: Any) -> None:
        for name, member in list(cls.members.items()):
            target = method_assigned_by_name(cls, name, member)
            if target is not None:
                cls.set_member(name, griffe.Alias(name, target, parent=cls))


def method_assigned_by_name(cls: griffe.Class, name: str, member: Any) -> str | None:
    """The path of the function a class attribute ``name = name`` binds, if it is one.

    ``QuoteClient`` takes ``follow_user_security`` from another module that
    way (``follow_user_security = follow_user_security``); griffe sees an
    attribute without a docstring, which the reference would leave out.
    """
    if member.is_alias or not member.is_attribute or str(member.value) != name:
        return None
    imported = cls.module.members.get(name)
    if imported is None or not imported.is_alias:
        return None
    return str(imported.target_path)
