package blob

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	tmtypes "github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/milvault/milvault/repo"
)

// beforeWrite returns the WriterOptions.BeforeWrite of a Put with ctx: when
// the context carries a retention (repo.WithRetain), the S3 upload sets S3
// Object Lock's mode and retain-until date on the object (the transfer
// manager passes them on to a multipart upload too). Other providers
// answer that they cannot keep objects under retention.
func (s *Store) beforeWrite(ctx context.Context) func(func(any) bool) error {
	rt, ok := repo.RetainOf(ctx)
	if !ok {
		return nil
	}
	return func(as func(any) bool) error {
		var in *transfermanager.UploadObjectInput
		if !as(&in) {
			return fmt.Errorf("object lock: %s cannot keep objects under retention (only S3 Object Lock is supported): %w", s.loc.scheme, repo.ErrUnsupported)
		}
		in.ObjectLockMode = tmtypes.ObjectLockModeGovernance
		if rt.Mode == repo.LockCompliance {
			in.ObjectLockMode = tmtypes.ObjectLockModeCompliance
		}
		in.ObjectLockRetainUntilDate = aws.Time(rt.Until.UTC())
		return nil
	}
}

// explainLock makes S3's answer to a retained upload into a bucket without
// object lock say what to do.
func explainLock(ctx context.Context, err error) error {
	if _, ok := repo.RetainOf(ctx); !ok || err == nil {
		return err
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && (ae.ErrorCode() == "InvalidRequest" || ae.ErrorCode() == "InvalidBucketObjectLockConfiguration") {
		return fmt.Errorf("%w: the repository uses object lock, but the bucket does not have S3 Object Lock enabled (it can only be enabled when the bucket is created: create one with object lock, or init without --object-lock)", err)
	}
	return err
}

// Protection says how a bucket protects its objects against deletion.
type Protection struct {
	Versioning bool   // versioning enabled: deleted or overwritten objects stay as old versions
	ObjectLock bool   // S3 Object Lock enabled on the bucket
	Default    string // the bucket's default retention, such as "GOVERNANCE 30 days" ("" without)
}

// Protection asks the provider about the bucket's versioning and object
// lock. Only S3 can be asked; other providers answer an error wrapping
// repo.ErrUnsupported.
func (s *Store) Protection(ctx context.Context) (Protection, error) {
	var c *s3.Client
	if !s.bucket.As(&c) {
		return Protection{}, fmt.Errorf("bucket protection of %s: %w", s.loc.scheme, repo.ErrUnsupported)
	}
	var p Protection
	v, err := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(s.loc.bucket)})
	if err != nil {
		return p, s.wrap("get versioning of", s.loc.bucket, err)
	}
	p.Versioning = v.Status == s3types.BucketVersioningStatusEnabled
	lc, err := c.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: aws.String(s.loc.bucket)})
	var ae smithy.APIError
	switch {
	case errors.As(err, &ae) && ae.ErrorCode() == "ObjectLockConfigurationNotFoundError":
		return p, nil
	case err != nil:
		return p, s.wrap("get object lock of", s.loc.bucket, err)
	}
	if cfg := lc.ObjectLockConfiguration; cfg != nil {
		p.ObjectLock = cfg.ObjectLockEnabled == s3types.ObjectLockEnabledEnabled
		if r := cfg.Rule; r != nil && r.DefaultRetention != nil {
			p.Default = defaultRetention(r.DefaultRetention)
		}
	}
	return p, nil
}

func defaultRetention(d *s3types.DefaultRetention) string {
	switch {
	case d.Days != nil:
		return fmt.Sprintf("%s %d days", d.Mode, *d.Days)
	case d.Years != nil:
		return fmt.Sprintf("%s %d years", d.Mode, *d.Years)
	}
	return string(d.Mode)
}

// RetainedUntil returns the retain-until date S3 Object Lock keeps the
// current version of name under (the zero time when it has none).
func (s *Store) RetainedUntil(ctx context.Context, name string) (time.Time, error) {
	key, err := s.key(name)
	if err != nil {
		return time.Time{}, err
	}
	var c *s3.Client
	if !s.bucket.As(&c) {
		return time.Time{}, fmt.Errorf("retention of %s: %w", name, repo.ErrUnsupported)
	}
	out, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.loc.bucket), Key: aws.String(key)})
	if err != nil {
		return time.Time{}, s.wrap("stat", name, err)
	}
	return aws.ToTime(out.ObjectLockRetainUntilDate), nil
}
