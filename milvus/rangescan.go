package milvus

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
)

// scanner is the state of one Scan: where the next range starts, how wide
// it is, and the last key returned.
type scanner struct {
	c     *Client
	req   ScanRequest
	res   ScanResult
	space keySpace // nil until a batch showed the keys' shape (VarChar)
	span  *big.Int // positions a range covers; nil: no estimate yet
	lo    any      // lower bound of the next range; nil: none
	incl  bool     // whether lo itself is in the next range
	last  any      // last key returned, for the ascending check
	probe bool     // whether the next call is a probe for keys
	known any      // last key of the last probe: rows up to it are known
	// output lists the fields a range reads; nil means all.
	output []string
}

// probeRows is how many keys a probe asks for: enough to measure their
// density, few enough to cost little even when every segment answers.
const probeRows = 64

// rangeFill is the share of a batch a range is sized to hold: a little
// under a full batch, so that a good estimate reads each range whole.
const rangeFill = 0.9

// priorRows is how many rows' worth of weight the previous estimate has
// when a new batch refines it.
const priorRows = 64

func newScanner(c *Client, req ScanRequest) (*scanner, error) {
	s := &scanner{c: c, req: req, probe: true}
	var want any
	switch req.PrimaryKey.GetDataType() {
	case schemapb.DataType_Int64:
		s.space, want = int64Space{}, int64(0)
	case schemapb.DataType_VarChar, schemapb.DataType_String:
		want = ""
	default:
		return nil, fmt.Errorf("unsupported primary key type %s", req.PrimaryKey.GetDataType())
	}
	for _, k := range []any{req.After, req.Until} {
		if k != nil && fmt.Sprintf("%T", k) != fmt.Sprintf("%T", want) {
			return nil, fmt.Errorf("scan bound %v: a %T, but the primary key %s is %s", k, k, req.PrimaryKey.GetName(), req.PrimaryKey.GetDataType())
		}
	}
	if req.After != nil {
		s.lo, s.last = req.After, req.After
	}
	return s, nil
}

// run reads every range in turn.
func (s *scanner) run(ctx context.Context, fn func(Batch) error) error {
	for {
		more, err := s.step(ctx, fn)
		if err != nil {
			return fmt.Errorf("read %s.%s: %w", s.req.Database, s.req.Collection, err)
		}
		if !more {
			return nil
		}
	}
}

// step reads the next range and hands its rows to fn; it reports false
// once every row was read.
func (s *scanner) step(ctx context.Context, fn func(Batch) error) (bool, error) {
	lower, ok := s.lowerExpr()
	if !ok {
		return false, nil
	}
	if s.pastUntil() {
		return false, nil
	}
	if s.probe {
		return s.probeKeys(ctx, joinExpr(lower, s.untilExpr()))
	}
	hi, bounded := s.upper()
	if !bounded {
		// Never an open range: it would make every segment return a
		// batch. The probe finds keys to bound the range with.
		s.probe = true
		return true, nil
	}
	expr := joinExpr(lower, s.keyExpr("<=", hi))
	s.res.Bounded++
	resp, err := s.query(ctx, expr, s.req.BatchRows, s.output)
	if err != nil {
		return false, err
	}
	pk := s.req.PrimaryKey
	keys := findField(resp.GetFieldsData(), pk.GetName())
	n, next, err := checkAscending(keys, pk, s.last)
	if err != nil {
		return false, err
	}
	if n == 0 {
		// The range (lo, hi] is empty: probe for where the keys go on.
		s.lo, s.incl, s.probe = hi, false, true
		return true, nil
	}
	if err := fn(Batch{Fields: resp.GetFieldsData(), Rows: n}); err != nil {
		return false, err
	}
	s.res.Rows += int64(n)
	s.learn(s.lo, next, n)
	s.lo, s.incl, s.last = next, false, next
	return true, nil
}

// probeKeys reads only the keys of up to probeRows rows after the lower
// bound: the first tells where the next range starts, all of them how
// dense the keys are there. It reports false when there are none.
func (s *scanner) probeKeys(ctx context.Context, lower string) (bool, error) {
	s.res.Probes++
	pk := s.req.PrimaryKey
	resp, err := s.query(ctx, lower, probeRows, []string{pk.GetName()})
	if err != nil {
		return false, err
	}
	keys := findField(resp.GetFieldsData(), pk.GetName())
	n, last, err := checkAscending(keys, pk, s.last)
	if err != nil || n == 0 {
		return false, err
	}
	first := firstKey(keys)
	s.learn(first, last, n)
	s.lo, s.incl, s.probe, s.known = first, true, false, last
	return true, nil
}

// upper returns the upper bound of the next range: the estimate or, when
// there is none (no density known yet, or a bound past what the key space
// can express), the last key of the last probe. It reports false when
// there is neither.
func (s *scanner) upper() (any, bool) {
	if s.known != nil && (keyLess(s.known, s.lo) || (!s.incl && !keyLess(s.lo, s.known))) {
		s.known = nil // the range starts past it
	}
	hi, ok := s.estimate()
	if s.known != nil && !ok {
		hi, ok = s.known, true
	}
	if u := s.req.Until; u != nil && (!ok || keyLess(u, hi)) {
		return u, true
	}
	return hi, ok
}

// pastUntil reports whether the next range starts after Until.
func (s *scanner) pastUntil() bool {
	u := s.req.Until
	if u == nil || s.lo == nil {
		return false
	}
	return keyLess(u, s.lo) || (!s.incl && !keyLess(s.lo, u))
}

// untilExpr returns the filter "pk <= Until" ("" without Until).
func (s *scanner) untilExpr() string {
	if s.req.Until == nil {
		return ""
	}
	return s.keyExpr("<=", s.req.Until)
}

