package store

import (
	"fmt"
	"os"
	"testing"

	"github.com/customergateway/gateway/internal/store/storetest"
)

// templates makes the tests' migrated databases, copies of one migrated per engine.
var templates = storetest.NewTemplates(storetest.Migrator(Open))

func TestMain(m *testing.M) {
	code := m.Run()
	if err := templates.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "storetest:", err)
		code = max(code, 1)
	}
	os.Exit(code)
}

// TestTemplatesAreMigrated: a database the templates copy is current, so a test's Open
// applies nothing, of the gateway's migrations or River's, and the copies do not share data.
func TestTemplatesAreMigrated(t *testing.T) {
	t.Parallel()
	for _, e := range templates.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			first, second := openStore(t, e.Fresh(t)), openStore(t, e.Fresh(t))
			for _, s := range []*Store{first, second} {
				if applied, err := migrate(t.Context(), s.w, e.Name); err != nil || applied != 0 {
					t.Fatalf("a copy of the template applied %d migrations, err %v; want none", applied, err)
				}
			}
			if _, _, err := first.MergeRefs(t.Context(), "c-1", refsLF("lf-1")); err != nil {
				t.Fatal(err)
			}
			if _, ok, err := second.Refs(t.Context(), "c-1"); err != nil || ok {
				t.Fatalf("another copy sees the first one's refs: %v, %v", ok, err)
			}
		})
	}
}
