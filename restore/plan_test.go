package restore

import (
	"errors"
	"strings"
	"testing"

	"github.com/milvault/milvault/manifest"
)

func testManifest() *manifest.Manifest {
	col := func(db, name string) manifest.Collection {
		return manifest.Collection{Database: db, Name: name, Schema: []byte(`{"name":"` + name + `"}`),
			Partitions: []manifest.Partition{{Name: "_default"}, {Name: "p1"}}}
	}
	return &manifest.Manifest{ID: "b1", Collections: []manifest.Collection{col("default", "docs"), col("sales", "docs"), col("default", "logs")}}
}

func TestPlanJobs(t *testing.T) {
	tests := []struct {
		name    string
		p       Params
		want    []string // database.name of targets
		wantErr string
	}{
		{name: "all", p: Params{}, want: []string{"default.docs", "sales.docs", "default.logs"}},
		{name: "qualified", p: Params{Collections: []string{"sales.docs"}}, want: []string{"sales.docs"}},
		{name: "suffix", p: Params{Collections: []string{"logs"}, Suffix: "_r"}, want: []string{"default.logs_r"}},
		{name: "target and database", p: Params{Collections: []string{"logs"}, Target: "x", Database: "db2"}, want: []string{"db2.x"}},
		{name: "ambiguous", p: Params{Collections: []string{"docs"}}, wantErr: "ambiguous"},
		{name: "missing collection", p: Params{Collections: []string{"nope"}}, wantErr: "not in the backup"},
		{name: "missing partition", p: Params{Collections: []string{"logs"}, Partitions: []string{"p9"}}, wantErr: "not in the backup"},
		{name: "target needs one", p: Params{Target: "x"}, wantErr: "--target renames one collection"},
		{name: "partition needs one", p: Params{Partitions: []string{"p1"}}, wantErr: "--partition needs exactly one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jobs, err := planJobs(testManifest(), tt.p)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("planJobs error = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(tt.wantErr, "not in the backup") && !errors.Is(err, ErrNotInBackup) {
					t.Fatalf("error %v does not wrap ErrNotInBackup", err)
				}
				return
			}
			var got []string
			for _, j := range jobs {
				got = append(got, j.database+"."+j.name)
				if j.schema.GetName() != j.name {
					t.Errorf("schema name %q, want target name %q", j.schema.GetName(), j.name)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("targets = %v, want %v (err %v)", got, tt.want, err)
			}
		})
	}
}
