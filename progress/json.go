package progress

import (
	"encoding/json"
	"io"
	"math"
	"sync"
	"time"
)

// jsonEvery rate-limits "progress" events.
const jsonEvery = time.Second

// jsonEvent is one line of NewJSON's output.
type jsonEvent struct {
	Event string `json:"event"` // phase, progress, note, phase_done or done
	Phase string `json:"phase,omitempty"`
	*jsonCounts
	ElapsedSeconds *float64 `json:"elapsed_seconds,omitempty"`
	Msg            string   `json:"msg,omitempty"`
	Time           string   `json:"time"`
}

// jsonCounts are the numbers of phase, progress and phase_done events.
type jsonCounts struct {
	Rows        int64    `json:"rows"`
	TotalRows   int64    `json:"total_rows"`
	Bytes       int64    `json:"bytes"`
	TotalBytes  int64    `json:"total_bytes"`
	RowsPerSec  float64  `json:"rows_per_sec"`
	BytesPerSec float64  `json:"bytes_per_sec"`
	ETASeconds  *float64 `json:"eta_seconds"` // null when unknown
}

// jsonLines renders progress as JSON objects, one per line.
type jsonLines struct {
	w     io.Writer
	clock Clock
	meter *Meter
	start time.Time
	tick  throttle
	mu    sync.Mutex // serializes writes; guards done
	done  bool
}

// NewJSON returns a Progress that writes one JSON object per line, for
// programs that watch a backup: events "phase" (a phase started), "progress"
// (at most about once per second while one runs), "note", "phase_done" and
// "done", each with the fields that apply among phase, rows, total_rows,
// bytes, total_bytes, rows_per_sec, bytes_per_sec, eta_seconds (null when
// unknown), elapsed_seconds and msg, and always event and time (RFC 3339).
func NewJSON(w io.Writer, clock Clock) Progress {
	if clock == nil {
		clock = RealClock
	}
	return &jsonLines{w: w, clock: clock, meter: NewMeter(clock), start: clock.Now(), tick: throttle{every: jsonEvery}}
}

func (j *jsonLines) Phase(name string, totalRows, totalBytes int64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if prev, ok := j.meter.startPhase(name, totalRows, totalBytes); ok {
		j.emit(snapshotEvent("phase_done", prev))
	}
	j.tick.reset(j.clock.Now())
	j.emit(snapshotEvent("phase", Snapshot{Phase: name, TotalRows: totalRows, TotalBytes: totalBytes}))
}

func (j *jsonLines) Rows(n int64)  { j.meter.Rows(n); j.report() }
func (j *jsonLines) Bytes(n int64) { j.meter.Bytes(n); j.report() }

func (j *jsonLines) Note(msg string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.emit(jsonEvent{Event: "note", Phase: j.meter.cur.Load().name, Msg: msg})
}

func (j *jsonLines) Done() {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.done {
		return
	}
	j.done = true
	if final, ok := j.meter.endPhase(); ok {
		j.emit(snapshotEvent("phase_done", final))
	}
	j.emit(jsonEvent{Event: "done", ElapsedSeconds: seconds(j.clock.Now().Sub(j.start))})
}

// report emits a progress event when one is due.
func (j *jsonLines) report() {
	if !j.tick.allow(j.clock.Now()) {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if s := j.meter.Snapshot(); !s.Ended {
		j.emit(snapshotEvent("progress", s))
	}
}

// emit writes e as one line; j.mu must be held.
func (j *jsonLines) emit(e jsonEvent) {
	e.Time = j.clock.Now().Format(time.RFC3339Nano)
	b, err := json.Marshal(e)
	if err != nil {
		return // cannot happen: the event holds only strings and finite numbers
	}
	j.w.Write(append(b, '\n'))
}

func snapshotEvent(event string, s Snapshot) jsonEvent {
	c := &jsonCounts{
		Rows: s.Rows, TotalRows: s.TotalRows, Bytes: s.Bytes, TotalBytes: s.TotalBytes,
		RowsPerSec: round3(s.RowsPerSec), BytesPerSec: round3(s.BytesPerSec),
	}
	if s.ETAKnown {
		c.ETASeconds = seconds(s.ETA)
	}
	return jsonEvent{Event: event, Phase: s.Phase, jsonCounts: c, ElapsedSeconds: seconds(s.Elapsed)}
}

func seconds(d time.Duration) *float64 {
	s := round3(d.Seconds())
	return &s
}

// round3 keeps three decimals: more is noise in a rate or a duration.
func round3(f float64) float64 { return math.Round(f*1000) / 1000 }
