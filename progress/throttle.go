package progress

import (
	"sync/atomic"
	"time"
)

// throttle lets one caller through per interval without taking a lock, so
// that workers calling Rows in a tight loop only pay for an atomic load.
type throttle struct {
	every time.Duration
	last  atomic.Int64 // UnixNano of the last accepted call
}

// allow reports whether every has passed since the last accepted call; of
// concurrent callers at most one gets true.
func (t *throttle) allow(now time.Time) bool {
	last := t.last.Load()
	if now.UnixNano()-last < int64(t.every) {
		return false
	}
	return t.last.CompareAndSwap(last, now.UnixNano())
}

// reset counts now as an accepted call.
func (t *throttle) reset(now time.Time) { t.last.Store(now.UnixNano()) }
