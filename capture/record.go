package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Kind is what a record holds.
type Kind uint8

// Record kinds. Insert, Upsert and Delete are acknowledged writes; Open and
// Close mark a writer's start and clean stop; Gap says that writes may be
// missing from the log; End closes every segment. The kinds from
// KindCreateCollection on are acknowledged schema and namespace changes
// (DDL), which a replay must follow (see ddl.go).
const (
	KindInsert Kind = 1
	KindUpsert Kind = 2
	KindDelete Kind = 3
	KindOpen   Kind = 10
	KindClose  Kind = 11
	KindGap    Kind = 12
	kindEnd    Kind = 13

	// KindCreateCollection holds the CreateCollectionRequest (with its
	// schema bytes) as the application sent it.
	KindCreateCollection Kind = 20
	// KindDropCollection is a collection dropped for real.
	KindDropCollection Kind = 21
	// KindTrashCollection is a DropCollection the guard turned into a move
	// to its trash: Request is a RenameCollectionRequest from the name to
	// the trash name. The rows are kept (milvault trash restore).
	KindTrashCollection Kind = 22
	// KindRenameCollection holds the RenameCollectionRequest; Database and
	// Collection are the old names.
	KindRenameCollection Kind = 23
	KindCreatePartition  Kind = 24
	KindDropPartition    Kind = 25
	// KindAlterCollection holds the AlterCollectionRequest (properties).
	KindAlterCollection Kind = 26
	// KindDropDatabase is an empty database dropped (Collection is "").
	KindDropDatabase Kind = 27
	// KindCreateIndex and KindDropIndex hold the CreateIndexRequest and
	// DropIndexRequest.
	KindCreateIndex Kind = 28
	KindDropIndex   Kind = 29
)

// ddlNames are the Milvus methods of the DDL kinds.
var ddlNames = map[Kind]string{
	KindCreateCollection: "CreateCollection",
	KindDropCollection:   "DropCollection",
	KindTrashCollection:  "DropCollection (to the trash)",
	KindRenameCollection: "RenameCollection",
	KindCreatePartition:  "CreatePartition",
	KindDropPartition:    "DropPartition",
	KindAlterCollection:  "AlterCollection",
	KindDropDatabase:     "DropDatabase",
	KindCreateIndex:      "CreateIndex",
	KindDropIndex:        "DropIndex",
}

// String names the kind as the Milvus method (for writes) or the marker.
func (k Kind) String() string {
	switch k {
	case KindInsert:
		return "Insert"
	case KindUpsert:
		return "Upsert"
	case KindDelete:
		return "Delete"
	case KindOpen:
		return "open"
	case KindClose:
		return "close"
	case KindGap:
		return "gap"
	case kindEnd:
		return "end"
	}
	if name, ok := ddlNames[k]; ok {
		return name
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// IsWrite reports whether k is an acknowledged change of a collection: a
// row write (Insert, Upsert, Delete) or a schema or namespace change
// (IsDDL). Readers return both, in timestamp order, since a replay must
// apply them in that order.
func (k Kind) IsWrite() bool {
	return k == KindInsert || k == KindUpsert || k == KindDelete || k.IsDDL()
}

// IsDDL reports whether k is an acknowledged schema or namespace change.
func (k Kind) IsDDL() bool { _, ok := ddlNames[k]; return ok }

// Record is one entry of the log.
type Record struct {
	Kind Kind
	// TS is the server's hybrid timestamp of a write (its MutationResult
	// timestamp); for Open, Close and Gap records the writer's clock as a
	// hybrid timestamp.
	TS uint64
	// Database, Collection and Partition locate a write ("" partition:
	// the request named none) or a DDL change.
	Database, Collection, Partition string
	// Request is the milvuspb InsertRequest, UpsertRequest or DeleteRequest
	// exactly as the application sent it; for a DDL kind, the request
	// message of its method (see the kinds).
	Request []byte
	// IDs is, for an Insert, the primary keys Milvus reported (schemapb.IDs),
	// which a replay needs when the server generated them (auto_id).
	IDs []byte
	// Gap describes a Gap record.
	Gap Gap
}

// Gap is a stretch of time whose writes may be missing from the log:
// those with From < ts <= To.
type Gap struct {
	From, To uint64
	// Records counts the writes known to be lost (0 when unknown).
	Records int64
	Reason  string
}

// Bounds returns the gap's ends as wall times (RFC 3339), "the beginning"
// for a gap open at its start and "the end of the log" for one open at
// its end.
func (g Gap) Bounds() (from, to string) {
	from, to = WallTime(g.From).Format(time.RFC3339Nano), WallTime(g.To).Format(time.RFC3339Nano)
	if g.From == 0 {
		from = "the beginning"
	}
	if g.To == ^uint64(0) {
		to = "the end of the log"
	}
	return from, to
}

// size is the record's approximate memory and encoded size.
func (r *Record) size() int {
	return 64 + len(r.Database) + len(r.Collection) + len(r.Partition) + len(r.Request) + len(r.IDs) + len(r.Gap.Reason)
}

// appendRecord encodes r after buf.
func appendRecord(buf []byte, r *Record) []byte {
	buf = append(buf, byte(r.Kind))
	buf = binary.LittleEndian.AppendUint64(buf, r.TS)
	for _, s := range []string{r.Database, r.Collection, r.Partition, r.Gap.Reason} {
		buf = appendBytes(buf, []byte(s))
	}
	buf = appendBytes(buf, r.Request)
	buf = appendBytes(buf, r.IDs)
	buf = binary.LittleEndian.AppendUint64(buf, r.Gap.From)
	buf = binary.LittleEndian.AppendUint64(buf, r.Gap.To)
	return binary.AppendVarint(buf, r.Gap.Records)
}

func appendBytes(buf, b []byte) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(b)))
	return append(buf, b...)
}

var errShort = errors.New("record truncated")

// decoder reads the fields of one encoded record.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) u64() uint64 {
	if d.err != nil || len(d.b) < 8 {
		d.err = errShort
		return 0
	}
	v := binary.LittleEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

func (d *decoder) bytes() []byte {
	n, k := binary.Uvarint(d.b)
	if d.err != nil || k <= 0 || uint64(len(d.b)-k) < n {
		d.err = errShort
		return nil
	}
	v := d.b[k : k+int(n)]
	d.b = d.b[k+int(n):]
	if len(v) == 0 {
		return nil
	}
	return append([]byte(nil), v...)
}

func (d *decoder) varint() int64 {
	v, k := binary.Varint(d.b)
	if d.err != nil || k <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[k:]
	return v
}

// decodeRecord decodes one record encoded by appendRecord.
func decodeRecord(b []byte) (Record, error) {
	if len(b) < 1 {
		return Record{}, errShort
	}
	d := &decoder{b: b[1:]}
	r := Record{Kind: Kind(b[0]), TS: d.u64()}
	r.Database, r.Collection, r.Partition, r.Gap.Reason = string(d.bytes()), string(d.bytes()), string(d.bytes()), string(d.bytes())
	r.Request, r.IDs = d.bytes(), d.bytes()
	r.Gap.From, r.Gap.To, r.Gap.Records = d.u64(), d.u64(), d.varint()
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%d unexpected bytes after a record", len(d.b))
	}
	return r, d.err
}
