package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/stats"
)

// timeline is a gRPC stats handler on an in-process guard's listener. While
// on, it records for every Insert and Search when the guard held the whole
// request and when it had sent the response. The bench calls one at a
// time in those phases, so the n-th recorded call of a method is the n-th
// guarded call the bench timed, and the report can split the guard's added
// latency into the request's arrival at the guard (client encoding and
// the first transfer), Milvus's answer with the relay (the second
// transfer, Milvus's work, the answer back to the guard) and the reply's
// last hop to the client.
type timeline struct {
	mu    sync.Mutex
	on    bool
	calls map[string][]moments // by method name, in call order
}

// moments are one guarded call's times at the guard.
type moments struct{ request, sent time.Time }

// span is one call as the bench timed it.
type span struct{ start, end time.Time }

type callKey struct{}

// call is one call in flight at the guard.
type call struct {
	method string
	moments
}

func newTimeline() *timeline { return &timeline{calls: map[string][]moments{}} }

// record turns recording on or off.
func (tl *timeline) record(on bool) {
	if tl == nil {
		return
	}
	tl.mu.Lock()
	tl.on = on
	tl.mu.Unlock()
}

func (tl *timeline) TagRPC(ctx context.Context, info *stats.RPCTagInfo) context.Context {
	name := info.FullMethodName[strings.LastIndexByte(info.FullMethodName, '/')+1:]
	if name != "Insert" && name != "Search" {
		return ctx
	}
	return context.WithValue(ctx, callKey{}, &call{method: name})
}

func (tl *timeline) HandleRPC(ctx context.Context, s stats.RPCStats) {
	c, ok := ctx.Value(callKey{}).(*call)
	if !ok {
		return
	}
	switch v := s.(type) {
	case *stats.InPayload:
		c.request = v.RecvTime
	case *stats.OutPayload:
		c.sent = v.SentTime
	case *stats.End:
		tl.mu.Lock()
		defer tl.mu.Unlock()
		if tl.on && v.Error == nil && !c.request.IsZero() && !c.sent.IsZero() {
			tl.calls[c.method] = append(tl.calls[c.method], c.moments)
		}
	}
}

func (tl *timeline) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (tl *timeline) HandleConn(context.Context, stats.ConnStats)                       {}

// report returns the markdown line of the median phases of method's
// guarded calls (spans, as the bench timed them) next to the median
// direct call; "" when the counts do not match.
func (tl *timeline) report(method string, direct []time.Duration, guarded []span) string {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	m := tl.calls[method]
	if len(m) == 0 || len(m) != len(guarded) || len(direct) == 0 {
		return ""
	}
	var arrive, answer, reply, total []time.Duration
	for i, s := range guarded {
		arrive = append(arrive, m[i].request.Sub(s.start))
		answer = append(answer, m[i].sent.Sub(m[i].request))
		reply = append(reply, s.end.Sub(m[i].sent))
		total = append(total, s.end.Sub(s.start))
	}
	return fmt.Sprintf("| %s | %s | %s | %s | %s | %s |\n", method, ms(pct(direct, 0.5)), ms(pct(total, 0.5)),
		ms(pct(arrive, 0.5)), ms(pct(answer, 0.5)), ms(pct(reply, 0.5)))
}
