package store

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/customergateway/gateway/internal/model"
)

// The store knows no vendor: these are the refs of three, as the contract spells them.
const (
	PathHappyTalkUUID    = "vendor_refs.happytalk.uuid"
	PathHappyTalkRoomID  = "vendor_refs.happytalk.room_id"
	PathHappyTalkUsersID = "vendor_refs.happytalk.users_id"
	PathLadiFlowID       = "vendor_refs.ladiflow.id"
	PathEngageLabEUID    = "vendor_refs.engagelab.euid"
)

// refs joins vendor refs; an empty string or a zero euid is a ref not given.
func refs(parts ...model.VendorRefs) model.VendorRefs {
	out := model.VendorRefs{}
	for _, p := range parts {
		for v, keys := range p {
			if out[v] == nil {
				out[v] = model.Refs{}
			}
			for k, val := range keys {
				out[v][k] = val
			}
		}
	}
	return out
}

func refsLF(id string) model.VendorRefs {
	return model.VendorRefs{"ladiflow": keys("id", id)}
}

func refsHT(uuid, room, users string) model.VendorRefs {
	return model.VendorRefs{"happytalk": keys("uuid", uuid, "room_id", room, "users_id", users)}
}

func refsEL(euid int64) model.VendorRefs {
	r := model.Refs{}
	if euid != 0 {
		r["euid"] = model.Int64Ref(euid)
	}
	return model.VendorRefs{"engagelab": r}
}

// keys are string refs by name, the empty ones left out.
func keys(kv ...string) model.Refs {
	r := model.Refs{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			r[kv[i]] = model.StringRef(kv[i+1])
		}
	}
	return r
}

// TestMergeRefs runs one customer through a sequence of updates; each step checks the merged
// refs and the paths reported changed.
func TestMergeRefs(t *testing.T) {
	t.Parallel()
	steps := []struct {
		name        string
		given       model.VendorRefs
		want        model.VendorRefs
		wantChanged []string
	}{
		{
			name:        "first refs are stored",
			given:       refsHT("u-1", "r-1", ""),
			want:        refsHT("u-1", "r-1", ""),
			wantChanged: []string{PathHappyTalkRoomID, PathHappyTalkUUID}, // sorted
		},
		{
			name:        "other vendors are added beside them",
			given:       refs(refsLF("lf-1"), refsEL(9007199254740993)),
			want:        refs(refsHT("u-1", "r-1", ""), refsLF("lf-1"), refsEL(9007199254740993)),
			wantChanged: []string{PathEngageLabEUID, PathLadiFlowID}, // sorted
		},
		{
			name:        "a field given replaces the stored one, absent fields stay",
			given:       refsHT("", "r-2", "users-7"),
			want:        refs(refsHT("u-1", "r-2", "users-7"), refsLF("lf-1"), refsEL(9007199254740993)),
			wantChanged: []string{PathHappyTalkRoomID, PathHappyTalkUsersID},
		},
		{
			name:  "the same values again change nothing",
			given: refs(refsHT("u-1", "", ""), refsLF("lf-1"), refsEL(9007199254740993)),
			want:  refs(refsHT("u-1", "r-2", "users-7"), refsLF("lf-1"), refsEL(9007199254740993)),
		},
		{
			name:  "nothing given answers what is stored",
			given: model.VendorRefs{"ladiflow": {"id": model.StringRef("")}, "engagelab": {"euid": model.Int64Ref(0)}},
			want:  refs(refsHT("u-1", "r-2", "users-7"), refsLF("lf-1"), refsEL(9007199254740993)),
		},
		{
			name:        "a resolved EUID replaces the old one",
			given:       refsEL(42),
			want:        refs(refsHT("u-1", "r-2", "users-7"), refsLF("lf-1"), refsEL(42)),
			wantChanged: []string{PathEngageLabEUID},
		},
	}
	forEachEngine(t, func(t *testing.T, s *Store) {
		if _, ok, err := s.Refs(t.Context(), "c-42"); ok || err != nil {
			t.Fatalf("unknown customer: ok=%v err=%v", ok, err)
		}
		for _, st := range steps {
			merged, changed, err := s.MergeRefs(t.Context(), "c-42", st.given)
			if err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			if !reflect.DeepEqual(merged, st.want) || !slices.Equal(changed, st.wantChanged) {
				t.Fatalf("%s: merged %s changed %v; want %s %v", st.name, show(merged), changed, show(st.want), st.wantChanged)
			}
			stored, ok, err := s.Refs(t.Context(), "c-42")
			if err != nil || !ok || !reflect.DeepEqual(stored, st.want) {
				t.Fatalf("%s: Refs = %s %v %v; want %s", st.name, show(stored), ok, err, show(st.want))
			}
		}
		if other, ok, err := s.Refs(t.Context(), "c-other"); ok || err != nil || len(other) != 0 {
			t.Fatalf("another customer sees %s %v %v", show(other), ok, err)
		}
	})
}