// estimate returns the key span positions after the lower bound.
func (s *scanner) estimate() (any, bool) {
	if s.span == nil || s.space == nil {
		return nil, false
	}
	s.space = s.space.fit(s.lo)
	p := s.space.pos(s.lo)
	hi, ok := s.space.key(p.Add(p, s.span))
	if !ok || keyLess(hi, s.lo) || (!s.incl && !keyLess(s.lo, hi)) {
		return nil, false
	}
	return hi, true
}

// learn sizes the next range from n keys read from key from (the lower
// bound of the range, or the first key of a probe) to key last: the span
// that held them, scaled to a batch, blended with the previous span
// weighted as priorRows rows, so that a range cut short by the server
// (which stops merging when one segment's rows run out) does not throw the
// estimate far off. A full batch replaces the estimate.
func (s *scanner) learn(from, last any, n int) {
	if f, ok := from.(string); ok {
		s.fitString(f, last.(string))
	}
	width := new(big.Int).Sub(s.space.pos(last), s.space.pos(from))
	if width.Sign() <= 0 || n < 1 {
		s.widen()
		return
	}
	target := big.NewInt(int64(max(1, math.Floor(float64(s.req.BatchRows)*rangeFill))))
	span := width.Mul(width, target)
	switch {
	case s.span == nil && n < 2:
		return
	case s.span == nil:
		span.Quo(span, big.NewInt(int64(n-1)))
	case n >= s.req.BatchRows:
		// A full batch: the range held more than was estimated; its keys
		// tell the density alone.
		span.Quo(span, big.NewInt(int64(n)))
	default:
		span.Add(span, new(big.Int).Mul(s.span, big.NewInt(priorRows)))
		span.Quo(span, big.NewInt(int64(n+priorRows)))
	}
	if span.Sign() <= 0 {
		span.SetInt64(1)
	}
	s.span = span
}

// fitString keeps the string space able to tell from and last apart,
// starting over (new space, no estimate) when it cannot.
func (s *scanner) fitString(from, last string) {
	if s.space != nil {
		sp := s.space.fit(from).fit(last)
		if sp.pos(from).Cmp(sp.pos(last)) < 0 {
			s.space = sp
			return
		}
	}
	s.space, s.span = newStringSpace(from, last), nil
}

// widen makes the next range wider after one that held too few keys to
// measure their density.
func (s *scanner) widen() {
	if s.span != nil {
		s.span.Lsh(s.span, 2)
	}
}

// lowerExpr returns the filter for the keys after s.lo ("" when there is
// no lower bound), or false when no key can follow it.
func (s *scanner) lowerExpr() (string, bool) {
	if s.lo == nil {
		return "", true
	}
	if lo, ok := s.lo.(int64); ok && lo == math.MaxInt64 && !s.incl {
		return "", false
	}
	if s.incl {
		return s.keyExpr(">=", s.lo), true
	}
	return s.keyExpr(">", s.lo), true
}

// keyExpr returns the filter "pk op key" (op ">", ">=" or "<="). A filter
// cannot spell -2^63 (the parser reads the literal 2^63 before negating
// it), so bounds at the smallest Int64 are written around it.
func (s *scanner) keyExpr(op string, key any) string {
	name := s.req.PrimaryKey.GetName()
	switch k := key.(type) {
	case string:
		return fmt.Sprintf("%s %s %s", name, op, quoteKey(k))
	case int64:
		if k == math.MinInt64 {
			switch op {
			case ">=":
				return ""
			case "<=":
				return fmt.Sprintf("%s < %d", name, k+1)
			}
			return fmt.Sprintf("%s >= %d", name, k+1)
		}
	}
	return fmt.Sprintf("%s %s %v", name, op, key)
}

// quoteKey quotes a string key for a filter. It escapes only quotes,
// backslashes and control characters, and leaves every other character as
// it is: strconv.Quote would also escape characters that are not printable
// (such as unassigned code points) as \u sequences, which Milvus Lite's
// parser rejects.
func quoteKey(k string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(k); {
		r, size := utf8.DecodeRuneInString(k[i:])
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < ' ' || r == 0x7f || (r == utf8.RuneError && size == 1):
			q := strconv.QuoteToASCII(k[i : i+size])
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(k[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
	return b.String()
}

func joinExpr(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, " and ")
}

// query makes one Query call of the scan: filter expr, at most limit rows,
// the given output fields (nil: all).
func (s *scanner) query(ctx context.Context, expr string, limit int, output []string) (*milvuspb.QueryResults, error) {
	ts := s.req.GuaranteeTs
	if s.res.SessionTs != 0 {
		ts = s.res.SessionTs
	}
	q := s.c.scanQuery(s.req, nil, ts)
	if expr != "" || !s.c.travels() {
		q.Expr = expr // else keep legacyQuery's match-all filter (Milvus 2.2)
	}
	if output != nil {
		q.OutputFields = output
	}
	for _, kv := range q.QueryParams {
		if kv.GetKey() == "limit" {
			kv.Value = strconv.Itoa(limit)
		}
	}
	s.res.Queries++
	resp, err := s.c.svc.Query(ctx, q)
	if err := check(resp, err); err != nil {
		return nil, err
	}
	if s.res.SessionTs == 0 {
		s.res.SessionTs = resp.GetSessionTs()
	}
	return resp, nil
}

// firstKey returns the first key of a batch's primary-key column.
func firstKey(keys *schemapb.FieldData) any {
	if ids := keys.GetScalars().GetLongData().GetData(); len(ids) > 0 {
		return ids[0]
	}
	if ids := keys.GetScalars().GetStringData().GetData(); len(ids) > 0 {
		return ids[0]
	}
	return nil
}
