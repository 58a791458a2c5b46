#!/usr/bin/env python3
"""dump_collection.py: write every row of a Milvus collection as canonical JSON.

Usage: dump_collection.py ADDRESS COLLECTION [--db DB] OUT.jsonl

An independent second client (pymilvus) for milvault's end-to-end tests: it
reads the collection with query_iterator (primary-key paging, no offsets),
sorts the rows by primary key and writes one JSON object per line with
sorted keys, float32 values as the repr of the float32, double values as the
repr of the double, bytes as base64, sparse vectors as sorted [index, value]
pairs and dynamic fields merged into the row as pymilvus returns them. Two
collections hold the same data exactly when their dumps are byte-identical.
It prints the row count on stdout.
"""
import argparse
import base64
import json
import sys

import numpy as np
from pymilvus import DataType, MilvusClient

FLOAT32_VECTORS = {DataType.FLOAT_VECTOR}
BYTE_VECTORS = {DataType.BINARY_VECTOR, DataType.FLOAT16_VECTOR, DataType.BFLOAT16_VECTOR}
if hasattr(DataType, "INT8_VECTOR"):
    BYTE_VECTORS.add(DataType.INT8_VECTOR)


class F32(float):
    """A float that must be written as the shortest repr of its float32 value."""


def f32_text(v):
    """The shortest text that reads back as the same float32."""
    return str(np.float32(v))


def encode(v):
    """Canonical JSON text of v."""
    if v is None:
        return "null"
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, F32):
        return f32_text(float(v))
    if isinstance(v, np.floating):
        return f32_text(float(v)) if v.dtype == np.float32 else repr(float(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (bytes, bytearray)):
        return json.dumps(base64.b64encode(bytes(v)).decode("ascii"))
    if isinstance(v, np.ndarray):
        return encode(v.tolist() if v.dtype != np.float32 else [F32(x) for x in v.tolist()])
    if isinstance(v, dict):
        items = sorted((str(k), x) for k, x in v.items())
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + encode(x) for k, x in items) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(encode(x) for x in v) + "]"
    raise TypeError(f"cannot encode {type(v).__name__}: {v!r}")


def as_bytes(v):
    """Vector bytes as pymilvus returns them: bytes, [bytes] or an ndarray."""
    if isinstance(v, (list, tuple)) and len(v) == 1 and isinstance(v[0], (bytes, bytearray)):
        return bytes(v[0])
    if isinstance(v, np.ndarray):
        return v.tobytes()
    if isinstance(v, (list, tuple)):
        return b"".join(as_bytes(x) if not isinstance(x, int) else bytes([x & 0xFF]) for x in v)
    return bytes(v)


def sparse_pairs(v):
    if isinstance(v, dict):
        pairs = v.items()
    elif hasattr(v, "tocoo"):  # scipy sparse row
        coo = v.tocoo()
        pairs = zip(coo.col.tolist(), coo.data.tolist())
    else:
        pairs = v
    return [[int(i), F32(x)] for i, x in sorted(pairs, key=lambda p: int(p[0]))]


def element_is_float32(field):
    return field.get("element_type") == DataType.FLOAT


def canonical_value(field, v):
    """Turns the value of a declared field into plain types with float32 marked."""
    if v is None:
        return None
    t = field["type"]
    if t == DataType.FLOAT:
        return F32(v)
    if t in FLOAT32_VECTORS:
        return [F32(x) for x in (v.tolist() if isinstance(v, np.ndarray) else v)]
    if t in BYTE_VECTORS:
        return as_bytes(v)
    if t == DataType.SPARSE_FLOAT_VECTOR:
        return sparse_pairs(v)
    if t == DataType.ARRAY and element_is_float32(field):
        return [F32(x) for x in v]
    if t == DataType.JSON and isinstance(v, (str, bytes)):
        return json.loads(v)
    return v


def canonical_row(fields, row):
    out = {}
    for k, v in row.items():
        f = fields.get(k)
        out[k] = canonical_value(f, v) if f else v
    return out


def read_rows(client, collection, fields, pk):
    names = [f for f in fields if not fields[f].get("is_function_output")]
    it = client.query_iterator(collection_name=collection, batch_size=1000, filter="",
                               output_fields=["*"] if names else None)
    rows = []
    try:
        while True:
            batch = it.next()
            if not batch:
                break
            rows.extend(canonical_row(fields, r) for r in batch)
    finally:
        it.close()
    rows.sort(key=lambda r: r[pk])
    return rows


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("address", help="host:port of the Milvus server")
    ap.add_argument("collection")
    ap.add_argument("out", help="output file (JSON lines)")
    ap.add_argument("--db", default="default", help="database (default: default)")
    args = ap.parse_args(argv)
    uri = args.address if "://" in args.address else "http://" + args.address
    client = MilvusClient(uri=uri, db_name=args.db)
    try:
        desc = client.describe_collection(args.collection)
        fields = {f["name"]: f for f in desc["fields"]}
        pk = next(f["name"] for f in desc["fields"] if f.get("is_primary"))
        rows = read_rows(client, args.collection, fields, pk)
    finally:
        client.close()
    with open(args.out, "w", encoding="utf-8") as out:
        for r in rows:
            out.write(encode(r) + "\n")
    keys = [r[pk] for r in rows]
    if len(set(keys)) != len(keys):
        sys.exit(f"dump_collection: duplicate primary keys in {args.collection}")
    print(len(rows))


if __name__ == "__main__":
    main(sys.argv[1:])
