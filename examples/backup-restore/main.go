// Command backup-restore shows milvault used as a library from another Go
// module: it backs up one collection into a local repository, restores it
// under another name, and checks that both hold the same number of rows.
// It exits with status 1 when any step fails or the counts differ.
//
//	go run ./backup-restore -milvus 127.0.0.1:19530 -collection docs
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
	"github.com/milvault/milvault/restore"
)

// options are the command's flags.
type options struct {
	milvus, token   string
	database        string
	collection      string
	target          string
	repoDir         string
	keepRestoredCol bool
}

func main() {
	var o options
	flag.StringVar(&o.milvus, "milvus", "localhost:19530", "Milvus address (host:port, http:// or https:// URL)")
	flag.StringVar(&o.token, "token", os.Getenv("MILVUS_TOKEN"), `"user:password" or API key (default $MILVUS_TOKEN)`)
	flag.StringVar(&o.database, "database", "default", "database of the collection")
	flag.StringVar(&o.collection, "collection", "", "collection to back up (required)")
	flag.StringVar(&o.target, "target", "", "name to restore under (default <collection>_restored)")
	flag.StringVar(&o.repoDir, "repo", "", "local repository directory (default: a new temporary one)")
	flag.BoolVar(&o.keepRestoredCol, "keep", false, "keep the restored collection instead of dropping it")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "backup-restore:", err)
		os.Exit(1)
	}
	fmt.Println("OK")
}

func run(ctx context.Context, o options) error {
	if o.collection == "" {
		return errors.New("-collection is required")
	}
	if o.target == "" {
		o.target = o.collection + "_restored"
	}
	if o.repoDir == "" {
		dir, err := os.MkdirTemp("", "milvault-example-*")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		o.repoDir = dir
	}
	c, err := milvus.Connect(ctx, milvus.Config{Address: o.milvus, Token: o.token})
	if err != nil {
		return err
	}
	defer c.Close()
	fmt.Printf("connected to Milvus %s at %s\n", c.Version(), c.Address())
	r, err := openRepo(ctx, o.repoDir)
	if err != nil {
		return err
	}
	return backupAndRestore(ctx, c, r, o)
}

// openRepo opens (or creates) the local repository in dir.
func openRepo(ctx context.Context, dir string) (*repo.Repository, error) {
	store, err := local.New(dir)
	if err != nil {
		return nil, err
	}
	return repo.OpenOrInit(ctx, store)
}

// backupAndRestore runs the round trip and compares the row counts.
func backupAndRestore(ctx context.Context, c *milvus.Client, r *repo.Repository, o options) error {
	if exists, err := c.HasCollection(ctx, o.database, o.target); err != nil || exists {
		if err == nil {
			err = fmt.Errorf("collection %s.%s already exists; choose another -target", o.database, o.target)
		}
		return err
	}
	b, err := backup.Run(ctx, backup.Deps{Milvus: c, Repo: r, ToolVersion: "example"},
		backup.Params{Database: o.database, Collections: []string{o.collection}})
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Printf("backup %s: %d rows\n", b.Manifest.ID, b.Manifest.TotalRows())
	res, err := restore.Run(ctx, restore.Deps{Milvus: c, Repo: r}, b.Manifest,
		restore.Params{Collections: []string{o.collection}, Target: o.target, Load: restore.LoadAlways})
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if !o.keepRestoredCol {
		defer c.DropCollection(context.WithoutCancel(ctx), o.database, o.target)
	}
	fmt.Printf("restored %s.%s: %d rows\n", res.Collections[0].Database, res.Collections[0].Name, res.Collections[0].Rows)
	return compareCounts(ctx, c, o, b.Manifest.TotalRows())
}

// compareCounts checks that the source, the backup and the restored
// collection agree on the number of rows (count(*) with strong consistency).
func compareCounts(ctx context.Context, c *milvus.Client, o options, backedUp int64) error {
	src, err := c.Count(ctx, o.database, o.collection)
	if err != nil {
		return err
	}
	dst, err := c.Count(ctx, o.database, o.target)
	if err != nil {
		return err
	}
	fmt.Printf("rows: source %d, backup %d, restored %d\n", src, backedUp, dst)
	if src != backedUp || dst != backedUp || src == 0 {
		return fmt.Errorf("row counts differ or are zero: source %d, backup %d, restored %d", src, backedUp, dst)
	}
	return nil
}
