package milvus_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/internal/testenv"
	"github.com/milvault/milvault/milvus"
)

// TestDatabaseFromAddress checks against the real servers that the database
// in an address's path reaches the server as the dbname header: a call that
// names no database lists the collections of that database.
func TestDatabaseFromAddress(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, tg testenv.Target, c *milvus.Client) {
		ctx := context.Background()
		db := fmt.Sprintf("dial_db_%d", rand.Uint32())
		if err := c.CreateDatabase(ctx, db); err != nil {
			t.Skipf("%s: no databases: %v", tg.Name, err)
		}
		t.Cleanup(func() { c.Service().DropDatabase(context.Background(), &milvuspb.DropDatabaseRequest{DbName: db}) })
		name := "in_" + db
		schema := &schemapb.CollectionSchema{Name: name, Fields: []*schemapb.FieldSchema{
			{Name: "id", DataType: schemapb.DataType_Int64, IsPrimaryKey: true},
			{Name: "v", DataType: schemapb.DataType_FloatVector, TypeParams: []*commonpb.KeyValuePair{{Key: "dim", Value: "2"}}}}}
		if err := c.CreateCollection(ctx, milvus.CreateCollectionRequest{Database: db, Schema: schema}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.DropCollection(context.Background(), db, name) })

		inDB, err := milvus.Connect(ctx, milvus.Config{Address: "http://" + tg.Address + "/" + db})
		if err != nil {
			t.Fatal(err)
		}
		defer inDB.Close()
		got, err := inDB.ListCollections(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, []string{name}) {
			t.Errorf("collections seen through %s/%s = %v, want [%s]", tg.Address, db, got, name)
		}
		plain, err := c.ListCollections(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(plain, name) {
			t.Errorf("collection %s of %s listed without the database header: %v", name, db, plain)
		}
	})
}

// TestAuthentication checks token handling against a real Milvus with
// authorization enabled, named by MILVAULT_TEST_AUTH_MILVUS (host:port);
// scripts/milvus-env.sh starts one with
// MILVUS23_EXTRA_ARGS='--authorization-enabled true'.
func TestAuthentication(t *testing.T) {
	addr := os.Getenv("MILVAULT_TEST_AUTH_MILVUS")
	if addr == "" {
		t.Skip("MILVAULT_TEST_AUTH_MILVUS is not set: no Milvus with authorization enabled to test against")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := milvus.Connect(ctx, milvus.Config{Address: addr, Token: "root:Milvus"})
	if err != nil {
		t.Fatalf("connect as root: %v", err)
	}
	if _, err := c.ListCollections(ctx, "default"); err != nil {
		t.Errorf("list collections as root: %v", err)
	}
	c.Close()
	_, err = milvus.Connect(ctx, milvus.Config{Address: addr, Token: "root:wrong"})
	if err == nil || !strings.Contains(err.Error(), "refused the credentials") {
		t.Errorf("connect with a wrong password = %v, want refused credentials", err)
	}
	if c, err := milvus.Connect(ctx, milvus.Config{Address: addr}); err == nil {
		_, err = c.ListCollections(ctx, "default")
		c.Close()
		if err == nil {
			t.Error("listing collections without a token succeeded on a server with authorization")
		}
	}
}
