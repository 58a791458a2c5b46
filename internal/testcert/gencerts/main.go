// Command gencerts writes the TLS test certificates of package testcert
// into the folder given as its argument.
package main

import (
	"fmt"
	"os"

	"github.com/milvault/milvault/internal/testcert"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gencerts DIR")
		os.Exit(2)
	}
	if err := testcert.Write(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "gencerts:", err)
		os.Exit(1)
	}
}
