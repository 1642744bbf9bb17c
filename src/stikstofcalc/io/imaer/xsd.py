"""Check an IMAER document against the content model of the IMAER XSD, offline.

Full XSD validation needs the OGC schemas (GML 3.2.1, gmlsf, xlink) that IMAER
imports; they are not available offline. This checker reads the IMAER schema
itself and checks what it defines: for every element whose type the schema
declares, the children must match the type's ``sequence``/``choice`` model
(order, minOccurs, maxOccurs, substitution groups, extension of base types),
required attributes must be present, and values of enumerated simple types must
be allowed ones. Content of GML types (geometry) and of the GML base types of
features (``gml:name``, ``gml:boundedBy`` ...) is not checked.

The schema file is AERIUS's (AGPL); it is read at run time from a path the
caller gives, never shipped.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from stikstofcalc.io.imaer import xmltree

XS = "http://www.w3.org/2001/XMLSchema"
_UNBOUNDED = -1


def _x(name):
    return f"{{{XS}}}{name}"


@dataclass
class Problem:
    """One content-model violation: the element, its line and what is wrong."""

    element: str
    line: int | None
    message: str

    def __str__(self):
        return f"line {self.line}, {self.element}: {self.message}"


class Schema:
    """The element and type declarations of one XSD (target namespace only)."""

    def __init__(self, path):
        tree = ET.parse(path)
        self.root = tree.getroot()
        self.tns = self.root.get("targetNamespace")
        self.prefixes = {}
        with open(path, "rb") as fh:
            self.prefixes = xmltree.parse(fh.read()).namespaces
        self.elements, self.complex, self.simple = {}, {}, {}
        for child in self.root:
            name = child.get("name")
            if child.tag == _x("element"):
                self.elements[self._own(name)] = child
            elif child.tag == _x("complexType"):
                self.complex[self._own(name)] = child
            elif child.tag == _x("simpleType"):
                self.simple[self._own(name)] = child
        self.members = {}
        for qname, decl in self.elements.items():
            head = decl.get("substitutionGroup")
            if head:
                self.members.setdefault(self.resolve(head), []).append(qname)
        self._models = {}

    def _own(self, name):
        return f"{{{self.tns}}}{name}"

    def resolve(self, prefixed: str) -> str:
        """``IMAER:Foo`` -> ``{namespace}Foo`` using the schema's prefixes."""
        prefix, _, name = prefixed.rpartition(":")
        return f"{{{self.prefixes.get(prefix, '')}}}{name}"

    def substitutes(self, qname) -> list:
        """``qname`` and every element that may stand in for it (transitively)."""
        out, todo = [], [qname]
        while todo:
            q = todo.pop()
            decl = self.elements.get(q)
            if decl is None or decl.get("abstract") != "true":
                out.append(q)
            todo.extend(self.members.get(q, []))
        return out

    # ------------------------------------------------------------------ content models

    def model(self, type_node):
        """(regex, {child qname: declaration}) for a complexType node, cached."""
        key = id(type_node)
        if key not in self._models:
            decls = {}
            regex = self._content(type_node, decls)
            self._models[key] = (re.compile(regex), decls)
        return self._models[key]

    def _content(self, type_node, decls) -> str:
        for child in type_node:
            if child.tag == _x("complexContent"):
                ext = child[0] if child[0].tag != _x("annotation") else child[1]
                base = self.resolve(ext.get("base"))
                parts = []
                if ext.tag == _x("extension"):
                    if base in self.complex:
                        parts.append(self._content(self.complex[base], decls))
                    else:  # a GML base type: its own (optional) gml children are not checked
                        parts.append(r"(?:<\{http://www\.opengis\.net/gml/3\.2\}[^>]*>)*")
                parts += [self._particle(p, decls) for p in ext if p.tag in (
                    _x("sequence"), _x("choice"), _x("element"))]
                return "".join(parts)
            if child.tag in (_x("sequence"), _x("choice")):
                return self._particle(child, decls)
            if child.tag == _x("simpleContent"):
                return ""
        return ""

    def _particle(self, node, decls) -> str:
        lo = int(node.get("minOccurs", "1"))
        hi = node.get("maxOccurs", "1")
        hi = _UNBOUNDED if hi == "unbounded" else int(hi)
        if node.tag == _x("element"):
            if node.get("ref"):
                names = self.substitutes(self.resolve(node.get("ref")))
                for q in names:
                    decls[q] = self.elements.get(q)
            else:
                names = [self._own(node.get("name"))]
                decls[names[0]] = node
            body = "(?:" + "|".join(re.escape(f"<{q}>") for q in names) + ")"
        else:
            inner = [self._particle(p, decls) for p in node if p.tag in (
                _x("sequence"), _x("choice"), _x("element"))]
            body = "(?:" + ("".join(inner) if node.tag == _x("sequence") else "|".join(inner)) + ")"
        if (lo, hi) == (1, 1):
            return body
        return body + ("{%d,}" % lo if hi == _UNBOUNDED else "{%d,%d}" % (lo, hi))

    # ------------------------------------------------------------------ checking

    def type_of(self, decl):
        """complexType node of a declaration, a simpleType qname, or None (external)."""
        inline = decl.find(_x("complexType"))
        if inline is not None:
            return inline
        t = decl.get("type")
        if t is None:
            return None
        q = self.resolve(t)
        return self.complex.get(q, q)

    def check(self, tree: xmltree.Tree) -> list[Problem]:
        """All content-model problems of a parsed document (empty if none)."""
        root = tree.root
        decl = self.elements.get(root.tag)
        if decl is None:
            return [Problem(root.tag, tree.line(root), "not an element of this schema")]
        problems = []
        self._check(root, decl, tree, problems)
        return problems

    def _check(self, elem, decl, tree, problems):
        kind = self.type_of(decl)
        if isinstance(kind, str):
            self._check_value(elem, kind, tree, problems)
            return
        if kind is None:
            return
        regex, decls = self.model(kind)
        tokens = "".join(f"<{c.tag}>" for c in elem)
        if not regex.fullmatch(tokens):
            names = ", ".join(_short(c.tag) for c in elem) or "(none)"
            problems.append(Problem(_short(elem.tag), tree.line(elem),
                                    f"children [{names}] do not follow the schema sequence"))
        self._check_attributes(elem, kind, tree, problems)
        for child in elem:
            child_decl = decls.get(child.tag)
            if child_decl is not None:
                self._check(child, child_decl, tree, problems)

    def _enumeration(self, qname):
        node = self.simple.get(qname)
        if node is None:
            return None
        values = [e.get("value") for e in node.iter(_x("enumeration"))]
        return values or None

    def _check_value(self, elem, qname, tree, problems):
        allowed = self._enumeration(qname)
        text = (elem.text or "").strip()
        if allowed and text not in allowed:
            problems.append(Problem(_short(elem.tag), tree.line(elem),
                                    f"value {text!r} is not one of {', '.join(allowed)}"))

    def _type_chain(self, type_node):
        """The type and its IMAER base types (extension/restriction)."""
        while type_node is not None:
            yield type_node
            der = type_node.find(f"{_x('complexContent')}/*[@base]")
            type_node = None if der is None else self.complex.get(self.resolve(der.get("base")))

    def _check_attributes(self, elem, type_node, tree, problems):
        atts = [a for t in self._type_chain(type_node) for a in t.iter(_x("attribute"))]
        for att in atts:
            name = att.get("name")
            if name is None:
                continue
            value = elem.get(name)
            if value is None:
                if att.get("use") == "required":
                    problems.append(Problem(_short(elem.tag), tree.line(elem),
                                            f"required attribute {name} missing"))
                continue
            allowed = self._enumeration(self.resolve(att.get("type", "")))
            if allowed and value not in allowed:
                problems.append(Problem(_short(elem.tag), tree.line(elem),
                                        f"attribute {name}={value!r} is not one of {', '.join(allowed)}"))


def _short(tag):
    return ("imaer:" if "imaer.aerius.nl" in tag else "") + xmltree.local(tag)
