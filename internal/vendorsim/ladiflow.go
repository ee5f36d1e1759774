package vendorsim

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"strings"
	"time"
)

// pathLFCustomerUpdate is LadiFlow's customer update path.
const pathLFCustomerUpdate = "/1.0/customer/update"

// LadiFlow answers its errors with the HTTP status repeated in the body's code:
// {"code":401,"message":"..."} for a bad Api-Key, {"code":400,"message":"..."} naming the
// field for a bad body, {"code":503,...} for ModeVendorError.

// The fixed ids the simulated LadiFlow store answers with, from the document's sample.
const (
	lfStoreID = "5f9fa8a09b5c4d6ce6e3a77d"
	lfOwnerID = "5ebd77abdbd90818b28f8fce"
)

// lfRule checks one field's raw JSON value and returns what is wrong, or "".
type lfRule func(raw json.RawMessage) string

// ladiFlowRules lists the documented body fields. Every optional field may be null, as the
// document's own sample sends ("phone": null). Fields not listed are accepted and kept as
// external_data, as the document's sample answer shows.
var ladiFlowRules = map[string]lfRule{
	"email": lfString, "phone": lfString, "first_name": lfString, "last_name": lfString,
	"full_name": lfString, "country": lfString, "city": lfString, "district": lfString,
	"ward": lfString, "address": lfString, "address_2": lfString, "company": lfString,
	"job_title": lfString, "external_customer_id": lfString, "facebook_url": lfString,
	"twitter_url": lfString, "linkedIn_url": lfString, "zalo": lfString, "skype": lfString,
	"source": lfString, "subcribed_at": lfString,
	"gender":        lfOneOf("male", "female"),
	"lang":          lfOneOf("vi", "en", "other"),
	"dob":           lfDate,
	"postal_code":   lfNumber,
	"score":         lfNumber,
	"tags":          lfStringList,
	"channels":      lfStringList,
	"custom_fields": lfCustomFields,
	"website":       lfWebsite,
}

func lfError(status int, msg string) answer {
	return answer{status, map[string]any{"code": status, "message": msg}}
}

// ladiFlowUpdate serves customer/update.
func (s *Sim) ladiFlowUpdate(r *http.Request, body []byte) answer {
	if key := r.Header.Get("Api-Key"); key == "" || key != s.cfg.LadiFlowAPIKey {
		return lfError(http.StatusUnauthorized, "Unauthorized: invalid or missing Api-Key")
	}
	m, ok := decodeObject(body)
	if !ok {
		return lfError(http.StatusBadRequest, "the body is not a JSON object")
	}
	if msg := lfCheck(m); msg != "" {
		return lfError(http.StatusBadRequest, msg)
	}
	customer, created := s.lfStore(m)
	return answer{http.StatusOK, map[string]any{
		"data":    lfEcho(customer, created, s.cfg.Now()),
		"message": "Thành công",
		"code":    201,
	}}
}

// lfCheck returns what is wrong with the body, naming the field, or "".
func lfCheck(m map[string]json.RawMessage) string {
	id, ok := rawString(m["_id"])
	if !ok || id == "" {
		return "_id is required and must be a non-empty string"
	}
	email, _ := rawString(m["email"])
	phone, _ := rawString(m["phone"])
	if email == "" && phone == "" {
		return "email or phone is required"
	}
	for _, k := range sortedKeys(m) {
		rule, known := ladiFlowRules[k]
		if !known || jsonKind(m[k]) == "null" {
			continue
		}
		if msg := rule(m[k]); msg != "" {
			return k + " " + msg
		}
	}
	return ""
}

func lfString(raw json.RawMessage) string {
	if _, ok := rawString(raw); !ok {
		return "must be a string, not " + jsonKind(raw)
	}
	return ""
}

func lfOneOf(allowed ...string) lfRule {
	return func(raw json.RawMessage) string {
		v, _ := rawString(raw)
		for _, a := range allowed {
			if v == a {
				return ""
			}
		}
		return "must be one of " + strings.Join(allowed, ", ")
	}
}

func lfDate(raw json.RawMessage) string {
	if v, ok := rawString(raw); !ok || !validDate(v) {
		return "must be a date yyyy-mm-dd"
	}
	return ""
}

func lfNumber(raw json.RawMessage) string {
	if jsonKind(raw) != "number" {
		return "must be a number, not " + jsonKind(raw)
	}
	return ""
}

func lfStringList(raw json.RawMessage) string {
	var xs []json.RawMessage
	if jsonKind(raw) != "array" || json.Unmarshal(raw, &xs) != nil {
		return "must be a list of strings"
	}
	for _, x := range xs {
		if _, ok := rawString(x); !ok {
			return "must be a list of strings"
		}
	}
	return ""
}

// lfWebsite accepts a string (the document's sample) or a list of strings (its table).
func lfWebsite(raw json.RawMessage) string {
	if jsonKind(raw) == "string" || lfStringList(raw) == "" {
		return ""
	}
	return "must be a string or a list of strings"
}

