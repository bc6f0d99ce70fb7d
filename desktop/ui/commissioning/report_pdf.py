"""The commissioning report's PDF: QTextDocument laid out on A4 by QPdfWriter, paged by hand.

Runs on the GUI thread (or the CLI's main thread with an offscreen
QGuiApplication made here). Imports QtGui only, and only when called.

Paging: QTextDocument would cut a table row or leave a section heading alone
at the bottom of a page. The pager lays the document out, finds the first
row cut by a page end (or a heading in a page's last ``ORPHAN_SHARE``), asks
report_html for a break there, and lays out again until nothing is cut. Every
page gets the same footer: report number and page n of m.
"""

from __future__ import annotations

import os
import sys

from desktop.commission import report_html

ORPHAN_SHARE = 0.12   # a heading in the last 12 % of a page moves to the next page
_APP = None


def ensure_gui_app():
    """QTextDocument needs a QGuiApplication: reuse the app's, or make an offscreen one (CLI)."""
    global _APP
    from PySide6.QtGui import QGuiApplication
    app = QGuiApplication.instance()
    if app is None:
        if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        _APP = app = QGuiApplication(["pvdesk"])
    return app


def _writer(title: str, bottom_margin_mm: float):
    """(buffer bytes, buffer, A4 portrait QPdfWriter at 300 dpi, body font, width px, height px): the set-up
    the report and the short documents (receipts) share."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF
    from PySide6.QtGui import QFont, QPageLayout, QPageSize, QPdfWriter
    ba = QByteArray()
    buf = QBuffer(ba)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buf)
    writer.setResolution(300)
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait,
                                     QMarginsF(20, 16, 20, bottom_margin_mm), QPageLayout.Unit.Millimeter))
    writer.setTitle(title)
    writer.setCreator("PVDesk")
    area = writer.pageLayout().paintRectPixels(writer.resolution())
    font = QFont()
    font.setFamilies(["Segoe UI", "Helvetica Neue", "Arial", "DejaVu Sans", "Sans Serif"])
    font.setPointSizeF(9.5)
    font.setFeature(QFont.Tag("liga"), 0)   # no "ﬁ" ligature glyphs: the PDF's text stays searchable as typed
    return ba, buf, writer, font, float(area.width()), float(area.height())


def _make_doc(html_text, writer, font, width, body_h):
    from PySide6.QtCore import QSizeF
    from PySide6.QtGui import QTextDocument
    doc = QTextDocument()
    doc.documentLayout().setPaintDevice(writer)
    doc.setDefaultFont(font)
    doc.setDocumentMargin(0)
    doc.setHtml(html_text)
    doc.setPageSize(QSizeF(width, body_h))
    return doc


def _first_cut(doc, tables, body_h):
    """The first place the layout cuts badly, as a break key for report_html, or None."""
    lay = doc.documentLayout()
    page = lambda y: int(y // body_h)  # noqa: E731
    found = []
    heading_no = 0
    block = doc.begin()
    while block.isValid():
        if block.blockFormat().headingLevel() == 2:
            r = lay.blockBoundingRect(block)
            if (r.bottom() % body_h) > (1 - ORPHAN_SHARE) * body_h or page(r.top()) != page(r.bottom()):
                found.append((r.top(), ("h", heading_no)))
            heading_no += 1
        block = block.next()
    for table, (logical, start, heading) in zip(doc.rootFrame().childFrames(), tables):
        head_rows = table.format().headerRowCount()
        for row in range(head_rows, table.rows()):
            cells = [table.cellAt(row, c) for c in range(table.columns())]
            top = min(lay.blockBoundingRect(c.firstCursorPosition().block()).top() for c in cells)
            bottom = max(lay.blockBoundingRect(c.lastCursorPosition().block()).bottom() for c in cells)
            if page(top) == page(bottom - 0.01) or bottom - top > 0.8 * body_h:
                continue
            index = start + row - head_rows
            key = ("h", heading) if (logical < 0 or index == 0) and heading >= 0 else (logical, index)
            found.append((top, key))
            break
    return min(found)[1] if found else None


def render(data) -> bytes:
    """The report of ReportData ``data`` as PDF bytes (A4 portrait)."""
    ensure_gui_app()
    from PySide6.QtCore import QPointF, QRectF, Qt
    from PySide6.QtGui import QColor, QFont, QPainter, QPen
    ba, buf, writer, font, width, height = _writer(f"Commissioning report {data.report_id}", 12)
    footer_h = 0.05 * height
    body_h = height - footer_h
    breaks: set = set()
    for _ in range(40):
        html_text, tables = report_html.build(data, breaks)
        doc = _make_doc(html_text, writer, font, width, body_h)
        cut = _first_cut(doc, tables, body_h)
        if cut is None or cut in breaks:
            break
        breaks.add(cut)
    pages = doc.pageCount()
    painter = QPainter(writer)
    small = QFont(font)
    small.setPointSizeF(7.5)
    for i in range(pages):
        if i:
            writer.newPage()
        painter.save()
        painter.translate(0, -i * body_h)
        doc.drawContents(painter, QRectF(0, i * body_h, width, body_h))
        painter.restore()
        y = body_h + footer_h * 0.3
        painter.setPen(QPen(QColor(report_html.LINE), 3))
        painter.drawLine(QPointF(0, y), QPointF(width, y))
        painter.setPen(QColor(report_html.MUTED))
        painter.setFont(small)
        rect = QRectF(0, y + footer_h * 0.1, width, footer_h * 0.5)
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                         f"Commissioning report {data.report_id}")
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                         f"Page {i + 1} of {pages}")
    painter.end()
    buf.close()
    return bytes(ba.data())


def render_pdf(data, path: str | os.PathLike | None = None) -> bytes:
    """The report (desktop.commission.report.ReportData) as PDF bytes; also written to ``path`` when given."""
    pdf = render(data)
    if path is not None:
        with open(path, "wb") as fh:
            fh.write(pdf)
    return pdf
def render_html(html_text: str, title: str) -> bytes:
    """Simple HTML (an erasure receipt, see desktop/records/receipt.py) as A4 PDF bytes, paged by
    QTextDocument itself: the documents are short and have no tables worth keeping whole."""
    ensure_gui_app()
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QPainter
    ba, buf, writer, font, width, height = _writer(title, 16)
    doc = _make_doc(html_text, writer, font, width, height)
    painter = QPainter(writer)
    for i in range(doc.pageCount()):
        if i:
            writer.newPage()
        painter.save()
        painter.translate(0, -i * height)
        doc.drawContents(painter, QRectF(0, i * height, width, height))
        painter.restore()
    painter.end()
    buf.close()
    return bytes(ba.data())
