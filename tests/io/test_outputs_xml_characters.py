"""Text cells with characters XML 1.0 cannot hold (controls, surrogates, U+FFFE/U+FFFF)
are written escaped, so the workbook opens (hypothesis found a description with U+FFFE
that made the streamed results sheet unreadable)."""

from __future__ import annotations

import openpyxl
import pytest

from stikstofcalc.io.excel.cells import excel_safe
from stikstofcalc.io.excel.stream import _text_tail


@pytest.mark.parametrize("raw, want", [("a\x01b", "a\\x01b"), ("a\ufffeb", "a\\ufffeb"),
                                       ("a\uffffb", "a\\uffffb"), ("a\ud800b", "a\\ud800b"),
                                       ("tab\tnl\n\U0010fe8e", "tab\tnl\n\U0010fe8e")])
def test_illegal_characters_are_escaped(raw, want):
    assert excel_safe(raw) == (want, raw != want)


def test_streamed_text_cell_with_ufffe_opens(tmp_path):
    from xml.etree import ElementTree as ET

    tail = _text_tail("x\ufffey\ud800")
    ET.fromstring('<c r="A1"' + tail)  # well-formed XML
    wb = openpyxl.Workbook()
    wb.active["A1"] = excel_safe("x\ufffey")[0]
    wb.save(tmp_path / "a.xlsx")
    assert openpyxl.load_workbook(tmp_path / "a.xlsx")["Sheet"]["A1"].value == "x\\ufffey"
