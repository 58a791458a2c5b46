package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/prometheus/common/model"
	"github.com/spf13/pflag"
)

// ParseDuration reads a duration such as 30s, 15m, 36h, 7d, 2w, 1y or a
// combination (1d12h), with Prometheus' parser; Go's own forms (1.5h,
// 500ms) are accepted too. Negative durations are refused.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if d, err := model.ParseDuration(s); err == nil {
		return time.Duration(d), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration: use e.g. 30s, 15m, 36h, 7d or 2w", s)
	}
	return d, nil
}

// FormatDuration writes d the way ParseDuration reads it, in the largest
// whole units (7d, 36h, 1w).
func FormatDuration(d time.Duration) string {
	if d%time.Millisecond != 0 {
		return d.String()
	}
	return model.Duration(d).String()
}

// Duration is a time.Duration flag value that accepts ParseDuration's
// forms, so that every duration flag and config key reads "7d".
type Duration time.Duration

// Set parses s.
func (d *Duration) Set(s string) error {
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

func (d *Duration) String() string { return FormatDuration(time.Duration(*d)) }

// Type names the value in help texts.
func (d *Duration) Type() string { return "duration" }

// DurationVar defines a duration flag that accepts 30s, 15m, 36h, 7d, 2w.
func DurationVar(f *pflag.FlagSet, p *time.Duration, name string, value time.Duration, usage string) {
	*p = value
	f.Var((*Duration)(p), name, usage)
}

// ParseSize reads a size in bytes: a plain number, or binary units KiB,
// MiB, GiB, TiB (powers of 1024) or decimal units kB, MB, GB, TB (powers of
// 1000); a bare k, M, G or T is decimal too. Case and a space before the
// unit do not matter. Zero and negative sizes are refused.
func ParseSize(s string) (int64, error) {
	n, err := humanize.ParseBytes(strings.TrimSpace(s))
	if err != nil || n == 0 || n > 1<<62 {
		return 0, fmt.Errorf("%q is not a size: use e.g. 64MiB, 1GiB or 500MB", s)
	}
	return int64(n), nil
}

// FormatSize writes n in the largest binary unit that divides it (256MiB),
// else in bytes.
func FormatSize(n int64) string {
	for _, u := range []struct {
		name string
		mult int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n != 0 && n%u.mult == 0 {
			return fmt.Sprintf("%d%s", n/u.mult, u.name)
		}
	}
	return fmt.Sprint(n)
}

// Size is a byte-count flag value that accepts ParseSize's forms. Zero
// means "not set"; an empty string sets it to zero.
type Size int64

// Set parses s; "" and "0" mean zero (not set, unlimited).
func (z *Size) Set(s string) error {
	if s = strings.TrimSpace(s); s == "" || s == "0" {
		*z = 0
		return nil
	}
	v, err := ParseSize(s)
	if err != nil {
		return err
	}
	*z = Size(v)
	return nil
}

func (z *Size) String() string {
	if *z == 0 {
		return ""
	}
	return FormatSize(int64(*z))
}

// Type names the value in help texts.
func (z *Size) Type() string { return "size" }

// SizeVar defines a size flag (64MiB, 1GiB, 500MB); 0 means not set.
func SizeVar(f *pflag.FlagSet, p *int64, name string, value int64, usage string) {
	*p = value
	f.Var((*Size)(p), name, usage)
}
