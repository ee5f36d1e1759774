package api

import (
	"fmt"
	"os"
	"testing"

	"github.com/customergateway/gateway/internal/store"
	"github.com/customergateway/gateway/internal/store/storetest"
)

// templates makes the tests' databases, copies of one migrated per engine.
var templates = storetest.NewTemplates(storetest.Migrator(store.Open))

func TestMain(m *testing.M) {
	if url := os.Getenv(crashChildDB); url != "" {
		crashChild(url) // this process is the crash test's child: it never returns
	}
	code := m.Run()
	if err := templates.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "storetest:", err)
		code = max(code, 1)
	}
	os.Exit(code)
}
