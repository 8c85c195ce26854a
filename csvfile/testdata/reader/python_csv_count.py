"""Counts the data records of CSV files the way Python's csv module reads them, for TestReaderRowsMatchPython.

Reads one JSON object a line on stdin: {"name", "data" (base64), "encoding" (a Python codec), "bom" (bytes
of byte-order mark to drop), "sep" (the file begins with Excel's sep= line), "delimiter", and the framing:
"skip_lines", "skip_footer", "footer"}. Writes one JSON object a line: {"name", "records"} or {"name",
"error"}.

The framing is applied as pandas applies skiprows and skipfooter: skip_lines lines (after the sep= line)
are dropped before the records are read, whatever they hold; skip_footer records that hold data are
dropped from the end; and with footer, the records at the end whose values, joined by the delimiter,
the pattern matches (re.search), at most 100 of them.

The file is decoded without losing a byte's place (invalid UTF-8 as lone surrogates, unpaired UTF-16
surrogates as they are, a lone last UTF-16 byte as U+FFFD; Windows-1252 as Latin-1, which has the same
quote, delimiters and line breaks), split into lines at each line feed only (as encoding/csv does: a CR
alone is not a line break there), and read by csv.reader with strict=False and no field size limit. The
header is the first record that is not an empty line; the records counted are those after it that hold
data, by the Go reader's rule: not an empty line, not every value empty or white space (space, tab, CR,
LF, VT, FF), and not a Ctrl-Z alone as the file's very last record.
"""

import base64
import csv
import json
import re
import sys

csv.field_size_limit(sys.maxsize)
SPACE = set(" \t\r\n\v\f")


def count(data, encoding, bom, sep, delimiter, skip_lines=0, skip_footer=0, footer=""):
    raw = data[bom:]
    tail = ""
    if encoding.startswith("utf-16") and len(raw) % 2:
        raw, tail = raw[:-1], "\ufffd"
    errors = {"utf-8": "surrogateescape", "latin-1": "strict"}.get(encoding, "surrogatepass")
    text = raw.decode(encoding, errors) + tail
    if sep:
        text = text.split("\n", 1)[1] if "\n" in text else ""
    for _ in range(skip_lines):
        text = text.split("\n", 1)[1] if "\n" in text else ""
    lines = [line for line in re.split("(?<=\n)", text) if line]
    records = list(csv.reader(lines, delimiter=delimiter, strict=False))
    i = 0
    while i < len(records) and records[i] == []:
        i += 1
    body = records[i + 1:]
    kept = []
    for j, rec in enumerate(body):
        if rec == [] or all(set(v) <= SPACE for v in rec):
            continue
        if rec == ["\x1a"] and j == len(body) - 1:
            continue
        kept.append(rec)
    n = len(kept)
    if skip_footer:
        n = max(0, n - skip_footer)
    elif footer:
        pattern = re.compile(footer)
        while n > 0 and len(kept) - n < 100 and pattern.search(delimiter.join(kept[n - 1])):
            n -= 1
    return n


for line in sys.stdin:
    case = json.loads(line)
    out = {"name": case["name"]}
    try:
        out["records"] = count(base64.b64decode(case["data"]), case["encoding"], case["bom"], case["sep"], case["delimiter"],
                               case.get("skip_lines", 0), case.get("skip_footer", 0), case.get("footer", ""))
    except csv.Error as e:
        out["error"] = str(e)
    print(json.dumps(out), flush=True)
