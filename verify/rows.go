package verify

import (
	"crypto/sha256"
	"encoding/hex"
	"math/bits"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// rowText renders row i of rec in a canonical text form: every column's
// Arrow ValueStr (shortest round-trip floats, JSON-like lists, "(null)"),
// separated by NUL bytes.
func rowText(rec arrow.RecordBatch, i int) string {
	var b strings.Builder
	for _, col := range rec.Columns() {
		b.WriteString(col.ValueStr(i))
		b.WriteByte(0)
	}
	return b.String()
}

// setHash is an order-independent hash of a set of rows: the sum, modulo
// 2^256, of each row's SHA-256. Two partitions with the same rows have the
// same setHash whatever order they are read in.
type setHash struct {
	lanes [4]uint64
	rows  int64
}

func (s *setHash) add(row string) {
	sum := sha256.Sum256([]byte(row))
	var carry uint64
	for i := 3; i >= 0; i-- {
		v := beUint64(sum[i*8 : i*8+8])
		s.lanes[i], carry = bits.Add64(s.lanes[i], v, carry)
	}
	s.rows++
}

func (s *setHash) addRecord(rec arrow.RecordBatch) {
	for i := 0; i < int(rec.NumRows()); i++ {
		s.add(rowText(rec, i))
	}
}

func (s *setHash) hex() string {
	var out [32]byte
	for i, l := range s.lanes {
		for j := 0; j < 8; j++ {
			out[i*8+j] = byte(l >> (56 - 8*j))
		}
	}
	return hex.EncodeToString(out[:])
}

func beUint64(b []byte) uint64 {
	var v uint64
	for _, x := range b {
		v = v<<8 | uint64(x)
	}
	return v
}
