package restore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/milvault/milvault/internal/testbackup"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
	"github.com/milvault/milvault/restore"
	"github.com/milvault/milvault/verify"
)

// damage is one way to break a backup on disk.
type damage struct {
	name  string
	apply func(t *testing.T, root string, m *manifest.Manifest, rng *rand.Rand)
}

var damages = []damage{
	{"flip a byte", func(t *testing.T, root string, m *manifest.Manifest, rng *rand.Rand) {
		p := randomFile(root, m, rng)
		data := mustRead(t, p)
		data[rng.IntN(len(data))] ^= byte(1 + rng.IntN(255))
		mustWrite(t, p, data)
	}},
	{"truncate", func(t *testing.T, root string, m *manifest.Manifest, rng *rand.Rand) {
		p := randomFile(root, m, rng)
		data := mustRead(t, p)
		mustWrite(t, p, data[:rng.IntN(len(data))])
	}},
	{"append", func(t *testing.T, root string, m *manifest.Manifest, rng *rand.Rand) {
		p := randomFile(root, m, rng)
		mustWrite(t, p, append(mustRead(t, p), byte(rng.IntN(256))))
	}},
	{"delete a file", func(t *testing.T, root string, m *manifest.Manifest, rng *rand.Rand) {
		if err := os.Remove(randomFile(root, m, rng)); err != nil {
			t.Fatal(err)
		}
	}},
	{"swap two files", func(t *testing.T, root string, m *manifest.Manifest, rng *rand.Rand) {
		a, b := randomFile(root, m, rng), randomFile(root, m, rng)
		for a == b {
			b = randomFile(root, m, rng)
		}
		da, db := mustRead(t, a), mustRead(t, b)
		mustWrite(t, a, db)
		mustWrite(t, b, da)
	}},
	{"edit a checksum in the manifest", func(t *testing.T, root string, m *manifest.Manifest, rng *rand.Rand) {
		editManifest(t, root, m, func(f *manifest.File) {
			b := []byte(f.Checksum)
			i := len("sha256:") + rng.IntN(64)
			b[i] = "0123456789abcdef"[(indexHex(b[i])+1+rng.IntN(15))%16]
			f.Checksum = string(b)
		}, rng)
	}},
	{"edit a size in the manifest", func(t *testing.T, root string, m *manifest.Manifest, rng *rand.Rand) {
		editManifest(t, root, m, func(f *manifest.File) { f.Size += int64(1 + rng.IntN(100)) }, rng)
	}},
	{"garble the manifest", func(t *testing.T, root string, m *manifest.Manifest, rng *rand.Rand) {
		p := filepath.Join(root, manifest.Path(m.ID))
		data := mustRead(t, p)
		mustWrite(t, p, data[:rng.IntN(len(data))])
	}},
}

// TestDamagedBackupsAreDetectedAndRefused damages a fresh backup in a random
// way, 60 times: checksum verification must detect every case, and (with a
// real Milvus) restore must refuse before creating anything.
func TestDamagedBackupsAreDetectedAndRefused(t *testing.T) {
	ctx := context.Background()
	c := optionalMilvus(t)
	rng := rand.New(rand.NewPCG(2026, 11))
	detected, refused := 0, 0
	const trials = 60
	for trial := range trials {
		d := damages[rng.IntN(len(damages))]
		root := t.TempDir()
		s, _ := local.New(root)
		r, err := repo.OpenOrInit(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		m, err := testbackup.Write(ctx, r, fmt.Sprintf("trial-%02d", trial), "damaged", []string{"_default", "p1", "p2"}, 2, 40, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		d.apply(t, root, m, rng)
		if isDetected(ctx, t, r, m) {
			detected++
		} else {
			t.Errorf("trial %d (%s): verification did not detect the damage", trial, d.name)
		}
		if c != nil && isRefused(ctx, t, c, r, m, trial) {
			refused++
		}
	}
	t.Logf("%d trials: %d detected by checksum verification; restore refused %d (Milvus available: %v)", trials, detected, refused, c != nil)
	if c != nil && refused != trials {
		t.Errorf("restore refused %d of %d damaged backups, want all", refused, trials)
	}
}

func isDetected(ctx context.Context, t *testing.T, r *repo.Repository, m *manifest.Manifest) bool {
	loaded, err := r.Find(ctx, m.ID)
	if err != nil {
		return true // an unreadable manifest is refused by every command
	}
	rep, err := verify.Run(ctx, verify.Deps{Repo: r}, loaded, verify.Options{Mode: verify.ModeChecksum})
	if err != nil {
		t.Fatalf("verification could not run: %v", err)
	}
	return !rep.OK
}

func isRefused(ctx context.Context, t *testing.T, c *milvus.Client, r *repo.Repository, m *manifest.Manifest, trial int) bool {
	loaded, err := r.Find(ctx, m.ID)
	if err != nil {
		return true
	}
	target := fmt.Sprintf("damaged_%d_%d", trial, rand.Uint32())
	_, err = restore.Run(ctx, restore.Deps{Milvus: c, Repo: r}, loaded, restore.Params{Target: target})
	exists, herr := c.HasCollection(ctx, "default", target)
	if herr != nil {
		t.Fatal(herr)
	}
	if exists {
		c.DropCollection(ctx, "default", target)
		t.Errorf("trial %d: restore of a damaged backup created %s", trial, target)
		return false
	}
	return err != nil
}

// optionalMilvus connects to the first test target, or returns nil.
func optionalMilvus(t *testing.T) *milvus.Client {
	spec := os.Getenv("MILVAULT_TEST_TARGETS")
	if spec == "" {
		t.Log("MILVAULT_TEST_TARGETS unset: checking detection only, not restore refusal")
		return nil
	}
	first, _, _ := strings.Cut(spec, ",")
	_, addr, _ := strings.Cut(first, "=")
	c, err := milvus.Connect(context.Background(), milvus.Config{Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func indexHex(c byte) int {
	for i, h := range "0123456789abcdef" {
		if byte(h) == c {
			return i
		}
	}
	return 0
}

func randomFile(root string, m *manifest.Manifest, rng *rand.Rand) string {
	files := m.Files()
	return filepath.Join(root, files[rng.IntN(len(files))].Path)
}

func editManifest(t *testing.T, root string, m *manifest.Manifest, edit func(*manifest.File), rng *rand.Rand) {
	t.Helper()
	p := filepath.Join(root, manifest.Path(m.ID))
	var doc manifest.Manifest
	if err := json.Unmarshal(mustRead(t, p), &doc); err != nil {
		t.Fatal(err)
	}
	part := &doc.Collections[0].Partitions[rng.IntN(len(doc.Collections[0].Partitions))]
	edit(&part.Files[rng.IntN(len(part.Files))])
	data, _ := json.Marshal(&doc)
	mustWrite(t, p, data)
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func mustWrite(t *testing.T, p string, data []byte) {
	t.Helper()
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
