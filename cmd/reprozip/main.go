// Command reprozip writes a zip whose bytes depend only on the files' names, contents and
// executable bits (see internal/harness/distbuild), for `make dist`.
//
//	reprozip -o dist/webhook.zip -C build/webhook bootstrap
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/ghr-dev/ghr/internal/harness/distbuild"
)

func main() {
	out := flag.String("o", "", "output zip path")
	dir := flag.String("C", ".", "directory the file names are relative to")
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: reprozip -o OUT.zip [-C DIR] FILE...")
		os.Exit(2)
	}
	if err := distbuild.WriteZip(*out, *dir, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "reprozip:", err)
		os.Exit(1)
	}
}
