package native

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// Milvus binlog layout (storage/binlog_writer.go of Milvus 2.3): a magic
// number, a descriptor event, then data events. Every event starts with a
// 17-byte header (timestamp int64, type int8, event length int32, next
// position int32, little endian); insert and delete events then hold their
// start and end timestamps (16 bytes) and a Parquet file with one column.
const (
	binlogMagic     = 0xfffabc
	eventHeaderSize = 17
	eventFixedSize  = 16
)

// binlogPayloads returns the Parquet payloads of the data events of a
// binlog.
func binlogPayloads(b []byte) ([][]byte, error) {
	if len(b) < 4+eventHeaderSize || binary.LittleEndian.Uint32(b) != binlogMagic {
		return nil, errors.New("not a Milvus binlog (bad magic number)")
	}
	pos := int(binary.LittleEndian.Uint32(b[4+13:])) // descriptor's next position
	var out [][]byte
	for pos < len(b) {
		if pos+eventHeaderSize+eventFixedSize > len(b) {
			return nil, fmt.Errorf("binlog event at %d is truncated", pos)
		}
		length := int(binary.LittleEndian.Uint32(b[pos+9:]))
		next := int(binary.LittleEndian.Uint32(b[pos+13:]))
		end := pos + length
		if length < eventHeaderSize+eventFixedSize || end > len(b) || next <= pos {
			return nil, fmt.Errorf("binlog event at %d has a bad length %d", pos, length)
		}
		out = append(out, b[pos+eventHeaderSize+eventFixedSize:end])
		pos = next
	}
	return out, nil
}

// payloadColumn reads the single column of a binlog event's Parquet payload.
func payloadColumn(ctx context.Context, payload []byte) (arrow.Array, error) {
	pf, err := file.NewParquetReader(bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("binlog payload: %w", err)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		return nil, fmt.Errorf("binlog payload: %w", err)
	}
	tbl, err := fr.ReadTable(ctx)
	if err != nil {
		return nil, fmt.Errorf("binlog payload: %w", err)
	}
	defer tbl.Release()
	if tbl.NumCols() != 1 {
		return nil, fmt.Errorf("binlog payload has %d columns, want 1", tbl.NumCols())
	}
	chunks := tbl.Column(0).Data().Chunks()
	if len(chunks) == 1 {
		chunks[0].Retain()
		return chunks[0], nil
	}
	return array.Concatenate(chunks, memory.DefaultAllocator)
}

// deleteRecord is one delete of a delta log.
type deleteRecord struct {
	PK any // int64 or string
	TS uint64
}

// parseDelete reads a delta-log entry: JSON {"pk":..,"ts":..,"pkType":..}
// (Milvus 2.3) or the older "pk,ts".
func parseDelete(s string) (deleteRecord, error) {
	if strings.HasPrefix(s, "{") {
		var d struct {
			PK     json.RawMessage `json:"pk"`
			TS     uint64          `json:"ts"`
			PKType int             `json:"pkType"`
		}
		if err := json.Unmarshal([]byte(s), &d); err != nil {
			return deleteRecord{}, fmt.Errorf("delta log entry %q: %w", s, err)
		}
		var str string
		if json.Unmarshal(d.PK, &str) == nil {
			return deleteRecord{PK: str, TS: d.TS}, nil
		}
		n, err := strconv.ParseInt(string(d.PK), 10, 64)
		if err != nil {
			return deleteRecord{}, fmt.Errorf("delta log entry %q: %w", s, err)
		}
		return deleteRecord{PK: n, TS: d.TS}, nil
	}
	pk, ts, ok := strings.Cut(s, ",")
	t, err := strconv.ParseUint(ts, 10, 64)
	if !ok || err != nil {
		return deleteRecord{}, fmt.Errorf("delta log entry %q: want pk,ts", s)
	}
	if n, err := strconv.ParseInt(pk, 10, 64); err == nil {
		return deleteRecord{PK: n, TS: t}, nil
	}
	return deleteRecord{PK: pk, TS: t}, nil
}
