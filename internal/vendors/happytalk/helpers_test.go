package happytalk

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
	_ "time/tzdata" // the tests need Asia/Seoul on hosts with no zone database

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/vendors/vendorhttp"
	"github.com/customergateway/gateway/internal/vendors/vendortest"
)

// docToken is the token of HappyTalk's own samples ("the customer's token").
const docToken = "고객사 토큰"

// fakeHappyTalk is a recording HappyTalk stand-in on 127.0.0.1.
type fakeHappyTalk = vendortest.Server

func newFake(t *testing.T, status int, body string) *fakeHappyTalk {
	return vendortest.New(t, status, body)
}

// testConfig is the configuration of the document's examples.
func testConfig(base string) Config {
	return Config{
		BaseURL:      base,
		Token:        docToken,
		GenderFormat: GenderCode,
		ParameterMap: ParameterMap{"tier": "parameter1", "note": "user_parameter"},
	}
}

func newTestAdapter(cfg Config) *Adapter { return New(cfg, vendorhttp.NewClient()) }

func ptr[T any](v T) *T { return &v }

// refs is the HappyTalk key of the document's examples, without users_id.
func refs() model.VendorRefs {
	return model.VendorRefs{Name: {refUUID: model.StringRef("1000225100_sazob20220921062938"), refRoomID: model.StringRef("상담방 번호")}}
}

func prepare(t testing.TB, f model.CustomerUpdate) *model.Update {
	t.Helper()
	u, err := model.Prepare("c-42", f, "KR")
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	return u
}

// decodeJSON reads b into a generic value so that two documents compare by meaning.
func decodeJSON(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	return v
}

func readGolden(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func assertSameJSON(t *testing.T, got, want []byte) {
	t.Helper()
	if g, w := decodeJSON(t, got), decodeJSON(t, want); !reflect.DeepEqual(g, w) {
		t.Errorf("JSON differs\n got: %s\nwant: %s", got, want)
	}
}

func seoulZone(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