func show(r model.VendorRefs) string {
	b, _ := json.Marshal(r)
	return string(b)
}

// TestMergeRefsConcurrent gives every customer five concurrent merges, each of one field
// nobody else writes. Were merges not serialised, a merge would write back a stale empty
// field over another's value. Serialised, each customer ends with all five, each merge
// reports exactly its own path, and the merged snapshots grow one field at a time (1..5).
func TestMergeRefsConcurrent(t *testing.T) {
	t.Parallel()
	const customers = 20
	fields := []struct {
		path  string
		given func(c int) model.VendorRefs
	}{
		{PathHappyTalkUUID, func(c int) model.VendorRefs { return refsHT(fmt.Sprint("u-", c), "", "") }},
		{PathHappyTalkRoomID, func(c int) model.VendorRefs { return refsHT("", fmt.Sprint("r-", c), "") }},
		{PathHappyTalkUsersID, func(c int) model.VendorRefs { return refsHT("", "", fmt.Sprint("us-", c)) }},
		{PathLadiFlowID, func(c int) model.VendorRefs { return refsLF(fmt.Sprint("lf-", c)) }},
		{PathEngageLabEUID, func(c int) model.VendorRefs { return refsEL(int64(1000 + c)) }},
	}
	forEachEngine(t, func(t *testing.T, s *Store) {
		var mu sync.Mutex
		sizes := map[int][]int{}
		var wg sync.WaitGroup
		for c := range customers {
			for _, f := range fields {
				wg.Go(func() {
					merged, changed, err := s.MergeRefs(t.Context(), fmt.Sprint("c-", c), f.given(c))
					if err != nil {
						t.Errorf("customer %d %s: %v", c, f.path, err)
						return
					}
					if !slices.Equal(changed, []string{f.path}) {
						t.Errorf("customer %d: merge of %s reported %v", c, f.path, changed)
					}
					mu.Lock()
					sizes[c] = append(sizes[c], known(merged))
					mu.Unlock()
				})
			}
		}
		wg.Wait()
		for c := range customers {
			want := refs(refsHT(fmt.Sprint("u-", c), fmt.Sprint("r-", c), fmt.Sprint("us-", c)), refsLF(fmt.Sprint("lf-", c)), refsEL(int64(1000+c)))
			got, _, err := s.Refs(t.Context(), fmt.Sprint("c-", c))
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("customer %d ends with %s, %v; want %s", c, show(got), err, show(want))
			}
			slices.Sort(sizes[c])
			if !slices.Equal(sizes[c], []int{1, 2, 3, 4, 5}) {
				t.Errorf("customer %d: merged snapshots knew %v fields, want 1..5 once each", c, sizes[c])
			}
		}
	})
}

// known counts the refs set in r.
func known(r model.VendorRefs) int {
	n := 0
	for _, keys := range r {
		n += len(keys)
	}
	return n
}
