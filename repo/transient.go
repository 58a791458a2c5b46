package repo

import (
	"errors"
	"net"
)

// Classifier is implemented by stores that know which of their errors are
// transient (worth retrying: throttling, timeouts, dropped connections).
type Classifier interface {
	IsTransient(err error) bool
}

// IsTransient is the classifier for stores that have none of their own: an
// error is transient when it says so (a Transient() bool method, as
// injected faults have) or is a network timeout.
func IsTransient(err error) bool {
	var t interface{ Transient() bool }
	if errors.As(err, &t) {
		return t.Transient()
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TransientClassifier returns s's own classifier, or IsTransient.
func TransientClassifier(s Store) func(error) bool {
	if c, ok := s.(Classifier); ok {
		return c.IsTransient
	}
	return IsTransient
}
