package web

import (
	"html/template"
	"time"
)

// pages are the parsed templates.
type pages struct{ t *template.Template }

func parsePages() (*pages, error) {
	t, err := template.New("").Funcs(template.FuncMap{
		"bytes": func(n int64) string { return formatBytes(float64(n)) },
		"when":  when,
		"ago":   ago,
	}).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	return &pages{t: t}, nil
}

// when writes a time in UTC for the page ("" for none).
func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// ago is how long before now t was, or until t when it is ahead.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := now.Sub(t)
	suffix := " ago"
	if d < 0 {
		d, suffix = -d, " from now"
	}
	switch {
	case d < time.Minute:
		return d.Round(time.Second).String() + suffix
	case d < 48*time.Hour:
		return d.Round(time.Minute).String() + suffix
	}
	return d.Round(time.Hour).String() + suffix
}
