package audit

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCursorRoundTrip(t *testing.T) {
	c := cursorCodec{key: []byte("k1")}
	fp := []byte("0123456789abcdef")
	want := eventKey{At: time.Date(2024, 3, 10, 17, 14, 28, 123456789, time.FixedZone("KST", 9*3600)), ID: "happytalk:146708"}
	got, err := c.decode(c.encode(fp, want), fp)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if !got.At.Equal(want.At) || got.ID != want.ID {
		t.Errorf("key = %v %q, want %v %q", got.At, got.ID, want.At, want.ID)
	}
}

func TestCursorRefused(t *testing.T) {
	c := cursorCodec{key: []byte("k1")}
	fp := []byte("0123456789abcdef")
	good := c.encode(fp, eventKey{At: time.Unix(1700000000, 0), ID: "happytalk:1"})
	body, sig, _ := strings.Cut(good, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(body)
	forged := strings.Replace(string(payload), "happytalk:1", "happytalk:2", 1)
	tests := []struct {
		name   string
		cursor string
		fp     []byte
		codec  cursorCodec
		want   error
	}{
		{"payload altered, old signature", base64.RawURLEncoding.EncodeToString([]byte(forged)) + "." + sig, fp, c, errCursorInvalid},
		{"signature altered", body + "." + base64.RawURLEncoding.EncodeToString([]byte("not the mac")), fp, c, errCursorInvalid},
		{"signed with another key", good, fp, cursorCodec{key: []byte("k2")}, errCursorInvalid},
		{"no signature", body, fp, c, errCursorInvalid},
		{"not base64", "!!!.???", fp, c, errCursorInvalid},
		{"empty", "", fp, c, errCursorInvalid},
		{"another query", good, []byte("fedcba9876543210"), c, errCursorOtherQuery},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.codec.decode(tt.cursor, tt.fp); !errors.Is(err, tt.want) {
				t.Errorf("decode err = %v, want %v", err, tt.want)
			}
		})
	}
}
