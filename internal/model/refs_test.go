package model

import (
	"reflect"
	"testing"
)

func TestVendorRefsMerge(t *testing.T) {
	known := VendorRefs{HappyTalk: &HappyTalkRef{UUID: "u", RoomID: "r"}, LadiFlow: &LadiFlowRef{ID: "l"}}
	tests := []struct {
		name        string
		given       *VendorRefs
		want        VendorRefs
		wantChanged []string
	}{
		{"nothing given", nil, known, nil},
		{"same values change nothing", &VendorRefs{LadiFlow: &LadiFlowRef{ID: "l"}}, known, nil},
		{"a new room replaces, the uuid stays", &VendorRefs{HappyTalk: &HappyTalkRef{RoomID: "r2"}},
			VendorRefs{HappyTalk: &HappyTalkRef{UUID: "u", RoomID: "r2"}, LadiFlow: &LadiFlowRef{ID: "l"}}, []string{PathHappyTalkRoomID}},
		{"empty values never clear", &VendorRefs{HappyTalk: &HappyTalkRef{}, LadiFlow: &LadiFlowRef{}, EngageLab: &EngageLabRef{}}, known, nil},
		{"a new vendor is added", &VendorRefs{EngageLab: &EngageLabRef{EUID: 7}},
			VendorRefs{HappyTalk: known.HappyTalk, LadiFlow: known.LadiFlow, EngageLab: &EngageLabRef{EUID: 7}}, []string{PathEngageLabEUID}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, changed := known.Merge(tc.given)
			if !reflect.DeepEqual(got, tc.want) || !reflect.DeepEqual(changed, tc.wantChanged) {
				t.Fatalf("Merge = %+v %v, want %+v %v", got, changed, tc.want, tc.wantChanged)
			}
		})
	}
	if known.HappyTalk.RoomID != "r" {
		t.Fatal("Merge changed its receiver")
	}
}
