package columnar

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
)

// sparsePairSize is the wire size of one (uint32 index, float32 value) pair.
const sparsePairSize = 8

// prepareSparse handles sparse float vectors, stored as JSON text.
func (c *column) prepareSparse(fd *schemapb.FieldData, rows int, scratch *[]byte) (func(), error) {
	contents := fd.GetVectors().GetSparseFloatVector().GetContents()
	l, err := layoutOf(c.field, fd, rows, len(contents))
	if err != nil {
		return nil, err
	}
	var checkErr error
	l.each(func() {}, func(j int) {
		if checkErr == nil {
			*scratch, checkErr = appendSparseJSON((*scratch)[:0], contents[j])
			checkErr = wrapRow(checkErr, j)
		}
	})
	if checkErr != nil {
		return nil, checkErr
	}
	b := c.b.(*array.StringBuilder)
	return func() {
		b.Reserve(rows)
		l.each(b.AppendNull, func(j int) {
			// The row was checked above, so the error is always nil.
			*scratch, _ = appendSparseJSON((*scratch)[:0], contents[j])
			b.BinaryBuilder.Append(*scratch)
		})
	}, nil
}

// wrapRow adds the value index j to a non-nil error.
func wrapRow(err error, j int) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("sparse row %d: %w", j, err)
}

// appendSparseJSON appends the JSON object {"index":value,...} of one wire
// row to dst. Values are printed as the shortest text that parses back to
// the same float32.
func appendSparseJSON(dst, row []byte) ([]byte, error) {
	if len(row)%sparsePairSize != 0 {
		return dst, fmt.Errorf("length %d is not a multiple of %d", len(row), sparsePairSize)
	}
	dst = append(dst, '{')
	for k := 0; k < len(row); k += sparsePairSize {
		idx := binary.LittleEndian.Uint32(row[k:])
		val := math.Float32frombits(binary.LittleEndian.Uint32(row[k+4:]))
		if math.IsNaN(float64(val)) || math.IsInf(float64(val), 0) {
			return dst, fmt.Errorf("index %d has non-finite value %v", idx, val)
		}
		if k > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = strconv.AppendUint(dst, uint64(idx), 10)
		dst = append(dst, '"', ':')
		dst = strconv.AppendFloat(dst, float64(val), 'g', -1, 32)
	}
	return append(dst, '}'), nil
}

// appendSparseRow parses the JSON text of one sparse row and appends its
// wire form, pairs sorted by index, to dst. It returns the largest index
// plus one, or 0 for an empty row.
func appendSparseRow(dst []byte, text string) ([]byte, int64, error) {
	start := len(dst)
	p := sparseParser{s: text}
	dst, err := p.parse(dst)
	if err != nil {
		return dst[:start], 0, err
	}
	pairs := sparsePairs(dst[start:])
	if !sort.IsSorted(pairs) {
		sort.Sort(pairs)
	}
	var dim int64
	for i := 0; i < pairs.Len(); i++ {
		if i > 0 && pairs.index(i) == pairs.index(i-1) {
			return dst[:start], 0, fmt.Errorf("index %d appears twice", pairs.index(i))
		}
		dim = int64(pairs.index(i)) + 1
	}
	return dst, dim, nil
}

// sparsePairs sorts the wire pairs of one row by index.
type sparsePairs []byte

func (p sparsePairs) Len() int { return len(p) / sparsePairSize }

// index returns the index of pair i.
func (p sparsePairs) index(i int) uint32 {
	return binary.LittleEndian.Uint32(p[i*sparsePairSize:])
}

func (p sparsePairs) Less(i, j int) bool { return p.index(i) < p.index(j) }

func (p sparsePairs) Swap(i, j int) {
	a := p[i*sparsePairSize : (i+1)*sparsePairSize]
	b := p[j*sparsePairSize : (j+1)*sparsePairSize]
	var tmp [sparsePairSize]byte
	copy(tmp[:], a)
	copy(a, b)
	copy(b, tmp[:])
}

// sparseParser reads the JSON object {"index": value, ...} without the
// allocations of a general JSON decoder.
type sparseParser struct {
	s string
	i int
}

var errSparseSyntax = errors.New(`not a JSON object of the form {"index": value, ...}`)

// parse appends the pairs of the object to dst in the order they appear.
func (p *sparseParser) parse(dst []byte) ([]byte, error) {
	if !p.consume('{') {
		return dst, errSparseSyntax
	}
	if p.consume('}') {
		return dst, p.end()
	}
	for {
		idx, val, err := p.pair()
		if err != nil {
			return dst, err
		}
		dst = binary.LittleEndian.AppendUint32(dst, idx)
		dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(val))
		if p.consume('}') {
			return dst, p.end()
		}
		if !p.consume(',') {
			return dst, errSparseSyntax
		}
	}
}

// pair reads one "index": value member.
func (p *sparseParser) pair() (uint32, float32, error) {
	if !p.consume('"') {
		return 0, 0, errSparseSyntax
	}
	key := p.span(func(c byte) bool { return c != '"' })
	if !p.consume('"') || !p.consume(':') {
		return 0, 0, errSparseSyntax
	}
	idx, err := strconv.ParseUint(key, 10, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("index %q: %w", key, err)
	}
	p.skipSpace()
	num := p.span(isNumberByte)
	val, err := strconv.ParseFloat(num, 32)
	if err != nil || math.IsInf(val, 0) {
		return 0, 0, fmt.Errorf("value %q of index %d is not a finite float32", num, idx)
	}
	return uint32(idx), float32(val), nil
}

// consume skips white space and then c, reporting whether c was there.
func (p *sparseParser) consume(c byte) bool {
	p.skipSpace()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// end checks that only white space follows the object.
func (p *sparseParser) end() error {
	p.skipSpace()
	if p.i != len(p.s) {
		return errSparseSyntax
	}
	return nil
}

// span returns the longest run of bytes from the current position that
// satisfy ok, and moves past it.
func (p *sparseParser) span(ok func(byte) bool) string {
	start := p.i
	for p.i < len(p.s) && ok(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

// skipSpace moves past JSON white space.
func (p *sparseParser) skipSpace() {
	p.span(func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' })
}

// isNumberByte reports whether c can be part of a JSON number.
func isNumberByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}
