package progress

// Tee returns a Progress that forwards every event to each of ps in order,
// e.g. to a Meter polled for job status and to a renderer for the log.
func Tee(ps ...Progress) Progress { return tee(ps) }

type tee []Progress

func (t tee) Phase(name string, totalRows, totalBytes int64) {
	for _, p := range t {
		p.Phase(name, totalRows, totalBytes)
	}
}

func (t tee) Rows(n int64) {
	for _, p := range t {
		p.Rows(n)
	}
}

func (t tee) Bytes(n int64) {
	for _, p := range t {
		p.Bytes(n)
	}
}

func (t tee) Note(msg string) {
	for _, p := range t {
		p.Note(msg)
	}
}

func (t tee) Done() {
	for _, p := range t {
		p.Done()
	}
}
