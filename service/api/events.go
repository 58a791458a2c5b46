package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// eventInterval is how often a job's event stream looks for changes.
const eventInterval = 250 * time.Millisecond

// jobEvents streams job {id} as server-sent events: a "job" event with the
// job's JSON whenever it changed (progress, state), until it is final or
// the client goes away.
func (s *server) jobEvents(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	j, err := s.svc.Jobs().Get(id)
	if err != nil {
		s.fail(w, err)
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "failure", "streaming is not supported by this connection")
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	var last []byte
	tick := time.NewTicker(eventInterval)
	defer tick.Stop()
	for {
		data, _ := json.Marshal(j)
		if !bytes.Equal(data, last) {
			fmt.Fprintf(w, "event: job\ndata: %s\n\n", data)
			flusher.Flush()
			last = data
		}
		if j.State.Final() {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
		}
		if j, err = s.svc.Jobs().Get(id); err != nil {
			return
		}
	}
}
