package store

import (
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/customergateway/gateway/internal/model"
)

func refsLF(id string) model.VendorRefs {
	return model.VendorRefs{LadiFlow: &model.LadiFlowRef{ID: id}}
}

func refsHT(uuid, room, users string) model.VendorRefs {
	return model.VendorRefs{HappyTalk: &model.HappyTalkRef{UUID: uuid, RoomID: room, UsersID: users}}
}

func refsEL(euid int64) model.VendorRefs {
	return model.VendorRefs{EngageLab: &model.EngageLabRef{EUID: euid}}
}

// TestMergeRefs runs one customer through a sequence of updates; each step checks the merged
// refs and the paths reported changed.
func TestMergeRefs(t *testing.T) {
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
			wantChanged: []string{PathHappyTalkUUID, PathHappyTalkRoomID},
		},
		{
			name:  "other vendors are added beside them",
			given: model.VendorRefs{LadiFlow: &model.LadiFlowRef{ID: "lf-1"}, EngageLab: &model.EngageLabRef{EUID: 9007199254740993}},
			want: model.VendorRefs{HappyTalk: &model.HappyTalkRef{UUID: "u-1", RoomID: "r-1"},
				LadiFlow: &model.LadiFlowRef{ID: "lf-1"}, EngageLab: &model.EngageLabRef{EUID: 9007199254740993}},
			wantChanged: []string{PathLadiFlowID, PathEngageLabEUID},
		},
		{
			name:  "a field given replaces the stored one, absent fields stay",
			given: refsHT("", "r-2", "users-7"),
			want: model.VendorRefs{HappyTalk: &model.HappyTalkRef{UUID: "u-1", RoomID: "r-2", UsersID: "users-7"},
				LadiFlow: &model.LadiFlowRef{ID: "lf-1"}, EngageLab: &model.EngageLabRef{EUID: 9007199254740993}},
			wantChanged: []string{PathHappyTalkRoomID, PathHappyTalkUsersID},
		},
		{
			name:  "the same values again change nothing",
			given: model.VendorRefs{HappyTalk: &model.HappyTalkRef{UUID: "u-1"}, LadiFlow: &model.LadiFlowRef{ID: "lf-1"}, EngageLab: &model.EngageLabRef{EUID: 9007199254740993}},
			want: model.VendorRefs{HappyTalk: &model.HappyTalkRef{UUID: "u-1", RoomID: "r-2", UsersID: "users-7"},
				LadiFlow: &model.LadiFlowRef{ID: "lf-1"}, EngageLab: &model.EngageLabRef{EUID: 9007199254740993}},
		},
		{
			name:  "nothing given answers what is stored",
			given: model.VendorRefs{LadiFlow: &model.LadiFlowRef{}, EngageLab: &model.EngageLabRef{}},
			want: model.VendorRefs{HappyTalk: &model.HappyTalkRef{UUID: "u-1", RoomID: "r-2", UsersID: "users-7"},
				LadiFlow: &model.LadiFlowRef{ID: "lf-1"}, EngageLab: &model.EngageLabRef{EUID: 9007199254740993}},
		},
		{
			name:  "a resolved EUID replaces the old one",
			given: refsEL(42),
			want: model.VendorRefs{HappyTalk: &model.HappyTalkRef{UUID: "u-1", RoomID: "r-2", UsersID: "users-7"},
				LadiFlow: &model.LadiFlowRef{ID: "lf-1"}, EngageLab: &model.EngageLabRef{EUID: 42}},
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
		if refs, ok, err := s.Refs(t.Context(), "c-other"); ok || err != nil || !reflect.DeepEqual(refs, model.VendorRefs{}) {
			t.Fatalf("another customer sees %s %v %v", show(refs), ok, err)
		}
	})
}

func show(r model.VendorRefs) string {
	return fmt.Sprintf("{ht:%+v lf:%+v el:%+v}", r.HappyTalk, r.LadiFlow, r.EngageLab)
}

// TestMergeRefsConcurrent gives every customer five concurrent merges, each of one field
// nobody else writes. Were merges not serialised, a merge would write back a stale empty
// field over another's value. Serialised, each customer ends with all five, each merge
// reports exactly its own path, and the merged snapshots grow one field at a time (1..5).
func TestMergeRefsConcurrent(t *testing.T) {
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
			want := model.VendorRefs{
				HappyTalk: &model.HappyTalkRef{UUID: fmt.Sprint("u-", c), RoomID: fmt.Sprint("r-", c), UsersID: fmt.Sprint("us-", c)},
				LadiFlow:  &model.LadiFlowRef{ID: fmt.Sprint("lf-", c)},
				EngageLab: &model.EngageLabRef{EUID: int64(1000 + c)},
			}
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

// known counts the ref fields set in r.
func known(r model.VendorRefs) int {
	n := 0
	if h := r.HappyTalk; h != nil {
		for _, v := range []string{h.UUID, h.RoomID, h.UsersID} {
			if v != "" {
				n++
			}
		}
	}
	if r.LadiFlow != nil && r.LadiFlow.ID != "" {
		n++
	}
	if r.EngageLab != nil && r.EngageLab.EUID != 0 {
		n++
	}
	return n
}
