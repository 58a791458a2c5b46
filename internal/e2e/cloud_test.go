package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/milvault/milvault/internal/fixture"
)

// TestCloudRoundTrip is the core round trip with the repository in the
// Google Cloud Storage and Azure Blob Storage emulators that
// scripts/fake-gcs.sh and scripts/azurite.sh start (fake-gcs-server and
// Azurite): back up a collection to gs:// or azblob://, list it, drop the
// collection, restore it and compare every row; then export the backup as
// Parquet into the bucket and import it from there into a new collection,
// and compare that too. It runs against the first Milvus target only: the
// store, not the server, is under test here.
func TestCloudRoundTrip(t *testing.T) {
	for _, c := range []struct{ name, env, script, secret string }{
		{"gcs", "MILVAULT_TEST_GCS_URL", "scripts/fake-gcs.sh", ""},
		{"azure", "MILVAULT_TEST_AZBLOB_URL", "scripts/azurite.sh", "AZURE_STORAGE_KEY"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel() // two stores, two collections: nothing shared
			base := os.Getenv(c.env)
			if base == "" {
				t.Skipf("%s is not set: the %s round trip needs its emulator (run `make test`, or %s start and source .milvus-test/%s.env)",
					c.env, c.name, c.script, strings.TrimSuffix(strings.TrimPrefix(c.script, "scripts/"), ".sh"))
			}
			tg := targets(t)[0]
			start := time.Now()
			e := newEnv(t, tg.addr)
			e.testCloudRoundTrip(t, cloudRepoURL(t, base), cloudRepoURL(t, base), os.Getenv(c.secret))
			t.Logf("%s round trip against %s took %s", c.name, tg.name, time.Since(start).Round(time.Second))
		})
	}
}

func (e *env) testCloudRoundTrip(t *testing.T, repoURL, exportURL, secret string) {
	name := uniqueName("cloud")
	d := e.createFixture(t, fixture.Options{Name: name, Rows: 2000, Dim: 16, Seed: 12})
	sum := e.backup(t, repoURL, name, "--chunk-size", "256KiB", "--init")
	if sum.Rows != int64(d.Rows) || sum.Files < 2 {
		t.Errorf("backup has %d rows in %d files, want %d rows in several files", sum.Rows, sum.Files, d.Rows)
	}
	list := e.mustRun(t, repoURL, "--json", "list")
	if !strings.Contains(list.stdout, sum.ID) {
		t.Errorf("list does not show backup %s: %s", sum.ID, list.stdout)
	}
	if secret != "" && strings.Contains(list.stdout+list.stderr, secret) {
		t.Errorf("list output shows the storage key")
	}
	e.mustRun(t, repoURL, "verify", sum.ID)
	source := e.dump(t, name)
	if err := e.client.DropCollection(testContext(t), d.Database, name); err != nil {
		t.Fatal(err)
	}
	e.mustRun(t, repoURL, "restore", sum.ID)
	sameDump(t, "restored from the emulator vs source", e.dump(t, name), source)

	e.mustRun(t, repoURL, "export", sum.ID, "--to", exportURL)
	imported := name + "_imported"
	e.dropLater(t, imported)
	e.mustRun(t, repoURL, "import", "--from", subURL(t, exportURL, "default/"+name), "--collection", imported)
	sameDump(t, "imported from an export in the emulator vs source", e.dump(t, imported), source)
}

// subURL adds a folder to the path of a bucket URL.
func subURL(t *testing.T, raw, folder string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("test URL: %v", err)
	}
	u.Path += "/" + folder
	return u.String()
}

// cloudRepoURL adds a fresh folder to the path of an emulator's test
// repository URL.
func cloudRepoURL(t *testing.T, base string) string {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return subURL(t, base, "e2e-"+hex.EncodeToString(b))
}
