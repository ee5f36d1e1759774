package ladiflow

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/customergateway/gateway/internal/vendorsim"
	"github.com/customergateway/gateway/internal/vendorsim/internal/rawjson"
)

// LadiFlow answers its errors with the HTTP status repeated in the body's code:
// {"code":401,"message":"..."} for a bad Api-Key, {"code":400,"message":"..."} naming the
// field for a bad body, {"code":503,...} for vendorsim.ModeVendorError.

// The fixed ids the simulated LadiFlow store answers with, from the document's sample.
const (
	storeID = "5f9fa8a09b5c4d6ce6e3a77d"
	ownerID = "5ebd77abdbd90818b28f8fce"
)

// rule checks one field's raw JSON value and returns what is wrong, or "".
type rule func(raw json.RawMessage) string

// fieldRules lists the documented body fields. Every optional field may be null, as the
// document's own sample sends ("phone": null). Fields not listed are accepted and kept as
// external_data, as the document's sample answer shows.
var fieldRules = map[string]rule{
	"email": ruleString, "phone": ruleString, "first_name": ruleString, "last_name": ruleString,
	"full_name": ruleString, "country": ruleString, "city": ruleString, "district": ruleString,
	"ward": ruleString, "address": ruleString, "address_2": ruleString, "company": ruleString,
	"job_title": ruleString, "external_customer_id": ruleString, "facebook_url": ruleString,
	"twitter_url": ruleString, "linkedIn_url": ruleString, "zalo": ruleString, "skype": ruleString,
	"source": ruleString, "subcribed_at": ruleString,
	"gender":        ruleOneOf("male", "female"),
	"lang":          ruleOneOf("vi", "en", "other"),
	"dob":           ruleDate,
	"postal_code":   ruleNumber,
	"score":         ruleNumber,
	"tags":          ruleStringList,
	"channels":      ruleStringList,
	"custom_fields": ruleCustomFields,
	"website":       ruleWebsite,
}

func errorAnswer(status int, msg string) vendorsim.Answer {
	return vendorsim.Answer{Status: status, Body: map[string]any{"code": status, "message": msg}}
}

// customerUpdate serves customer/update.
func (s *Sim) customerUpdate(r *http.Request, body []byte) vendorsim.Answer {
	if key := r.Header.Get("Api-Key"); key == "" || key != s.cfg.APIKey {
		return errorAnswer(http.StatusUnauthorized, "Unauthorized: invalid or missing Api-Key")
	}
	m, ok := rawjson.Object(body)
	if !ok {
		return errorAnswer(http.StatusBadRequest, "the body is not a JSON object")
	}
	if msg := check(m); msg != "" {
		return errorAnswer(http.StatusBadRequest, msg)
	}
	c, created := s.store(m)
	return vendorsim.Answer{Status: http.StatusOK, Body: map[string]any{
		"data":    echo(c, created, s.cfg.Now()),
		"message": "Thành công",
		"code":    201,
	}}
}

// check returns what is wrong with the body, naming the field, or "".
func check(m map[string]json.RawMessage) string {
	id, ok := rawjson.String(m["_id"])
	if !ok || id == "" {
		return "_id is required and must be a non-empty string"
	}
	email, _ := rawjson.String(m["email"])
	phone, _ := rawjson.String(m["phone"])
	if email == "" && phone == "" {
		return "email or phone is required"
	}
	for _, k := range rawjson.SortedKeys(m) {
		rule, known := fieldRules[k]
		if !known || rawjson.Kind(m[k]) == "null" {
			continue
		}
		if msg := rule(m[k]); msg != "" {
			return k + " " + msg
		}
	}
	return ""
}

func ruleString(raw json.RawMessage) string {
	if _, ok := rawjson.String(raw); !ok {
		return "must be a string, not " + rawjson.Kind(raw)
	}
	return ""
}

func ruleOneOf(allowed ...string) rule {
	return func(raw json.RawMessage) string {
		v, _ := rawjson.String(raw)
		for _, a := range allowed {
			if v == a {
				return ""
			}
		}
		return "must be one of " + strings.Join(allowed, ", ")
	}
}

func ruleDate(raw json.RawMessage) string {
	if v, ok := rawjson.String(raw); !ok || !validDate(v) {
		return "must be a date yyyy-mm-dd"
	}
	return ""
}

var dateOnly = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)

