package progress

import (
	"fmt"
	"strconv"
	"time"
)

// HumanBytes formats n bytes in binary units with one decimal, e.g. "512 B",
// "12.3 MiB", "1.5 GiB".
func HumanBytes(n int64) string {
	if n < 0 {
		return "-" + HumanBytes(-n)
	}
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	return scaled(float64(n), 1024, []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}, " ")
}

// HumanCount formats n with thousands separators, e.g. "1,234,567".
func HumanCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	start := 0
	if n < 0 {
		start = 1
	}
	for i := len(s) - 3; i > start; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// HumanDuration formats d compactly for progress lines and tables: "0.4s",
// "42s", "1m23s", "2h05m", "3d04h". Negative durations print as "0s".
func HumanDuration(d time.Duration) string {
	if d < 0 {
		return "0s"
	}
	if d < 9950*time.Millisecond {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	// Round before choosing the unit, so 59.7s prints as "1m00s", not "60s".
	if d = d.Round(time.Second); d < time.Minute {
		return fmt.Sprintf("%ds", int(d.Seconds()))
	}
	if d < time.Hour {
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	if d = d.Round(time.Minute); d < 24*time.Hour {
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	h := int(d.Round(time.Hour).Hours())
	return fmt.Sprintf("%dd%02dh", h/24, h%24)
}

// humanRate formats a per-second count in SI units: "950", "2.1k", "1.3M".
func humanRate(f float64) string {
	if f < 1000 {
		return fmt.Sprintf("%.0f", f)
	}
	return scaled(f, 1000, []string{"k", "M", "G", "T"}, "")
}

// scaled divides v by base until it fits, picking the unit after rounding
// so that 1023.97 KiB prints as "1.0 MiB", never "1024.0 KiB".
func scaled(v, base float64, units []string, sep string) string {
	v /= base
	i := 0
	for i < len(units)-1 && v >= base-0.05 {
		v /= base
		i++
	}
	return fmt.Sprintf("%.1f%s%s", v, sep, units[i])
}
