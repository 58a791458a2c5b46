package repo_test

import (
	"os"
	"sort"
)

func hostname() string { h, _ := os.Hostname(); return h }

func sorted(s []string) []string { sort.Strings(s); return s }
