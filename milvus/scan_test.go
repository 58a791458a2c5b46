package milvus

import (
	"strings"
	"testing"

	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
)

func longKeys(ids ...int64) *schemapb.FieldData {
	return &schemapb.FieldData{Field: &schemapb.FieldData_Scalars{Scalars: &schemapb.ScalarField{
		Data: &schemapb.ScalarField_LongData{LongData: &schemapb.LongArray{Data: ids}}}}}
}

func TestCheckAscending(t *testing.T) {
	pk := &schemapb.FieldSchema{Name: "id", DataType: schemapb.DataType_Int64}
	tests := []struct {
		name     string
		keys     []int64
		last     any
		wantN    int
		wantLast any
		wantErr  string
	}{
		{"first batch", []int64{1, 2, 5}, nil, 3, int64(5), ""},
		{"continues", []int64{6, 9}, int64(5), 2, int64(9), ""},
		{"empty", nil, int64(5), 0, nil, ""},
		{"repeats last", []int64{5, 6}, int64(5), 0, nil, "out of order"},
		{"unsorted", []int64{7, 6}, int64(5), 0, nil, "out of order"},
	}
	for _, tt := range tests {
		n, last, err := checkAscending(longKeys(tt.keys...), pk, tt.last)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: error = %v, want %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || n != tt.wantN || last != tt.wantLast {
			t.Errorf("%s: got %d, %v, %v; want %d, %v", tt.name, n, last, err, tt.wantN, tt.wantLast)
		}
	}
}

func TestKeyAfterQuotes(t *testing.T) {
	pk := &schemapb.FieldSchema{Name: "k"}
	if got, want := keyAfter(pk, `a"b\c`), `k > "a\"b\\c"`; got != want {
		t.Errorf("keyAfter = %s, want %s", got, want)
	}
	if got := keyAfter(pk, nil); got != "" {
		t.Errorf("keyAfter(nil) = %q, want empty", got)
	}
}

func TestQuoteKey(t *testing.T) {
	tests := map[string]string{
		``:         `""`,
		`a"b\c`:    `"a\"b\\c"`,
		"ü✓\u05fd": "\"ü✓\u05fd\"",
		"a\nb\x00": `"a\nb\x00"`,
	}
	for in, want := range tests {
		if got := quoteKey(in); got != want {
			t.Errorf("quoteKey(%q) = %s, want %s", in, got, want)
		}
	}
}
