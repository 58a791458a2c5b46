package doctor

import "fmt"

// RepoProtection is what the repository's bucket does against deletion
// (versioning, S3 Object Lock) and whether the repository sets a retention
// itself (`milvault init --object-lock`).
type RepoProtection struct {
	Bucket     string
	Versioning bool
	ObjectLock bool
	// RepoLock is the repository's own object-lock setting ("" for none),
	// such as "governance 720h0m0s".
	RepoLock string
	// Err is why the bucket could not be asked; the check then reports the
	// protection as undetermined.
	Err error
}

// CheckProtection flags a repository bucket that keeps no old versions and
// no object lock (a deleted or overwritten backup is gone for good), and
// notes a lock-enabled bucket whose repository sets no retention.
func CheckProtection(p RepoProtection) []Finding {
	if p.Err != nil {
		return nil
	}
	ev := []Evidence{{Where: Where{Path: "GetBucketVersioning / GetObjectLockConfiguration " + p.Bucket},
		Value: fmt.Sprintf("versioning %s, object lock %s", onOff(p.Versioning), onOff(p.ObjectLock))}}
	switch {
	case !p.Versioning && !p.ObjectLock:
		return []Finding{{Check: "repository-protection", Severity: Warning, Evidence: ev,
			Title: fmt.Sprintf("repository bucket %s has neither versioning nor object lock", p.Bucket),
			Why:   "anyone holding the bucket's keys (ransomware, a mistaken script or prune) can delete or overwrite every backup, and nothing keeps an old version",
			Fix:   "enable versioning on the bucket; for backups nobody can delete early, create a bucket with S3 Object Lock enabled and `milvault init --object-lock 30d` a repository in it"}}
	case p.ObjectLock && p.RepoLock == "":
		return []Finding{{Check: "repository-protection", Severity: Info, Evidence: ev,
			Title: fmt.Sprintf("repository bucket %s has object lock, but the repository sets no retention", p.Bucket),
			Why:   "without a retention on each object (or a default retention on the bucket), object lock protects nothing",
			Fix:   "create the repository with `milvault init --object-lock RETENTION`, or set a default retention on the bucket"}}
	}
	return nil
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
