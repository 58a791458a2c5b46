package columnar

import (
	"fmt"

	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
)

// rowLayout tells how the values of one FieldData line up with its rows.
// Milvus sends nullable columns in one of two forms: "full", with a
// placeholder value at every null row, or "compact", with values for the
// valid rows only. Both carry ValidData with one entry per row.
type rowLayout struct {
	rows    int
	valid   []bool // nil when every row holds a value
	compact bool   // values are given for valid rows only
}

// null reports whether row i is null.
func (l rowLayout) null(i int) bool {
	return l.valid != nil && !l.valid[i]
}

// layoutOf works out the layout of fd, which has rows rows and values
// values (rows of a vector), and checks that the two agree.
func layoutOf(f *schemapb.FieldSchema, fd *schemapb.FieldData, rows, values int) (rowLayout, error) {
	vd := fd.GetValidData()
	if len(vd) != 0 && len(vd) != rows {
		return rowLayout{}, fmt.Errorf("has %d valid_data entries for %d rows", len(vd), rows)
	}
	n := rows
	if len(vd) != 0 {
		n = countTrue(vd)
	}
	if n == rows {
		if values != rows {
			return rowLayout{}, fmt.Errorf("has %d values for %d rows", values, rows)
		}
		return rowLayout{rows: rows}, nil
	}
	if !f.GetNullable() {
		return rowLayout{}, fmt.Errorf("has %d null rows but the field is not nullable", rows-n)
	}
	switch values {
	case rows:
		return rowLayout{rows: rows, valid: vd}, nil
	case n:
		return rowLayout{rows: rows, valid: vd, compact: true}, nil
	}
	return rowLayout{}, fmt.Errorf("has %d values for %d rows of which %d are valid", values, rows, n)
}

// each walks the rows in order: it calls null for a null row and value,
// with the index of the row's value, for any other row.
func (l rowLayout) each(null func(), value func(j int)) {
	j := 0
	for i := 0; i < l.rows; i++ {
		if l.null(i) {
			null()
			if !l.compact {
				j++
			}
			continue
		}
		value(j)
		j++
	}
}

// countTrue returns how many entries of v are true.
func countTrue(v []bool) int {
	n := 0
	for _, ok := range v {
		if ok {
			n++
		}
	}
	return n
}
