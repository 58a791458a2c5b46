package main

import (
	"io"
	"os"
	"path/filepath"
	"time"
)

// readFiles reads every file under dir sequentially into io.Discard (the
// `cat > /dev/null` baseline for checksum verification) and returns the
// bytes read and the seconds taken.
func readFiles(dir string) (int64, float64, error) {
	start := time.Now()
	var total int64
	buf := make([]byte, 1<<20)
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		for {
			n, err := f.Read(buf)
			total += int64(n)
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
		}
	})
	return total, time.Since(start).Seconds(), err
}

// dirSize is the total size of the files under dir.
func dirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}
