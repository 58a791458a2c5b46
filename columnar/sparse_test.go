package columnar

import (
	"encoding/binary"
	"math"
	"math/rand"
	"strings"
	"testing"
)

// sparseRow builds a wire row from index, value pairs.
func sparseRow(t testing.TB, pairs ...any) []byte {
	t.Helper()
	var row []byte
	for i := 0; i+1 < len(pairs); i += 2 {
		row = binary.LittleEndian.AppendUint32(row, uint32(pairs[i].(int)))
		row = binary.LittleEndian.AppendUint32(row, math.Float32bits(pairs[i+1].(float32)))
	}
	return row
}

func TestAppendSparseJSON(t *testing.T) {
	tests := []struct {
		name string
		row  []byte
		want string
	}{
		{"empty", nil, `{}`},
		{"one pair", sparseRow(t, 1, float32(0.5)), `{"1":0.5}`},
		{"shortest float32 text", sparseRow(t, 0, float32(0.1), 7, float32(-2.5)), `{"0":0.1,"7":-2.5}`},
		{"extremes", sparseRow(t, math.MaxUint32, float32(math.MaxFloat32), 3, float32(math.SmallestNonzeroFloat32)), `{"4294967295":3.4028235e+38,"3":1e-45}`},
		{"order kept", sparseRow(t, 9, float32(1), 2, float32(2)), `{"9":1,"2":2}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := appendSparseJSON([]byte("prefix"), tt.row)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != "prefix"+tt.want {
				t.Errorf("got %s, want prefix%s", got, tt.want)
			}
		})
	}
}

func TestAppendSparseJSONRejectsBadRows(t *testing.T) {
	tests := []struct {
		name string
		row  []byte
		want string
	}{
		{"short", []byte{1, 2, 3}, "length 3 is not a multiple of 8"},
		{"NaN", sparseRow(t, 1, float32(math.NaN())), "index 1 has non-finite value NaN"},
		{"Inf", sparseRow(t, 2, float32(math.Inf(-1))), "index 2 has non-finite value -Inf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := appendSparseJSON(nil, tt.row); err == nil || err.Error() != tt.want {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
}

// TestSparseTextIsExact checks that float32 values survive the JSON text.
func TestSparseTextIsExact(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 100_000; i++ {
		v := math.Float32frombits(rng.Uint32())
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			continue
		}
		text, err := appendSparseJSON(nil, sparseRow(t, i, v))
		if err != nil {
			t.Fatal(err)
		}
		row, _, err := appendSparseRow(nil, string(text))
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		if got := binary.LittleEndian.Uint32(row[4:]); got != math.Float32bits(v) {
			t.Fatalf("%s: got bits %#x, want %#x", text, got, math.Float32bits(v))
		}
	}
}

func TestAppendSparseRow(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		want    []byte
		wantDim int64
	}{
		{"empty", `{}`, nil, 0},
		{"white space", " {\n \"3\" : 1.5 ,\t\"10\":2 } \n", sparseRow(t, 3, float32(1.5), 10, float32(2)), 11},
		{"sorted by index", `{"10":2,"3":1.5,"7":-1}`, sparseRow(t, 3, float32(1.5), 7, float32(-1), 10, float32(2)), 11},
		{"largest index", `{"4294967295":1e-45}`, sparseRow(t, math.MaxUint32, float32(math.SmallestNonzeroFloat32)), 1 << 32},
		{"exponent forms", `{"0":1E+2,"1":-2.5e-3}`, sparseRow(t, 0, float32(100), 1, float32(-0.0025)), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, dim, err := appendSparseRow([]byte{0xff}, tt.text)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(append([]byte{0xff}, tt.want...)) || dim != tt.wantDim {
				t.Errorf("got %v dim %d, want %v dim %d", got[1:], dim, tt.want, tt.wantDim)
			}
		})
	}
}

func TestAppendSparseRowRejectsBadText(t *testing.T) {
	tests := []struct {
		name string
		text string
		want string
	}{
		{"not an object", `[1,2]`, "not a JSON object"},
		{"unterminated", `{"1":2`, "not a JSON object"},
		{"trailing text", `{"1":2} x`, "not a JSON object"},
		{"missing colon", `{"1" 2}`, "not a JSON object"},
		{"trailing comma", `{"1":2,}`, "not a JSON object"},
		{"string value", `{"1":"2"}`, `value "" of index 1 is not a finite float32`},
		{"NaN", `{"1":NaN}`, `value "" of index 1`},
		{"overflow", `{"1":1e39}`, `value "1e39" of index 1 is not a finite float32`},
		{"negative index", `{"-1":2}`, `index "-1"`},
		{"index too large", `{"4294967296":2}`, `index "4294967296"`},
		{"duplicate index", `{"5":1,"5":2}`, "index 5 appears twice"},
		{"other bulk format", `{"indices":[1],"values":[0.5]}`, `index "indices"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := appendSparseRow([]byte{1, 2}, tt.text)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
			if len(got) != 2 {
				t.Errorf("dst grew to %d bytes on error", len(got))
			}
		})
	}
}
