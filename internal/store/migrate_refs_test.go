package store

import (
	"database/sql"
	"io/fs"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/store/storetest"
)

// Refs stored per vendor column before migration 00004 come out of customer_refs unchanged:
// strings exact (quotes and backslashes too), the euid a 64-bit integer, absent refs absent.
func TestRefsMigrateToRowsPerKey(t *testing.T) {
	t.Parallel()
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			url := e.Fresh(t)
			db := migratedTo(t, url, 3)
			if _, err := db.ExecContext(t.Context(), `INSERT INTO vendor_refs (customer_id, happytalk_uuid, happytalk_room_id,
				happytalk_users_id, ladiflow_id, engagelab_euid, created_at, updated_at) VALUES
				('c-1', 'u-"1"\x', '상담방 번호', NULL, 'lf-1', 9007199254740993, 1, 2),
				('c-2', NULL, NULL, NULL, NULL, 42, 1, 2)`); err != nil {
				t.Fatal(err)
			}
			s, err := Open(t.Context(), url)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			refs, ok, err := s.Refs(t.Context(), "c-1")
			if err != nil || !ok {
				t.Fatalf("c-1: %v %v", ok, err)
			}
			ht := refs.Of(happyTalk)
			if ht.String("uuid") != `u-"1"\x` || ht.String("room_id") != "상담방 번호" || ht["users_id"] != nil ||
				refs.Of(ladiFlow).String("id") != "lf-1" || refs.Of(engageLab).Int64("euid") != 9007199254740993 {
				t.Fatalf("c-1 refs after the migration: %s", show(refs))
			}
			refs, _, err = s.Refs(t.Context(), "c-2")
			if err != nil || len(refs) != 1 || refs.Of(engageLab).Int64("euid") != 42 {
				t.Fatalf("c-2 refs after the migration: %s %v", show(refs), err)
			}
			// A merge after the migration works on the migrated rows.
			if _, changed, err := s.MergeRefs(t.Context(), "c-2", model.VendorRefs{ladiFlow: {"id": model.StringRef("lf-2")}}); err != nil || len(changed) != 1 {
				t.Fatalf("merge after the migration: %v %v", changed, err)
			}
		})
	}
}

// migratedTo opens the database at url (a fresh one, not yet migrated) and brings it to
// schema version, not further, so a test can write what an earlier version wrote; it is
// closed when the test ends.
func migratedTo(t *testing.T, url string, version int64) *sql.DB {
	t.Helper()
	engine, target, err := parseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	driver := map[string]string{EngineSQLite: "sqlite", EnginePostgres: "pgx"}[engine]
	db, err := sql.Open(driver, target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	dialect := goose.DialectSQLite3
	if engine == EnginePostgres {
		dialect = goose.DialectPostgres
	}
	p, err := goose.NewProvider(dialect, db, fsys, goose.WithDisableGlobalRegistry(true), goose.WithGoMigrations(goMigrations()...))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(t.Context(), version); err != nil {
		t.Fatal(err)
	}
	return db
}

// What each vendor had, a row per leaf before migration 00009, comes out of its row per
// customer and vendor unchanged: every leaf's sequence, so an older queued update still
// leaves out what a newer one delivered; the customer's view lists the same fields.
func TestDeliveredFieldsMigrateToARowPerVendor(t *testing.T) {
	t.Parallel()
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			url := e.Fresh(t)
			db := migratedTo(t, url, 8)
			if _, err := db.ExecContext(t.Context(), `INSERT INTO delivered_fields (customer_id, vendor, path, seq) VALUES
				('c-1', 'ladiflow', 'email', 20), ('c-1', 'ladiflow', 'address`+"\x1f"+`city', 10),
				('c-1', 'happytalk', 'email', 5), ('c-2', 'ladiflow', 'phone', 7)`); err != nil {
				t.Fatal(err)
			}
			s, err := Open(t.Context(), url)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			want := map[string]map[model.Vendor]model.Delivered{
				"c-1": {ladiFlow: {"email": 20, "address\x1fcity": 10}, happyTalk: {"email": 5}},
				"c-2": {ladiFlow: {"phone": 7}, happyTalk: {}},
			}
			for c, byVendor := range want {
				for v, d := range byVendor {
					got, err := s.delivered(t.Context(), c, v)
					if err != nil || !maps.Equal(got, d) {
						t.Errorf("%s at %s after the migration: %v, %v; want %v", c, v, got, err, d)
					}
				}
			}
			// The next update merges into the migrated row: newer leaves win, older stay.
			err = s.RecordUpdate(t.Context(), model.AuditEvent{Kind: model.KindCustomerUpdate, CustomerID: "c-1", OccurredAt: time.Now()},
				model.UpdateRecord{UpdateResult: model.UpdateResult{CustomerID: "c-1"}},
				map[model.Vendor]model.PendingFields{ladiFlow: fieldsOf(t, `{"email":"a@example.com","phone":"010-1234-5678"}`, 15)})
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.delivered(t.Context(), "c-1", ladiFlow)
			if want := (model.Delivered{"email": 20, "address\x1fcity": 10, "phone": 15}); err != nil || !maps.Equal(got, want) {
				t.Errorf("c-1 at LadiFlow after a merge: %v, %v; want %v", got, err, want)
			}
			view, err := s.Customer(t.Context(), "c-1")
			if err != nil || !slices.Equal(view.Vendors[ladiFlow].Fields, []string{"address.city", "email", "phone"}) {
				t.Errorf("c-1's view at LadiFlow: %+v, %v", view.Vendors[ladiFlow], err)
			}
		})
	}
}
