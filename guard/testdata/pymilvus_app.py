"""An application that uses pymilvus through milvault guard.

usage: pymilvus_app.py URI NAME create|check [CA.pem]

create: creates NAME (500 rows, an index, an alias NAME_alias), loads it,
searches and queries it, then drops it. check: asserts that NAME is back
with its 500 rows, its index and its alias, searchable. Every call goes
to URI with user root, so the authorization header passes the guard.
With CA.pem, URI is https:// and the guard's certificate (for localhost)
is checked against that CA.
"""
import sys

from pymilvus import DataType, MilvusClient

ROWS, DIM = 500, 8


def vectors(n):
    return [[float((i * 7 + j) % 13) for j in range(DIM)] for i in range(n)]


def create(c, name):
    schema = c.create_schema(auto_id=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("v", DataType.FLOAT_VECTOR, dim=DIM)
    idx = c.prepare_index_params()
    idx.add_index(field_name="v", index_type="FLAT", metric_type="L2", index_name="v_idx")
    c.create_collection(name, schema=schema, index_params=idx)
    c.insert(name, [{"id": i, "v": v} for i, v in enumerate(vectors(ROWS))])
    c.flush(name)
    c.create_alias(name, name + "_alias")
    c.load_collection(name)
    check_live(c, name)
    c.drop_collection(name)
    assert not c.has_collection(name), "collection still visible after drop_collection"


def check_live(c, name):
    hits = c.search(name, data=vectors(1), limit=3, anns_field="v")
    assert len(hits[0]) == 3, hits
    got = c.query(name, filter="id >= 0", output_fields=["count(*)"], consistency_level="Strong")
    assert got[0]["count(*)"] == ROWS, got


def check(c, name):
    assert c.has_collection(name), "collection not restored"
    assert name + "_alias" in c.list_aliases(name)["aliases"], c.list_aliases(name)
    assert "v_idx" in c.list_indexes(name), c.list_indexes(name)
    check_live(c, name)


def main():
    uri, name, phase = sys.argv[1:4]
    tls = {}
    if len(sys.argv) > 4:
        tls = {"server_pem_path": sys.argv[4], "server_name": "localhost"}
    c = MilvusClient(uri=uri, token="root:Milvus", **tls)
    {"create": create, "check": check}[phase](c, name)
    print(phase, "ok")


if __name__ == "__main__":
    main()