// validDate reports whether v is an existing date written yyyy-mm-dd.
func validDate(v string) bool {
	if !dateOnly.MatchString(v) {
		return false
	}
	_, err := time.Parse(time.DateOnly, v)
	return err == nil
}

func ruleNumber(raw json.RawMessage) string {
	if rawjson.Kind(raw) != "number" {
		return "must be a number, not " + rawjson.Kind(raw)
	}
	return ""
}

func ruleStringList(raw json.RawMessage) string {
	var xs []json.RawMessage
	if rawjson.Kind(raw) != "array" || json.Unmarshal(raw, &xs) != nil {
		return "must be a list of strings"
	}
	for _, x := range xs {
		if _, ok := rawjson.String(x); !ok {
			return "must be a list of strings"
		}
	}
	return ""
}

// ruleWebsite accepts a string (the document's sample) or a list of strings (its table).
func ruleWebsite(raw json.RawMessage) string {
	if rawjson.Kind(raw) == "string" || ruleStringList(raw) == "" {
		return ""
	}
	return "must be a string or a list of strings"
}

func ruleCustomFields(raw json.RawMessage) string {
	const want = "must be a list of {name, value} objects"
	var xs []json.RawMessage
	if rawjson.Kind(raw) != "array" || json.Unmarshal(raw, &xs) != nil {
		return want
	}
	for _, x := range xs {
		f, ok := rawjson.Object(x)
		if !ok || len(f) != 2 {
			return want
		}
		if name, ok := rawjson.String(f["name"]); !ok || name == "" {
			return want + " with a non-empty string name"
		}
		switch rawjson.Kind(f["value"]) {
		case "string", "number", "bool":
		default:
			return want + " with a string, number or boolean value"
		}
	}
	return ""
}

// customer is what LadiFlow stored for one _id.
type customer struct {
	fields    map[string]any
	createdAt time.Time
}

// store merges the body into the customer stored under its _id and returns a copy of
// the result and whether the customer is new.
func (s *Sim) store(m map[string]json.RawMessage) (customer, bool) {
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
	stored, ok := s.customers[id]
	if !ok {
		stored = map[string]any{"__created_at": s.cfg.Now()}
		s.customers[id] = stored
	}
	maps.Copy(stored, decoded)
	c := customer{fields: maps.Clone(stored), createdAt: stored["__created_at"].(time.Time)}
	delete(c.fields, "__created_at")
	return c, !ok
}

// externalFields lists fields LadiFlow answers under external_data rather than at the top,
// as the document's sample answer does.
var externalFields = map[string]bool{"full_name": true, "lang": true, "subcribed_at": true}

// echo builds the data of the answer, shaped like the document's sample answer.
func echo(c customer, created bool, now time.Time) map[string]any {
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
	data := map[string]any{
		"channels": []string{"API"}, "tags": []string{}, "vouchers": []string{},
		"is_email_verified": false, "messenger_recurring_message_tokens": []string{},
		"messenger_recurring_topics": []string{}, "fb_page_ids": []string{}, "fb_uids": []string{},
		"zalo_oa_ids": []string{}, "zalo_uids": []string{}, "ladichat_uids": []string{},
		"ladichat_store_ids": []string{}, "is_merge": false, "is_delete": false,
		"custom_fields": []any{}, "last_name": "", "status": "SUBSCRIBER",
		"store_id": storeID, "owner_id": ownerID, "creator_id": ownerID,
		"avatar_color": "#0137D3", "fb_page_uids": []string{}, "zalo_oa_uids": []string{},
		"ladichat_store_uids": []string{}, "subscribed_at": ts(c.createdAt),
		"created_at": ts(c.createdAt), "updated_at": ts(now), "isNewSubscriber": created,
	}
	external := []map[string]any{}
	for _, k := range rawjson.SortedKeys(c.fields) {
		v := c.fields[k]
		if _, known := fieldRules[k]; (!known && k != "_id") || externalFields[k] {
			external = append(external, map[string]any{"name": k, "value": v})
			continue
		}
		data[k] = v
	}
	data["external_data"] = external
	echoDerived(data, c.fields)
	return data
}

// echoDerived adds the fields LadiFlow computes: name, key and the dob parts (its month
// is counted from 0, as in the document's sample).
func echoDerived(data, f map[string]any) {
	email, _ := f["email"].(string)
	if email != "" {
		data["key"] = email + "-" + storeID
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
