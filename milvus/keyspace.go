package milvus

import (
	"math"
	"math/big"
	"strings"
	"unicode/utf8"
)

// A keySpace maps primary keys to integer positions that never decrease
// when keys increase, and positions back to keys, so that the scan can
// estimate how far ahead a range of about one batch of rows ends. Positions
// only steer the size of ranges: a query's bounds are keys, so a poor
// estimate costs extra queries, never a skipped or repeated row.
type keySpace interface {
	// pos returns the position of key k.
	pos(k any) *big.Int
	// key returns a key at position p, or false when p lies beyond the
	// largest key the space can express (the range is then left open).
	key(p *big.Int) (any, bool)
	// fit returns a space, with the same unit, that positions k exactly
	// enough to step past it.
	fit(k any) keySpace
}

// int64Space positions Int64 keys at their own value.
type int64Space struct{}

var (
	bigMaxInt64 = big.NewInt(math.MaxInt64)
	bigMinInt64 = big.NewInt(math.MinInt64)
)

func (s int64Space) fit(any) keySpace { return s }

func (int64Space) pos(k any) *big.Int { return big.NewInt(k.(int64)) }

func (int64Space) key(p *big.Int) (any, bool) {
	if p.Cmp(bigMaxInt64) >= 0 {
		return nil, false
	}
	if p.Cmp(bigMinInt64) < 0 {
		return int64(math.MinInt64), true
	}
	return p.Int64(), true
}

// stringSpace positions VarChar keys that start with prefix by the
// characters after it, up to absolute index end, read as base-95 digits:
// printable ASCII (space to tilde) are the digits. A byte above the tilde
// (DEL, and every byte of a multi-byte UTF-8 character) counts as a tilde
// and a byte below the space as a space, and either ends the key's exact
// digits (the rest are all tildes or all spaces), which keeps positions in
// byte order, the order the server compares keys in. Keys it builds are the
// prefix (cut at a character boundary) and printable ASCII, so they are
// valid UTF-8 and quote plainly in filters.
type stringSpace struct {
	prefix string
	end    int
}

const (
	firstDigit = ' '
	lastDigit  = '~'
	digitBase  = lastDigit - firstDigit + 1
	// extraDigits is how many characters past the shared prefix of a
	// batch's first and last keys positions tell apart.
	extraDigits = 12
)

// newStringSpace returns a space that tells apart keys sharing the prefix
// of first and last.
func newStringSpace(first, last string) stringSpace {
	p := sharedPrefix(first, last)
	return stringSpace{prefix: p, end: len(p) + extraDigits}
}

// sharedPrefix returns the longest common prefix of a and b that ends at a
// character boundary.
func sharedPrefix(a, b string) string {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	p := a[:n]
	for p != "" && !utf8.ValidString(p) {
		p = p[:len(p)-1]
	}
	return p
}

// fit returns a space that holds k, with the same unit (its last digit at
// the same index), so that a span measured in s keeps its meaning.
func (s stringSpace) fit(k any) keySpace {
	key := k.(string)
	if strings.HasPrefix(key, s.prefix) {
		return s
	}
	return stringSpace{prefix: sharedPrefix(s.prefix, key), end: s.end}
}

func (s stringSpace) digits() int { return s.end - len(s.prefix) }

func (s stringSpace) limit() *big.Int {
	return new(big.Int).Exp(big.NewInt(digitBase), big.NewInt(int64(s.digits())), nil)
}

func (s stringSpace) pos(k any) *big.Int {
	key := k.(string)
	if !strings.HasPrefix(key, s.prefix) {
		if key < s.prefix {
			return new(big.Int)
		}
		return s.limit()
	}
	key = key[len(s.prefix):]
	p, base := new(big.Int), big.NewInt(digitBase)
	fill := -1 // digit every later position takes once a byte was clamped
	for i := range s.digits() {
		d := int64(0)
		switch {
		case fill >= 0:
			d = int64(fill)
		case i < len(key) && key[i] > lastDigit:
			d, fill = digitBase-1, digitBase-1
		case i < len(key) && key[i] < firstDigit:
			fill = 0
		case i < len(key):
			d = int64(key[i] - firstDigit)
		}
		p.Mul(p, base).Add(p, big.NewInt(d))
	}
	return p
}

func (s stringSpace) key(p *big.Int) (any, bool) {
	if p.Sign() < 0 || p.Cmp(s.limit()) >= 0 {
		return nil, false
	}
	buf := make([]byte, s.digits())
	q, d, base := new(big.Int).Set(p), new(big.Int), big.NewInt(digitBase)
	for i := len(buf) - 1; i >= 0; i-- {
		q.DivMod(q, base, d)
		buf[i] = byte(d.Int64()) + firstDigit
	}
	return s.prefix + strings.TrimRight(string(buf), string(rune(firstDigit))), true
}

// keyLess reports whether key a sorts before key b (both int64 or both
// string).
func keyLess(a, b any) bool {
	switch x := a.(type) {
	case int64:
		return x < b.(int64)
	case string:
		return x < b.(string)
	}
	return false
}
