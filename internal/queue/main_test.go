package queue

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

// parallel is how many tests run at once unless -parallel says otherwise. Most of a queue
// test is waiting for River's scheduler (see waitLimit), not work, so more of them than
// go test's default of one per core fit; many more would put River pollers on every core
// and hold PostgreSQL connections the other packages' tests need.
const parallel = 4

func TestMain(m *testing.M) {
	testmain.Parallel(parallel)
	code := m.Run()
	if err := templates.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "storetest:", err)
		code = max(code, 1)
	}
	os.Exit(code)
}
