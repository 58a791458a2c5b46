// Package checksum computes and checks the digests that milvault records
// for every file of a backup.
//
// Digests are written as "algorithm:hex", e.g. "sha256:9f86d0...", so that a
// manifest says by itself how each file must be checked.
package checksum

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"strings"

	"golang.org/x/crypto/blake2b"
)

// Algorithm names a supported hash function.
type Algorithm string

// The supported algorithms. SHA256 is the default; MD5 exists only for
// compatibility with tools that expect it and is not collision resistant.
const (
	SHA256  Algorithm = "sha256"
	BLAKE2b Algorithm = "blake2b"
	MD5     Algorithm = "md5"
)

// Algorithms lists the accepted names, default first.
var Algorithms = []Algorithm{SHA256, BLAKE2b, MD5}

// Parse returns the algorithm called s (case-insensitive); the empty string
// means SHA256.
func Parse(s string) (Algorithm, error) {
	if s == "" {
		return SHA256, nil
	}
	a := Algorithm(strings.ToLower(s))
	for _, known := range Algorithms {
		if a == known {
			return a, nil
		}
	}
	return "", fmt.Errorf("unknown checksum algorithm %q: use one of sha256, blake2b, md5", s)
}

// New returns a fresh hash for a. It returns nil for an unknown algorithm.
func (a Algorithm) New() hash.Hash {
	switch a {
	case SHA256:
		return sha256.New()
	case BLAKE2b:
		h, _ := blake2b.New256(nil) // cannot fail without a key
		return h
	case MD5:
		return md5.New()
	}
	return nil
}

// Format renders a digest as "algorithm:hex".
func Format(a Algorithm, sum []byte) string {
	return string(a) + ":" + hex.EncodeToString(sum)
}

// ParseDigest splits "algorithm:hex" and checks both parts.
func ParseDigest(d string) (Algorithm, []byte, error) {
	name, hexSum, ok := strings.Cut(d, ":")
	if !ok {
		return "", nil, fmt.Errorf("digest %q: want algorithm:hex", d)
	}
	a, err := Parse(name)
	if err != nil {
		return "", nil, err
	}
	sum, err := hex.DecodeString(hexSum)
	if err != nil || len(sum) != a.New().Size() {
		return "", nil, fmt.Errorf("digest %q: bad %s value", d, a)
	}
	return a, sum, nil
}

// Writer passes writes through to an underlying writer (which may be nil)
// while hashing and counting them.
type Writer struct {
	w     io.Writer
	h     hash.Hash
	alg   Algorithm
	count int64
}

// NewWriter returns a Writer that hashes with a and forwards to w.
func NewWriter(w io.Writer, a Algorithm) *Writer {
	return &Writer{w: w, h: a.New(), alg: a}
}

// Write hashes p and forwards it.
func (w *Writer) Write(p []byte) (int, error) {
	n := len(p)
	if w.w != nil {
		var err error
		n, err = w.w.Write(p)
		if err != nil {
			w.h.Write(p[:n])
			w.count += int64(n)
			return n, err
		}
	}
	w.h.Write(p)
	w.count += int64(n)
	return n, nil
}

// Count returns the number of bytes written so far.
func (w *Writer) Count() int64 { return w.count }

// Digest returns the "algorithm:hex" digest of everything written so far.
func (w *Writer) Digest() string { return Format(w.alg, w.h.Sum(nil)) }

// Of reads r to the end and returns its digest under a and its length.
func Of(r io.Reader, a Algorithm) (string, int64, error) {
	w := NewWriter(nil, a)
	n, err := io.Copy(w, r)
	if err != nil {
		return "", n, err
	}
	return w.Digest(), n, nil
}
