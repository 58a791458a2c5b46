package pitr

import (
	"errors"
	"strings"
	"testing"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"google.golang.org/protobuf/proto"

	"github.com/milvault/milvault/capture"
)

func ddl(kind capture.Kind, ts uint64, coll string) capture.Record {
	return capture.Record{Kind: kind, TS: ts, Database: "default", Collection: coll}
}

func renamed(kind capture.Kind, ts uint64, from, to string) capture.Record {
	req, _ := proto.Marshal(&milvuspb.RenameCollectionRequest{DbName: "default", OldName: from, NewName: to, NewDBName: "default"})
	r := ddl(kind, ts, from)
	r.Request = req
	return r
}

func TestResolve(t *testing.T) {
	hist := []capture.Record{
		ddl(capture.KindCreateCollection, 10, "a"),
		renamed(capture.KindRenameCollection, 20, "a", "b"),
		ddl(capture.KindCreatePartition, 25, "b"),
		ddl(capture.KindDropCollection, 30, "b"),
		ddl(capture.KindCreateCollection, 40, "b"),
		renamed(capture.KindTrashCollection, 50, "b", "__milvault_trash_1_b"),
		ddl(capture.KindCreateCollection, 60, "c"),
		renamed(capture.KindRenameCollection, 70, "c", "d"),
	}
	for _, tc := range []struct {
		name string
		at   uint64
		// spans as "name:from-to", newest first
		want  []span
		born  uint64
		notes int
		err   any
	}{
		{name: "a", at: 15, want: []span{{"default", "a", 10, 15}}, born: 10},
		{name: "a", at: 25, err: new(*RenamedError)},
		{name: "b", at: 25, want: []span{{"default", "b", 20, 25}, {"default", "a", 10, 20}}, born: 10},
		{name: "b", at: 35, err: new(*DroppedError)},
		{name: "b", at: 45, want: []span{{"default", "b", 40, 45}}, born: 40},
		{name: "b", at: 55, want: []span{{"default", "b", 40, 55}}, born: 40, notes: 1},
		{name: "d", at: 80, want: []span{{"default", "d", 70, 80}, {"default", "c", 60, 70}}, born: 60},
		{name: "x", at: 80, want: []span{{"default", "x", 0, 80}}, born: 0},
	} {
		l, err := resolve(hist, "default", tc.name, tc.at)
		if tc.err != nil {
			if !errors.As(err, tc.err) {
				t.Errorf("%s at %d: got %v, want %T", tc.name, tc.at, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s at %d: %v", tc.name, tc.at, err)
			continue
		}
		if len(l.Spans) != len(tc.want) || l.Born != tc.born || len(l.Notes) != tc.notes {
			t.Errorf("%s at %d: spans %+v born %d notes %v, want %+v born %d, %d notes", tc.name, tc.at, l.Spans, l.Born, l.Notes, tc.want, tc.born, tc.notes)
			continue
		}
		for i := range l.Spans {
			if l.Spans[i] != tc.want[i] {
				t.Errorf("%s at %d: span %d is %+v, want %+v", tc.name, tc.at, i, l.Spans[i], tc.want[i])
			}
		}
	}
}

func TestDroppedErrorNamesTimes(t *testing.T) {
	_, err := resolve([]capture.Record{ddl(capture.KindDropCollection, 1<<20, "a")}, "default", "a", 1<<21)
	var de *DroppedError
	if !errors.As(err, &de) || de.DroppedAt != 1<<20 {
		t.Fatalf("got %v, want a DroppedError at %d", err, 1<<20)
	}
	for _, want := range []string{"dropped (DropCollection)", "--at-ts 1048575"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not say %q", err, want)
		}
	}
}
