package happytalk

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseParameterMap(t *testing.T) {
	tests := []struct {
		in      string
		want    ParameterMap
		wantErr string // a substring; the bad entry must be named
	}{
		{in: "", want: ParameterMap{}},
		{in: "  ", want: ParameterMap{}},
		{in: "tier:parameter1,note:user_parameter", want: ParameterMap{"tier": "parameter1", "note": "user_parameter"}},
		{in: " tier : parameter10 , vip:parameter2", want: ParameterMap{"tier": "parameter10", "vip": "parameter2"}},
		{in: "tier", wantErr: `entry "tier": want name:target`},
		{in: "tier:parameter1,,note:user_parameter", wantErr: `entry "": want name:target`},
		{in: ":parameter1", wantErr: `entry ":parameter1": the attribute name is empty`},
		{in: "tier:", wantErr: `entry "tier:": unknown target ""`},
		{in: "tier:parameter11", wantErr: `entry "tier:parameter11": unknown target "parameter11"`},
		{in: "tier:Parameter1", wantErr: `entry "tier:Parameter1": unknown target "Parameter1"`},
		{in: "tier:parameter1,vip:parameter1", wantErr: `entry "vip:parameter1": parameter1 is already used by attribute "tier"`},
		{in: "a:user_parameter,b:user_parameter", wantErr: `entry "b:user_parameter": user_parameter is already used by attribute "a"`},
		{in: "tier:parameter1,tier:parameter2", wantErr: `entry "tier:parameter2": attribute "tier" is mapped twice`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseParameterMap(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("map = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseGenderFormat(t *testing.T) {
	tests := []struct {
		in      string
		want    GenderFormat
		wantErr bool
	}{
		{in: "", want: GenderCode},
		{in: "code", want: GenderCode},
		{in: "korean", want: GenderKorean},
		{in: " Korean ", want: GenderKorean},
		{in: "hangul", wantErr: true},
		{in: "M/F", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseGenderFormat(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParseGenderFormat(%q) = %q, %v", tt.in, got, err)
			}
		})
	}
}

func TestLocationIsTheAccountZone(t *testing.T) {
	ho, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Fatal(err)
	}
	if got := New(Config{Location: ho}, nil).Location(); got != ho {
		t.Fatalf("Location = %v", got)
	}
	if got := New(Config{}, nil).Location().String(); got != DefaultTimezone {
		t.Fatalf("default Location = %s", got)
	}
}
