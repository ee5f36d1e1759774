package model

import (
	"encoding/json"
	"reflect"
	"testing"
)

func decodeUpdate(t *testing.T, s string) CustomerUpdate {
	t.Helper()
	var u CustomerUpdate
	if err := json.Unmarshal([]byte(s), &u); err != nil {
		t.Fatal(err)
	}
	return u
}

func queued(t *testing.T, s string, seq int64) PendingFields {
	t.Helper()
	p, err := QueuedFields(decodeUpdate(t, s), seq)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func rebuilt(t *testing.T, p PendingFields) string {
	t.Helper()
	u, err := p.Update()
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestQueuedFieldsRoundTrip(t *testing.T) {
	in := `{"full_name":"Kim","email":"kim@example.com","birthday":"1990-02-30","birthday_calendar":"lunar",` +
		`"address":{"city":"Seoul","postal_code":"04524"},"tags":["vip","b"],"attributes":{"tier":"gold","a.b":"x"},` +
		`"vendor_refs":{"ladiflow":{"id":"L1"}},"vendors":["ladiflow"]}`
	got := rebuilt(t, queued(t, in, 1))
	// Refs and the vendors list are not queued: refs are read at send time, and a queued
	// delivery is for one vendor.
	want := `{"full_name":"Kim","email":"kim@example.com","birthday":"1990-02-30","birthday_calendar":"lunar",` +
		`"address":{"city":"Seoul","postal_code":"04524"},"tags":["vip","b"],"attributes":{"a.b":"x","tier":"gold"}}`
	if got != want {
		t.Fatalf("round trip\n got %s\nwant %s", got, want)
	}
}

// A queued leaf the contract no longer has (queued by an older gateway, say) or one that
// names a field in another case is refused, not dropped: the delivery says what it cannot
// send instead of sending less than was accepted.
func TestQueuedFieldsUnknownToTheContractAreRefused(t *testing.T) {
	for _, path := range [][]string{{"nickname"}, {"Full_Name"}, {"address", "planet"}} {
		p := PendingFields{{Path: path, Seq: 1, Value: json.RawMessage(`"x"`)}}
		if u, err := p.Update(); err == nil {
			t.Errorf("%v: rebuilt %+v, want an error", path, u)
		}
	}
}

func TestPendingMergeNewestLeafWins(t *testing.T) {
	older := queued(t, `{"email":"old@example.com","address":{"line1":"1 Main","city":"Busan"},"tags":["a","b"],"birthday":"1990-01-02","birthday_calendar":"lunar"}`, 10)
	newer := queued(t, `{"phone":"+821012345678","address":{"city":"Seoul"},"tags":["c"],"birthday":"1991-03-04"}`, 20)
	want := `{"email":"old@example.com","phone":"+821012345678","birthday":"1991-03-04","address":{"line1":"1 Main","city":"Seoul"},"tags":["c"]}`

	// Merged in either order the newer update wins each leaf it set: an older update
	// queued late never overwrites a newer one.
	for name, merged := range map[string]PendingFields{
		"older then newer": older.Merge(newer),
		"newer then older": newer.Merge(older),
	} {
		if got := rebuilt(t, merged); got != want {
			t.Errorf("%s\n got %s\nwant %s", name, got, want)
		}
	}
	// The birthday group is replaced whole: the newer solar date does not inherit "lunar".
	if got := rebuilt(t, older.Merge(newer)); got != want {
		t.Errorf("birthday group kept an older calendar: %s", got)
	}
	if got, want := older.Merge(newer).Names(), []string{"address", "birthday", "email", "phone", "tags"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
}

func TestPendingMergeDoesNotChangeItsInputs(t *testing.T) {
	a := queued(t, `{"email":"a@example.com"}`, 1)
	b := queued(t, `{"email":"b@example.com"}`, 2)
	_ = a.Merge(b)
	if got := rebuilt(t, a); got != `{"email":"a@example.com"}` {
		t.Fatalf("Merge changed its receiver: %s", got)
	}
}

// TestPendingSinceDelivered: leaves a newer update already delivered are left out; leaves it
// did not touch, and leaves newer than it, stay.
func TestPendingSinceDelivered(t *testing.T) {
	d := Delivered{}
	d.Mark(queued(t, `{"email":"new@example.com","address":{"city":"Seoul"}}`, 20))
	d.Mark(queued(t, `{"email":"older@example.com"}`, 5)) // an older mark never lowers a leaf
	late := queued(t, `{"email":"old@example.com","full_name":"Kim","address":{"city":"Busan","line1":"1 Main"}}`, 10)
	if got := rebuilt(t, late.Since(d)); got != `{"full_name":"Kim","address":{"line1":"1 Main"}}` {
		t.Fatalf("Since = %s", got)
	}
	newer := queued(t, `{"email":"newest@example.com"}`, 30)
	if got := rebuilt(t, newer.Since(d)); got != `{"email":"newest@example.com"}` {
		t.Fatalf("a newer leaf was left out: %s", got)
	}
}
