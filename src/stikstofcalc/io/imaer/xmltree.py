"""A namespace-aware XML tree that remembers the line of every element.

:mod:`xml.etree.ElementTree` drops line numbers, and the error messages of
``check-imaer`` must name the line. This module builds ordinary
``ElementTree`` elements with :mod:`xml.parsers.expat` (the parser ElementTree
itself uses) and keeps a line table beside them. Tags are in Clark notation
(``{namespace}local``). External entities are never fetched.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from xml.parsers import expat


class XMLSyntaxError(ValueError):
    """Not well-formed XML; ``line`` and ``column`` point at the problem."""

    def __init__(self, message, line, column):
        super().__init__(message)
        self.line, self.column = line, column


@dataclass
class Tree:
    """A parsed document: the root element and the line of every element."""

    root: ET.Element
    lines: dict = field(default_factory=dict)
    namespaces: dict = field(default_factory=dict)

    def line(self, element) -> int | None:
        """Line (1-based) on which ``element`` starts."""
        return self.lines.get(id(element))


def parse(data: bytes) -> Tree:
    """Parse XML bytes into a :class:`Tree` (raises :class:`XMLSyntaxError`)."""
    parser = expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    stack, lines, prefixes = [], {}, {}
    root = []

    def start(name, attrs):
        tag = "{" + name if "}" in name else name
        attrib = {("{" + k if "}" in k else k): v for k, v in attrs.items()}
        elem = ET.Element(tag, attrib) if not stack else ET.SubElement(stack[-1], tag, attrib)
        lines[id(elem)] = parser.CurrentLineNumber
        if not stack:
            root.append(elem)
        stack.append(elem)

    def end(name):
        stack.pop()

    def text(data):
        elem = stack[-1] if stack else None
        if elem is None:
            return
        if len(elem):
            elem[-1].tail = (elem[-1].tail or "") + data
        else:
            elem.text = (elem.text or "") + data

    def ns_start(prefix, uri):
        prefixes.setdefault(prefix or "", uri)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.StartNamespaceDeclHandler = ns_start
    parser.buffer_text = True
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise XMLSyntaxError(expat.ErrorString(exc.code), exc.lineno, exc.offset) from None
    return Tree(root[0], lines, prefixes)


def local(tag: str) -> str:
    """Local name of a Clark-notation tag."""
    return tag.rsplit("}", 1)[-1]


def namespace(tag: str) -> str:
    """Namespace URI of a Clark-notation tag ('' if none)."""
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""
