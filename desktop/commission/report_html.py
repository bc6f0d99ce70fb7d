"""The commissioning report as HTML for QTextDocument, with page breaks chosen by the PDF pager.

Plain Python, any thread. ``build(data, breaks)`` returns the HTML and the
list of tables in document order, so the pager (report_pdf) can map a table
row that would be cut by a page end back to (table, row) and ask for a
break there: the table is then closed and continued on the next page with
its header row repeated. ``breaks`` also holds ("h", n) for a section heading
that would be left alone at the bottom of a page.
"""

from __future__ import annotations

import html

from .clock import offset_text

RESULT_TEXT = {"ok": "Verified", "unchanged": "Verified (already set)", "sent": "Sent (no read-back)",
               "mismatch": "Read-back mismatch", "refused": "Refused by the device"}
CT_TEXT = {"ok": "Passed", "reversed": "Failed: CT reversed", "mismatch": "Failed: readings disagree",
           "inconclusive": "Not conclusive"}
INK, MUTED, LINE, HEAD_BG = "#1d3557", "#5a6270", "#c9d1db", "#e8edf3"
GOOD, BAD, WARN = "#1e7b45", "#b3261e", "#9a5b00"


def e(text) -> str:
    return html.escape("" if text is None else str(text))


class Html:
    """Accumulates the body; tables and headings are numbered for the pager."""

    def __init__(self, breaks: set) -> None:
        self.breaks = breaks
        self.parts: list[str] = []
        self.tables: list[tuple[int, int, int]] = []  # physical tables: (logical table, first row, heading)
        self._table_no = 0
        self._heading_no = 0    # headings so far (the pager's index)
        self._section_no = 0    # numbered sections so far

    def add(self, text: str) -> None:
        self.parts.append(text)

    def heading(self, text: str, numbered: bool = True) -> None:
        brk = " page-break-before: always;" if ("h", self._heading_no) in self.breaks else ""
        if self._heading_no:
            self.add('<p style="font-size: 5pt">&nbsp;</p>')  # QTextDocument ignores a table's bottom margin
        if numbered:
            self._section_no += 1
            text = f"{self._section_no}   {text}"
        self.add(f'<h2 style="font-size: 12.5pt; font-weight: 600; color: {INK}; margin-top: 18pt; '
                 f'margin-bottom: 6pt;{brk}">{e(text)}</h2>')
        self._heading_no += 1

    def raw_table(self, html_text: str, logical: int) -> None:
        """A table the pager must not cut (it moves the section instead)."""
        self.add(html_text)
        self.tables.append((logical, 0, self._heading_no - 1))

    def table(self, rows: list[list[str]], widths: list[int], headers: list[str] | None = None,
              lines: bool = True) -> None:
        """A full-width table; cells are HTML already (escape before)."""
        n = self._table_no
        self._table_no += 1
        cell = f"border-bottom: 1px solid {LINE};" if lines else ""
        head = ""
        if headers:
            head = "<thead><tr>" + "".join(
                f'<th width="{w}%" align="left" style="background-color: {HEAD_BG}; color: {INK}; '
                f'font-weight: 600; {cell}">{h}</th>' for h, w in zip(headers, widths)) + "</tr></thead>"
        start = 0
        for i in range(len(rows) + 1):
            if i < len(rows) and not (i > start and (n, i) in self.breaks):
                continue
            brk = "page-break-before: always; " if (n, start) in self.breaks else ""
            body = "".join("<tr>" + "".join(
                f'<td width="{w}%" valign="top" style="{cell}">{c}</td>' for c, w in zip(r, widths)) + "</tr>"
                for r in rows[start:i])
            self.add(f'<table width="100%" cellspacing="0" cellpadding="3" '
                     f'style="{brk}border-collapse: collapse; margin-bottom: 4pt">{head}{body}</table>')
            self.tables.append((n, start, self._heading_no - 1))
            start = i

    def kv(self, pairs: list[tuple[str, str]]) -> None:
        self.table([[f'<span style="color: {MUTED}">{e(k)}</span>', v] for k, v in pairs], [32, 68])

    def html(self) -> str:
        return "<html><body>" + "".join(self.parts) + "</body></html>"


def span(text: str, colour: str, bold: bool = True) -> str:
    return f'<span style="color: {colour};{" font-weight: 600;" if bold else ""}">{e(text)}</span>'


