package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"filippo.io/age"

	"github.com/milvault/milvault/milvus"
)

// Steps of the encryption comparison (issue 14): the same backup and
// restore into a plain and into an encrypted repository, back to back.
const (
	stepBackupPlain  = "milvault backup, plain repository (encryption comparison)"
	stepBackupEnc    = "milvault backup, encrypted repository"
	stepRestorePlain = "milvault restore --no-indexes --no-load, plain repository (encryption comparison)"
	stepRestoreEnc   = "milvault restore --no-indexes --no-load, encrypted repository"
)

// encryptionSteps backs coll up into a plain and an encrypted repository
// and restores each, alternately, cfg.rounds times. The encrypted
// repository uses a recipient key, so no scrypt passphrase derivation (a
// deliberate second) is counted as the cost of encryption.
func encryptionSteps(ctx context.Context, c *milvus.Client, cfg config, r *result, coll string) error {
	dir, err := os.MkdirTemp("", "milvault-bench-enc-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return err
	}
	idFile := filepath.Join(dir, "identity")
	if err := os.WriteFile(idFile, []byte(id.String()+"\n"), 0o600); err != nil {
		return err
	}
	plain, enc := filepath.Join(dir, "plain"), filepath.Join(dir, "encrypted")
	if _, err := child(ctx, cfg.cpu, "init", cfg.bin, "--repo", plain, "-q", "init"); err != nil {
		return err
	}
	if _, err := child(ctx, cfg.cpu, "init", cfg.bin, "--repo", enc, "-q", "init", "--encrypt", "--recipient", id.Recipient().String()); err != nil {
		return err
	}
	type variant struct{ repo, backup, restore string }
	for k := 1; k <= max(1, cfg.rounds); k++ {
		// Even rounds go encrypted first: the second restore of a round
		// meets a server still compacting the first one's dropped rows, so
		// a fixed order would bias the comparison.
		order := []variant{{plain, stepBackupPlain, stepRestorePlain}, {enc, stepBackupEnc, stepRestoreEnc}}
		if k%2 == 0 {
			order[0], order[1] = order[1], order[0]
		}
		for _, v := range order {
			if err := backupRestore(ctx, c, cfg, r, coll, v.repo, roundOf(v.backup, k), roundOf(v.restore, k), idFile, k); err != nil {
				return err
			}
		}
	}
	return nil
}

// backupRestore measures one backup of coll into repo and its restore
// under another name.
func backupRestore(ctx context.Context, c *milvus.Client, cfg config, r *result, coll, repo, backupStep, restoreStep, idFile string, k int) error {
	base := []string{"--milvus", cfg.addr, "--repo", repo, "--identity-file", idFile, "-q"}
	name := fmt.Sprintf("enc%d", k)
	logf("%s", backupStep)
	s, err := child(ctx, cfg.cpu, backupStep, cfg.bin, append(base, "backup", "-c", coll, "--name", name)...)
	if err != nil {
		return err
	}
	s.rows, s.bytes = int64(r.rows), r.rawBytes
	r.add(s)
	target := coll + "_enc_restored"
	if err := dropIfExists(ctx, c, target); err != nil {
		return err
	}
	logf("%s", restoreStep)
	if s, err = child(ctx, cfg.cpu, restoreStep, cfg.bin, append(base, "restore", name, "--target", target, "--no-indexes", "--no-load")...); err != nil {
		return err
	}
	s.rows, s.bytes = int64(r.rows), r.rawBytes
	r.add(s)
	return dropIfExists(ctx, c, target)
}

// roundOf names round k of a step (round 1 keeps the plain name).
func roundOf(step string, k int) string {
	if k == 1 {
		return step
	}
	return roundName(step, k)
}

// renderEncryption reports the time encryption adds to backup and restore
// in each round (issue 14's target: at most 10 %).
func renderEncryption(r *result, rounds int) string {
	if _, ok := r.steps[stepBackupEnc]; !ok {
		return ""
	}
	out := ""
	for k := 1; k <= max(1, rounds); k++ {
		over := func(enc, plain string) float64 {
			return (r.steps[roundOf(enc, k)].secs/r.steps[roundOf(plain, k)].secs - 1) * 100
		}
		cpu := func(enc, plain string) float64 {
			return (r.steps[roundOf(enc, k)].cpu/r.steps[roundOf(plain, k)].cpu - 1) * 100
		}
		out += fmt.Sprintf("- encryption overhead, round %d (encrypted / plain repository − 1; target ≤ 10 %% of time): backup %+.1f %% time, %+.1f %% milvault CPU; restore --no-indexes --no-load %+.1f %% time, %+.1f %% milvault CPU\n",
			k, over(stepBackupEnc, stepBackupPlain), cpu(stepBackupEnc, stepBackupPlain), over(stepRestoreEnc, stepRestorePlain), cpu(stepRestoreEnc, stepRestorePlain))
	}
	if rounds > 1 {
		total := func(enc, plain string) float64 {
			var e, p float64
			for k := 1; k <= rounds; k++ {
				e += r.steps[roundOf(enc, k)].secs
				p += r.steps[roundOf(plain, k)].secs
			}
			return (e/p - 1) * 100
		}
		out += fmt.Sprintf("- encryption overhead over all %d rounds (sum of encrypted / sum of plain times − 1): backup %+.1f %%, restore --no-indexes --no-load %+.1f %%\n",
			rounds, total(stepBackupEnc, stepBackupPlain), total(stepRestoreEnc, stepRestorePlain))
	}
	return out
}
