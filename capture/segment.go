package capture

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"regexp"
	"strconv"

	"github.com/klauspost/compress/zstd"

	"github.com/milvault/milvault/repo"
)

// magic starts every segment file; its last byte is the format version.
var magic = []byte("MVCAPT\x00\x01")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Segment is one committed file of the log.
type Segment struct {
	Name    string `json:"name"`
	Guard   string `json:"guard"`
	Seq     uint64 `json:"seq"`
	FirstTS uint64 `json:"first_ts"`
	Size    int64  `json:"size"` // stored bytes
}

// guardIDPattern is what a guard id may be: it names a folder.
var guardIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

var segmentPattern = regexp.MustCompile(`^capture/([A-Za-z0-9][A-Za-z0-9._-]{0,99})/(\d{20})-(\d{10})\.log$`)

// ValidGuardID returns an error when id cannot name a guard's folder.
func ValidGuardID(id string) error {
	if !guardIDPattern.MatchString(id) || id == "." || id == ".." {
		return fmt.Errorf("guard id %q: use 1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit", id)
	}
	return nil
}

// segmentName is the repository name of a guard's segment.
func segmentName(guard string, firstTS, seq uint64) string {
	return fmt.Sprintf("%s%s/%020d-%010d.log", repo.CapturePrefix, guard, firstTS, seq)
}

// parseSegment reads a segment's name; ok is false for other files.
func parseSegment(fi repo.FileInfo) (Segment, bool) {
	m := segmentPattern.FindStringSubmatch(fi.Name)
	if m == nil {
		return Segment{}, false
	}
	ts, err1 := strconv.ParseUint(m[2], 10, 64)
	seq, err2 := strconv.ParseUint(m[3], 10, 64)
	if err1 != nil || err2 != nil {
		return Segment{}, false
	}
	return Segment{Name: fi.Name, Guard: m[1], Seq: seq, FirstTS: ts, Size: fi.Size}, true
}

// encodeSegment returns the bytes of a segment holding recs: the magic,
// then a zstd frame (with its content checksum) of framed records, each
// "length, record, CRC-32C", and a last record of kind end that counts the
// others, so that a truncated segment is told from a complete one.
func encodeSegment(recs []Record, enc *zstd.Encoder) []byte {
	var plain []byte
	for i := range recs {
		plain = appendFrame(plain, &recs[i])
	}
	plain = appendFrame(plain, &Record{Kind: kindEnd, Gap: Gap{Records: int64(len(recs))}})
	return enc.EncodeAll(plain, append([]byte(nil), magic...))
}

func appendFrame(buf []byte, r *Record) []byte {
	body := appendRecord(nil, r)
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(body)))
	buf = append(buf, body...)
	return binary.LittleEndian.AppendUint32(buf, crc32.Checksum(body, castagnoli))
}

// DamagedError reports a segment whose bytes are not a complete, intact
// segment.
type DamagedError struct {
	Name, Problem string
}

func (e *DamagedError) Error() string {
	return "capture segment " + e.Name + " is damaged: " + e.Problem
}

// decodeSegment checks and decodes a segment's bytes.
func decodeSegment(name string, data []byte, dec *zstd.Decoder) ([]Record, error) {
	if !bytes.HasPrefix(data, magic) {
		return nil, &DamagedError{name, "not a capture segment (wrong magic bytes)"}
	}
	plain, err := dec.DecodeAll(data[len(magic):], nil)
	if err != nil {
		return nil, &DamagedError{name, "decompress: " + err.Error()}
	}
	var recs []Record
	for len(plain) > 0 {
		r, rest, err := nextFrame(plain)
		if err != nil {
			return nil, &DamagedError{name, fmt.Sprintf("record %d: %v", len(recs)+1, err)}
		}
		plain = rest
		if r.Kind == kindEnd {
			if r.Gap.Records != int64(len(recs)) || len(rest) != 0 {
				return nil, &DamagedError{name, fmt.Sprintf("trailer counts %d records, found %d", r.Gap.Records, len(recs))}
			}
			return recs, nil
		}
		recs = append(recs, r)
	}
	return nil, &DamagedError{name, fmt.Sprintf("truncated after %d records (no trailer)", len(recs))}
}

func nextFrame(b []byte) (Record, []byte, error) {
	if len(b) < 4 {
		return Record{}, nil, io.ErrUnexpectedEOF
	}
	n := int(binary.LittleEndian.Uint32(b))
	if len(b) < 8+n {
		return Record{}, nil, io.ErrUnexpectedEOF
	}
	body := b[4 : 4+n]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(b[4+n:]) {
		return Record{}, nil, fmt.Errorf("CRC-32C mismatch")
	}
	r, err := decodeRecord(body)
	return r, b[8+n:], err
}