def build(d, breaks: set | None = None) -> tuple[str, list[tuple[int, int, int]]]:
    """(HTML, physical tables in document order) for ReportData ``d``."""
    h = Html(breaks or set())
    dev = d.devices[0] if d.devices else {}
    subtitle = (f"Site of {len(d.devices)} device{'s' if len(d.devices) != 1 else ''}"
                if d.site else f'{e(dev.get("model", ""))}<br>Serial number {e(d.serial)}')
    right = (f"{e(d.company)}<br>" if d.company else "") + f"{e(d.date_text)}<br>Report {e(d.report_id)}"
    h.raw_table(f'<table width="100%" cellspacing="0" cellpadding="0"><tr><td valign="bottom">'
                f'<p style="font-size: 21pt; font-weight: 600; color: {INK}">Commissioning report</p>'
                f'<p style="font-size: 10.5pt; color: {MUTED}">{subtitle}</p></td>'
                f'<td align="right" valign="bottom"><p style="font-size: 9pt; color: {MUTED}">{right}</p></td>'
                f'</tr></table>', -1)
    h.add(f'<hr style="height: 2px; background-color: {INK}">')

    h.heading("Site and customer")
    h.kv([("Customer", e(d.customer_name or "—")), ("Site", e(d.site_name or "—")),
          ("Installed PV capacity", e(f"{d.site_capacity_kwp:g} kWp") if d.site_capacity_kwp else "—"),
          ("Commissioned by", e(d.installer or "—")), ("Date", e(d.date_text))])

    h.heading("Devices")
    for n, dv in enumerate(d.devices):
        if d.site and n:
            h.add(f'<hr style="height: 1px; background-color: {LINE}">')
        ident = [(i["label"], e(i["text"])) for i in dv.get("identity", []) if i["label"] != "Serial number"]
        where = ([("Link", e(f'{dv.get("link")} unit {dv.get("unit")}'))] if d.site else []) + \
            ([("Parallel role", e(dv["role"]))] if dv.get("role") else [])
        h.kv([("Device", f'<b>{e(dv.get("model"))}</b>'), ("Serial number", f'<b>{e(dv.get("serial"))}</b>')]
             + where + ident)
        fw = dv.get("firmware", [])
        if fw:
            h.add('<p style="font-size: 4pt"> </p>')
            h.table([[e(c.get("label")), e(c.get("version") or "n/a"),
                      e(c.get("hardware") if c.get("hardware") is not None else "—"), e(c.get("serial") or "—")]
                     for c in fw], [34, 22, 16, 28], ["Component", "Firmware", "Hardware", "Serial number"])
        if d.site:
            _site_device(h, dv)
    if d.site:
        _site_tail(h, d)
        return h.html(), h.tables

    h.heading("Settings applied")
    if d.settings:
        rows = [[e(s.get("label")), e(s.get("old_text") or "—"), e(s.get("new_text")),
                 e(s.get("readback_text") or "—"),
                 span(RESULT_TEXT.get(s.get("result", ""), s.get("result", "")), GOOD if s.get("ok") else BAD)]
                for s in d.settings]
        h.table(rows, [25, 19, 19, 19, 18], ["Setting", "Before", "Set to", "Read back", "Result"])
        bad = [s for s in d.settings if not s.get("ok")]
        if bad:
            h.add(f'<p style="color: {BAD}">' + e(f"{len(bad)} setting(s) did not take: ")
                  + "; ".join(e(s.get("message")) for s in bad) + "</p>")
        else:
            h.add(f'<p style="color: {MUTED}">Every setting was read back from the device and matches.</p>')
    else:
        h.add("<p>No settings were changed.</p>")
    if d.clock or d.clock_set:
        h.heading("Clock")
        pairs = []
        if d.clock_set:
            zone = d.clock_set.get("zone")
            if zone:
                pairs.append(("Time zone written", e(f"{zone} ({offset_text(d.clock_set.get('zone_offset_min'))})")))
            pairs += [("Before setting", e((d.clock_set.get("before") or {}).get("drift"))),
                      ("After setting", e((d.clock_set.get("after") or d.clock_set).get("drift")))]
        if d.clock:
            pairs += [("Device clock", e(d.clock.get("device_local"))), ("Laptop clock", e(d.clock.get("laptop_local"))),
                      ("At the final check" if d.clock_set else "Difference", e(d.clock.get("drift")))]
        h.kv(pairs)

    h.heading("CT direction check")
    if d.ct:
        status = d.ct.get("status")
        colour = GOOD if status == "ok" else (WARN if status == "inconclusive" else BAD)
        pairs = [("Result", span(CT_TEXT.get(status, status), colour)), ("Finding", e(d.ct.get("summary")))]
        if status != "ok":
            pairs.append(("What to do", e(d.ct.get("advice"))))
        if d.ct.get("gain") is not None:
            pairs.append(("Evidence", e(f"meter reading / expected = {d.ct['gain']:+.2f} "
                                        f"({d.ct.get('informative')} of {d.ct.get('samples')} samples)")))
        if d.ct.get("ct_direction_setting"):
            pairs.append(("CT direction setting", e(d.ct["ct_direction_setting"])))
        h.kv(pairs)
    else:
        h.add(f'<p style="color: {WARN}">The CT direction check was not run.</p>')

    h.heading("Live values at handover")
    if d.live:
        half = (len(d.live) + 1) // 2
        right_col = d.live[half:] + [None]
        rows = [[f'<span style="color: {MUTED}">{e(a["label"])}</span>', e(a["text"]),
                 f'<span style="color: {MUTED}">{e(b["label"])}</span>' if b else "", e(b["text"]) if b else ""]
                for a, b in zip(d.live[:half], right_col)]
        h.table(rows, [29, 21, 29, 21])
        alarms = "; ".join(f'{a.get("code")} {a.get("text")}' for a in d.alarms) or "none"
        h.add(f'<p>Active alarms: {span(alarms, GOOD if not d.alarms else BAD)}</p>')
    else:
        h.add(f'<p style="color: {WARN}">The final live check was not run.</p>')
    if d.skipped:
        h.add(f'<p style="color: {MUTED}">Steps skipped: {e(", ".join(d.skipped))}.</p>')
    if d.notes:
        h.heading("Notes", numbered=False)
        h.add(f"<p>{e(d.notes)}</p>")

    _handover(h, d)
    return h.html(), h.tables


