package checksum

import (
	"strings"
	"testing"
)

func TestOfKnownVectors(t *testing.T) {
	tests := []struct {
		alg  Algorithm
		in   string
		want string
	}{
		{SHA256, "abc", "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{MD5, "abc", "md5:900150983cd24fb0d6963f7d28e17f72"},
		{BLAKE2b, "abc", "blake2b:bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319"},
	}
	for _, tt := range tests {
		got, n, err := Of(strings.NewReader(tt.in), tt.alg)
		if err != nil || got != tt.want || n != 3 {
			t.Errorf("Of(%q, %s) = %q, %d, %v; want %q, 3", tt.in, tt.alg, got, n, err, tt.want)
		}
	}
}

func TestParseDigest(t *testing.T) {
	good := "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	if a, sum, err := ParseDigest(good); err != nil || a != SHA256 || len(sum) != 32 {
		t.Fatalf("ParseDigest(good) = %v, %d bytes, %v", a, len(sum), err)
	}
	for _, bad := range []string{"", "sha256", "sha1:00", "sha256:zz", "sha256:00", "md5:" + strings.Repeat("0", 64)} {
		if _, _, err := ParseDigest(bad); err == nil {
			t.Errorf("ParseDigest(%q) = nil error, want error", bad)
		}
	}
}

func TestParse(t *testing.T) {
	if a, err := Parse(""); err != nil || a != SHA256 {
		t.Errorf("Parse(\"\") = %v, %v; want sha256", a, err)
	}
	if a, err := Parse("BLAKE2B"); err != nil || a != BLAKE2b {
		t.Errorf("Parse(BLAKE2B) = %v, %v", a, err)
	}
	if _, err := Parse("crc32"); err == nil || !strings.Contains(err.Error(), "sha256, blake2b, md5") {
		t.Errorf("Parse(crc32) error = %v; want list of algorithms", err)
	}
}
