#!/usr/bin/env python3
"""bulkwriter_fixture.py: Parquet files written by pymilvus's BulkWriter.

Usage: bulkwriter_fixture.py ADDRESS COLLECTION OUT_DIR EXPECTED.jsonl [ROWS]

Creates COLLECTION on the server (int64 key, a float vector with an index
(one vector field: Milvus 2.3 has no more), VarChar, double, JSON, an int32 array, the dynamic field), writes
ROWS (default 500) random rows with LocalBulkWriter into OUT_DIR as a
pymilvus user would before a Milvus bulk import, and writes the same rows in
the canonical form of dump_collection.py to EXPECTED.jsonl, so that a dump
of the collection after the import can be compared byte for byte. Prints
the Parquet files.
"""
import os
import random
import sys

from pymilvus import CollectionSchema, DataType, FieldSchema, MilvusClient
from pymilvus.bulk_writer import BulkFileType, LocalBulkWriter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dump_collection as dc  # noqa: E402


def schema():
    return CollectionSchema([
        FieldSchema("id", DataType.INT64, is_primary=True),
        FieldSchema("vec", DataType.FLOAT_VECTOR, dim=8),
        FieldSchema("title", DataType.VARCHAR, max_length=64),
        FieldSchema("score", DataType.DOUBLE),
        FieldSchema("meta", DataType.JSON),
        FieldSchema("tags", DataType.ARRAY, element_type=DataType.INT32, max_capacity=4),
    ], enable_dynamic_field=True)


def row(rng, i):
    return {"id": i * 7 + 1, "vec": [rng.uniform(-1, 1) for _ in range(8)],
            "title": f"title {i} é😀", "score": rng.uniform(-1e6, 1e6),
            "meta": {"i": i, "tag": ["a", "b"][i % 2]}, "tags": [rng.randrange(-99, 99) for _ in range(i % 4)],
            "extra": i * 2}


def main(argv):
    address, coll, out_dir, expected = argv[:4]
    n = int(argv[4]) if len(argv) > 4 else 500
    client = MilvusClient(uri="http://" + address)
    if client.has_collection(coll):
        client.drop_collection(coll)
    s = schema()
    idx = client.prepare_index_params()
    idx.add_index(field_name="vec", index_type="FLAT", metric_type="L2")
    client.create_collection(coll, schema=s, index_params=idx)
    rng = random.Random(7)
    rows = [row(rng, i) for i in range(n)]
    w = LocalBulkWriter(schema=s, local_path=out_dir, file_type=BulkFileType.PARQUET)
    for r in rows:
        w.append_row(r)
    w.commit()
    fields = {f["name"]: f for f in client.describe_collection(coll)["fields"]}
    client.close()
    with open(expected, "w", encoding="utf-8") as out:
        for r in sorted(rows, key=lambda r: r["id"]):
            out.write(dc.encode(dc.canonical_row(fields, r)) + "\n")
    for files in w.batch_files:
        for f in files:
            print(f)


if __name__ == "__main__":
    main(sys.argv[1:])
