#!/usr/bin/env python3
"""check_export.py: compare a `milvault export` folder with a collection dump.

Usage: check_export.py EXPORT_DIR DATABASE COLLECTION FORMAT EXPECTED.jsonl

Reads DATABASE/COLLECTION/ of a milvault export the way another tool would:
Parquet with pyarrow, JSON lines with the json module, CSV with the csv
module (cells decoded by the column types in schema.json), turns every row
into the canonical form of dump_collection.py (the dump the tests take of
the live collection with pymilvus) and compares the result line by line
with EXPECTED.jsonl. Prints the row count; exits non-zero naming the first
difference. CSV cannot tell a null text value from an empty one (both are
empty cells), so for CSV the two count as equal in nullable text fields.
"""
import csv
import glob
import json
import os
import sys

import pyarrow.parquet as pq
from pymilvus import DataType

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dump_collection as dc  # noqa: E402  (same canonical form)

TEXT_TYPES = {DataType.VARCHAR}
if hasattr(DataType, "STRING"):
    TEXT_TYPES.add(DataType.STRING)


def load_schema(folder):
    with open(os.path.join(folder, "schema.json"), encoding="utf-8") as f:
        s = json.load(f)
    fields = {}
    for fd in s["fields"]:
        d = {"name": fd["name"], "type": DataType(fd["type_id"])}
        if fd.get("element_type_id"):
            d["element_type"] = DataType(fd["element_type_id"])
        d["dynamic"] = fd.get("dynamic", False)
        d["nullable"] = fd.get("nullable", False)
        fields[fd["name"]] = d
    pk = next(fd["name"] for fd in s["fields"] if fd.get("primary_key"))
    return s, fields, pk


def read_parquet(path):
    return pq.read_table(path).to_pylist()


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def read_csv(path, fields):
    rows = []
    with open(path, encoding="utf-8", newline="") as f:
        for rec in csv.DictReader(f):
            rows.append({k: csv_value(fields[k], v) for k, v in rec.items()})
    return rows


def csv_value(field, cell):
    if cell == "":
        return "" if field["type"] in TEXT_TYPES else None
    if field["type"] in TEXT_TYPES:
        return cell
    return json.loads(cell)


def plain_row(fields, row):
    """A row of the export as pymilvus would return it from the collection."""
    out = {}
    for k, v in row.items():
        f = fields[k]
        if isinstance(v, str) and f["type"] in (DataType.JSON, DataType.SPARSE_FLOAT_VECTOR):
            v = json.loads(v)  # Parquet keeps JSON as text
        if f["dynamic"]:
            out.update(v or {})
            continue
        out[k] = dc.canonical_value(f, v)
    return out


def empty_as_null(lines, names):
    """Canonical lines with empty strings of the named fields written as null."""
    out = []
    for line in lines:
        for n in names:
            line = line.replace(json.dumps(n, ensure_ascii=False) + ':""', json.dumps(n, ensure_ascii=False) + ":null")
        out.append(line)
    return out


def main(argv):
    if len(argv) != 5:
        sys.exit(__doc__)
    root, db, coll, fmt, expected = argv
    folder = os.path.join(root, db, coll)
    schema, fields, pk = load_schema(folder)
    rows = []
    for path in sorted(glob.glob(os.path.join(folder, "*", "part-*." + fmt))):
        got = read_csv(path, fields) if fmt == "csv" else read_parquet(path) if fmt == "parquet" else read_jsonl(path)
        rows.extend(plain_row(fields, r) for r in got)
    rows.sort(key=lambda r: r[pk])
    lines = [dc.encode(r) for r in rows]
    with open(expected, encoding="utf-8") as f:
        want = [line.rstrip("\n") for line in f if line.strip()]
    if fmt == "csv":
        lossy = [k for k, f in fields.items() if f["nullable"] and f["type"] in TEXT_TYPES]
        lines, want = empty_as_null(lines, lossy), empty_as_null(want, lossy)
    for i, (g, w) in enumerate(zip(lines, want)):
        if g != w:
            sys.exit(f"{fmt} row {i + 1} differs:\n got:  {g[:600]}\n want: {w[:600]}")
    if len(lines) != len(want):
        sys.exit(f"{fmt}: {len(lines)} rows, want {len(want)}")
    if schema["rows"] != len(lines):
        sys.exit(f"schema.json says {schema['rows']} rows, files hold {len(lines)}")
    print(len(lines))


if __name__ == "__main__":
    main(sys.argv[1:])
