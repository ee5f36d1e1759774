// Package testmain holds what a package's TestMain sets before its tests run.
package testmain

import (
	"flag"
	"fmt"
	"os"
	"strconv"
)

// Parallel lets n tests of the package run at once unless the command line gave
// -parallel. go test's default is one per core, right for tests that compute; tests that
// mostly wait (for a child process, a queue's poll, a database on the same machine) leave
// the cores idle at that bound. Call it first in TestMain; it parses the flags.
func Parallel(n int) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if explicit {
		return
	}
	if err := flag.Set("test.parallel", strconv.Itoa(n)); err != nil {
		fmt.Fprintln(os.Stderr, "testmain:", err)
		os.Exit(2)
	}
}