func lfCustomFields(raw json.RawMessage) string {
	const want = "must be a list of {name, value} objects"
	var xs []json.RawMessage
	if jsonKind(raw) != "array" || json.Unmarshal(raw, &xs) != nil {
		return want
	}
	for _, x := range xs {
		f, ok := decodeObject(x)
		if !ok || len(f) != 2 {
			return want
		}
		if name, ok := rawString(f["name"]); !ok || name == "" {
			return want + " with a non-empty string name"
		}
		switch jsonKind(f["value"]) {
		case "string", "number", "bool":
		default:
			return want + " with a string, number or boolean value"
		}
	}
	return ""
}

// lfCustomer is what LadiFlow stored for one _id.
type lfCustomer struct {
	fields    map[string]any
	createdAt time.Time
}

// lfStore merges the body into the customer stored under its _id and returns a copy of
// the result and whether the customer is new.
func (s *Sim) lfStore(m map[string]json.RawMessage) (lfCustomer, bool) {
	decoded := make(map[string]any, len(m))
	for k, raw := range m {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		_ = dec.Decode(&v)
		decoded[k] = v
	}
	id := decoded["_id"].(string)
	s.mu.Lock()
	defer s.mu.Unlock()
	stored, ok := s.lfUsers[id]
	if !ok {
		stored = map[string]any{"__created_at": s.cfg.Now()}
		s.lfUsers[id] = stored
	}
	maps.Copy(stored, decoded)
	c := lfCustomer{fields: maps.Clone(stored), createdAt: stored["__created_at"].(time.Time)}
	delete(c.fields, "__created_at")
	return c, !ok
}

// LadiFlowCustomer returns a copy of what LadiFlow stored under _id (the fields as sent,
// numbers as json.Number, later updates merged over earlier ones), and whether it knows it.
func (s *Sim) LadiFlowCustomer(id string) (map[string]any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	stored, ok := s.lfUsers[id]
	if !ok {
		return nil, false
	}
	out := maps.Clone(stored)
	delete(out, "__created_at")
	return out, true
}

// lfExternal lists fields LadiFlow answers under external_data rather than at the top,
// as the document's sample answer does.
var lfExternal = map[string]bool{"full_name": true, "lang": true, "subcribed_at": true}

// lfEcho builds the data of the answer, shaped like the document's sample answer.
func lfEcho(c lfCustomer, created bool, now time.Time) map[string]any {
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
	data := map[string]any{
		"channels": []string{"API"}, "tags": []string{}, "vouchers": []string{},
		"is_email_verified": false, "messenger_recurring_message_tokens": []string{},
		"messenger_recurring_topics": []string{}, "fb_page_ids": []string{}, "fb_uids": []string{},
		"zalo_oa_ids": []string{}, "zalo_uids": []string{}, "ladichat_uids": []string{},
		"ladichat_store_ids": []string{}, "is_merge": false, "is_delete": false,
		"custom_fields": []any{}, "last_name": "", "status": "SUBSCRIBER",
		"store_id": lfStoreID, "owner_id": lfOwnerID, "creator_id": lfOwnerID,
		"avatar_color": "#0137D3", "fb_page_uids": []string{}, "zalo_oa_uids": []string{},
		"ladichat_store_uids": []string{}, "subscribed_at": ts(c.createdAt),
		"created_at": ts(c.createdAt), "updated_at": ts(now), "isNewSubscriber": created,
	}
	external := []map[string]any{}
	for _, k := range sortedKeys(c.fields) {
		v := c.fields[k]
		if _, known := ladiFlowRules[k]; (!known && k != "_id") || lfExternal[k] {
			external = append(external, map[string]any{"name": k, "value": v})
			continue
		}
		data[k] = v
	}
	data["external_data"] = external
	lfEchoDerived(data, c.fields)
	return data
}

// lfEchoDerived adds the fields LadiFlow computes: name, key and the dob parts (its month
// is counted from 0, as in the document's sample).
func lfEchoDerived(data, f map[string]any) {
	email, _ := f["email"].(string)
	if email != "" {
		data["key"] = email + "-" + lfStoreID
	}
	if name, _ := f["full_name"].(string); name != "" {
		data["name"] = name
	} else if name, _ := f["first_name"].(string); name != "" {
		data["name"] = name
	}
	dob, _ := f["dob"].(string)
	t, err := time.Parse(time.DateOnly, dob)
	if err != nil {
		return
	}
	data["dob"] = t.Format("2006-01-02T15:04:05.000Z")
	data["dob_year"] = t.Year()
	data["dob_month"] = int(t.Month()) - 1
	data["dob_day"] = t.Day()
	data["dob_month_day"] = twoDigits(int(t.Month())-1) + twoDigits(t.Day())
}

func twoDigits(n int) string {
	return string([]byte{byte('0' + n/10), byte('0' + n%10)})
}
