package blob

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
)

// digest hashes a stream as it is uploaded: the MD5 of the whole, which
// GCS, Azure (when set) and single-part S3 uploads report, and the MD5 of
// every part of partSize bytes, from which S3 derives the ETag of a
// multipart upload (hex MD5 of the concatenated part MD5s, "-", part count).
type digest struct {
	size     int64
	full     hash.Hash
	partSize int64 // 0: no per-part hashes
	part     hash.Hash
	partLen  int64
	parts    [][]byte
}

func newDigest(partSize int64) *digest {
	d := &digest{full: md5.New(), partSize: partSize}
	if partSize > 0 {
		d.part = md5.New()
	}
	return d
}

// Write never fails.
func (d *digest) Write(p []byte) (int, error) {
	d.size += int64(len(p))
	d.full.Write(p)
	for rest := p; d.partSize > 0 && len(rest) > 0; {
		n := min(int64(len(rest)), d.partSize-d.partLen)
		d.part.Write(rest[:n])
		d.partLen += n
		rest = rest[n:]
		if d.partLen == d.partSize {
			d.endPart()
		}
	}
	return len(p), nil
}

func (d *digest) endPart() {
	d.parts = append(d.parts, d.part.Sum(nil))
	d.part.Reset()
	d.partLen = 0
}

// sum is the MD5 of everything written.
func (d *digest) sum() []byte { return d.full.Sum(nil) }

// String names the streamed content in messages.
func (d *digest) String() string {
	return fmt.Sprintf("%d bytes with MD5 %x", d.size, d.sum())
}

// matches reports whether what the store reported (an MD5, or an S3 ETag)
// proves the object holds exactly what was streamed.
func (d *digest) matches(reportedMD5 []byte, etag string) bool {
	if len(reportedMD5) > 0 && bytes.Equal(reportedMD5, d.sum()) {
		return true
	}
	return d.partSize > 0 && strings.Trim(etag, `"`) == d.multipartETag()
}

// multipartETag is the ETag S3 gives a multipart upload of this content
// split into parts of partSize bytes.
func (d *digest) multipartETag() string {
	parts := d.parts
	if d.partLen > 0 || len(parts) == 0 {
		parts = append(parts[:len(parts):len(parts)], d.part.Sum(nil))
	}
	all := md5.New()
	for _, p := range parts {
		all.Write(p)
	}
	return fmt.Sprintf("%s-%d", hex.EncodeToString(all.Sum(nil)), len(parts))
}