def _site_device(h: Html, dv: dict) -> None:
    """A site device's settings as read and its checks."""
    if dv.get("device_settings"):
        h.add('<p style="font-size: 4pt"> </p>')
        h.table([[e(s["label"]), e(s["text"])] for s in dv["device_settings"]], [50, 50], ["Setting", "Value"])
    if dv.get("checks"):
        h.add('<p style="font-size: 4pt"> </p>')
        h.table([[e(c["check"]), span("Passed" if c["ok"] else "Failed", GOOD if c["ok"] else BAD), e(c["detail"])]
                 for c in dv["checks"]], [25, 15, 60], ["Check", "Result", "Detail"])


def _site_tail(h: Html, d) -> None:
    failed = [(dv, c) for dv in d.devices for c in dv.get("checks", []) if not c["ok"]]
    h.heading("Checks of the site")
    if failed:
        h.add(f'<p style="color: {BAD}">' + e(f"{len(failed)} check(s) failed: ") + "; ".join(
            e(f'{dv.get("model")} {dv.get("serial")}: {c["check"]} ({c["detail"]})') for dv, c in failed) + "</p>")
    else:
        h.add(f'<p style="color: {GOOD}">Every device answered and passed its checks.</p>')
    if d.notes:
        h.heading("Notes", numbered=False)
        h.add(f"<p>{e(d.notes)}</p>")
    _handover(h, d)


def _handover(h: Html, d) -> None:
    h.heading("Handover")
    h.add("<p>The system was commissioned with the settings above and handed over in working order. "
          "Keep this report with the system's documents.</p>")
    sig = f"border-bottom: 1px solid {INK};"
    h.raw_table(f'<table width="100%" cellspacing="0" cellpadding="6" style="margin-top: 28pt"><tr>'
                f'<td width="45%" style="{sig}"><br><br><br></td><td width="10%"></td>'
                f'<td width="45%" style="{sig}"><br><br><br></td></tr>'
                f'<tr><td style="color: {MUTED}; font-size: 8pt">Installer: {e(d.installer)}<br>date, signature</td>'
                f'<td></td><td style="color: {MUTED}; font-size: 8pt">Customer: {e(d.customer_name)}<br>'
                f'date, signature</td></tr></table>', -2)
