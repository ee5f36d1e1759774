package api

import (
	"fmt"
	"os"
	"testing"

	"github.com/customergateway/gateway/internal/store"
	"github.com/customergateway/gateway/internal/store/storetest"
	"github.com/customergateway/gateway/internal/testmain"
)

// templates makes the tests' databases, copies of one migrated per engine.
var templates = storetest.NewTemplates(storetest.Migrator(store.Open))

// parallel is how many tests run at once unless -parallel says otherwise: many wait on a
// queue's poll or retry, or on PostgreSQL, more than they compute.
const parallel = 4

func TestMain(m *testing.M) {
	if url := os.Getenv(crashChildDB); url != "" {
		crashChild(url) // this process is the crash test's child: it never returns
	}
	testmain.Parallel(parallel)
	code := m.Run()
	if err := templates.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "storetest:", err)
		code = max(code, 1)
	}
	os.Exit(code)
}
