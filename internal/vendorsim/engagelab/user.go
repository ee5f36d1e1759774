package engagelab

import (
	"crypto/subtle"
	"encoding/json"
	"maps"
	"net/http"
	"regexp"
	"strconv"
	"unicode/utf8"

	"github.com/customergateway/gateway/internal/vendorsim"
	"github.com/customergateway/gateway/internal/vendorsim/internal/rawjson"
)

// The EngageLab register limits.
const (
	maxIdentities  = 100
	maxIdentityLen = 256
)

var contactName = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)

var identityNames = map[string]bool{"user_id": true, "anonymous_id": true, "registration_id": true}

func errorAnswer(code int, msg string) vendorsim.Answer {
	return vendorsim.Answer{Status: http.StatusOK, Body: map[string]any{"code": code, "message": msg}}
}

// authorized checks the HTTP Basic credentials in constant time.
func (s *Sim) authorized(r *http.Request) bool {
	key, secret, ok := r.BasicAuth()
	keyOK := subtle.ConstantTimeCompare([]byte(key), []byte(s.cfg.APIKey)) == 1
	secretOK := subtle.ConstantTimeCompare([]byte(secret), []byte(s.cfg.APISecret)) == 1
	return ok && key != "" && keyOK && secretOK
}

// readBody checks the credentials, then reads the body as an object of the given fields.
func (s *Sim) readBody(r *http.Request, body []byte, fields ...string) (map[string]json.RawMessage, *vendorsim.Answer) {
	if !s.authorized(r) {
		a := errorAnswer(CodeAuthFailed, "interface authentication failed")
		return nil, &a
	}
	m, ok := rawjson.Object(body)
	if !ok {
		a := errorAnswer(CodeInvalidParams, "the body is not a JSON object")
		return nil, &a
	}
	allowed := map[string]bool{}
	for _, f := range fields {
		allowed[f] = true
	}
	for _, k := range rawjson.SortedKeys(m) {
		if !allowed[k] {
			a := errorAnswer(CodeInvalidParams, "unknown field "+k)
			return nil, &a
		}
	}
	return m, nil
}

// setContact serves /v1/user/contact.
func (s *Sim) setContact(r *http.Request, body []byte) vendorsim.Answer {
	m, fail := s.readBody(r, body, "euid", "contacts")
	if fail != nil {
		return *fail
	}
	euid, fail := readEUID(m["euid"])
	if fail != nil {
		return *fail
	}
	contacts, fail := readContacts(m["contacts"])
	if fail != nil {
		return *fail
	}
	s.mu.Lock()
	if s.contacts[euid] == nil {
		s.contacts[euid] = map[string]string{}
	}
	maps.Copy(s.contacts[euid], contacts)
	s.mu.Unlock()
	return errorAnswer(CodeOK, "success")
}

// readEUID reads euid, which must be a positive JSON integer (a 64-bit Long).
func readEUID(raw json.RawMessage) (int64, *vendorsim.Answer) {
	switch rawjson.Kind(raw) {
	case "missing", "null":
		a := errorAnswer(CodeEUIDEmpty, "euid is empty")
		return 0, &a
	case "number":
	default:
		a := errorAnswer(CodeInvalidParams, "euid must be an integer, not "+rawjson.Kind(raw))
		return 0, &a
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
		a := errorAnswer(CodeInvalidEUID, "euid is invalid")
		return 0, &a
	}
	switch {
	case err != nil:
		a := errorAnswer(CodeInvalidParams, "euid must be an integer")
		return 0, &a
	case n == 0:
		a := errorAnswer(CodeEUIDEmpty, "euid is empty")
		return 0, &a
	case n < 0:
		a := errorAnswer(CodeInvalidEUID, "euid is invalid")
		return 0, &a
	}
	return n, nil
}

// readContacts reads contacts, a non-empty object of non-empty strings.
func readContacts(raw json.RawMessage) (map[string]string, *vendorsim.Answer) {
	m, ok := rawjson.Object(raw)
	if !ok || len(m) == 0 {
		a := errorAnswer(CodeInvalidParams, "contacts must be a non-empty object")
		return nil, &a
	}
	out := make(map[string]string, len(m))
	for _, k := range rawjson.SortedKeys(m) {
		if !contactName.MatchString(k) {
			a := errorAnswer(CodeInvalidAttributeName, "invalid contact name "+strconv.Quote(k))
			return nil, &a
		}
		v, ok := rawjson.String(m[k])
		if !ok {
			a := errorAnswer(CodeInvalidParams, "contacts."+k+" must be a string, not "+rawjson.Kind(m[k]))
			return nil, &a
		}
		if v == "" {
			a := errorAnswer(CodeEmptyAttributeValue, "contacts."+k+" cannot be empty")
			return nil, &a
		}
		out[k] = v
	}
	return out, nil
}

// register serves /v1/user/register: the EUID of each identity value.
func (s *Sim) register(r *http.Request, body []byte) vendorsim.Answer {
	m, fail := s.readBody(r, body, "identity_name", "identity_values")
	if fail != nil {
		return *fail
	}
	name, ok := rawjson.String(m["identity_name"])
	if !ok || !identityNames[name] {
		return errorAnswer(CodeUnsupportedIdentity, "identity_name must be user_id, anonymous_id or registration_id")
	}
	values, fail := readIdentities(m["identity_values"])
	if fail != nil {
		return *fail
	}
	data := make([]map[string]any, len(values))
	for i, v := range values {
		data[i] = map[string]any{"identity_value": v, "euid": s.euid(name, v)}
	}
	return vendorsim.Answer{Status: http.StatusOK, Body: map[string]any{"code": CodeOK, "message": "success", "data": data}}
}

// readIdentities reads identity_values: 1 to 100 non-empty strings of 256 characters at most.
func readIdentities(raw json.RawMessage) ([]string, *vendorsim.Answer) {
	var xs []json.RawMessage
	if rawjson.Kind(raw) != "array" || json.Unmarshal(raw, &xs) != nil || len(xs) == 0 {
		a := errorAnswer(CodeInvalidParams, "identity_values must be a non-empty list of strings")
		return nil, &a
	}
	if len(xs) > maxIdentities {
		a := errorAnswer(CodeTooManyIdentities, "more than 100 identity_values")
		return nil, &a
	}
	out := make([]string, len(xs))
	for i, x := range xs {
		v, ok := rawjson.String(x)
		switch {
		case !ok:
			a := errorAnswer(CodeInvalidParams, "identity_values must be strings, not "+rawjson.Kind(x))
			return nil, &a
		case v == "":
			a := errorAnswer(CodeEmptyIdentity, "identity_values["+strconv.Itoa(i)+"] is empty")
			return nil, &a
		case utf8.RuneCountInString(v) > maxIdentityLen:
			a := errorAnswer(CodeIdentityTooLong, "identity_values["+strconv.Itoa(i)+"] is longer than 256 characters")
			return nil, &a
		}
		out[i] = v
	}
	return out, nil
}

// euid returns the EUID of an identity, handing out the next one the first time.
func (s *Sim) euid(name, value string) int64 {
	key := name + "\x00" + value
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.euids[key]; ok {
		return id
	}
	id := s.next
	s.next++
	s.euids[key] = id
	return id
}
