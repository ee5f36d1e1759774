package vendorsim

import (
	"crypto/subtle"
	"encoding/json"
	"maps"
	"net/http"
	"regexp"
	"strconv"
	"unicode/utf8"
)

// The EngageLab paths.
const (
	pathELContact  = "/v1/user/contact"
	pathELRegister = "/v1/user/register"
)

// EngageLab's error codes, from its document. The simulator answers every one of them with
// HTTP 200 and {"code":N,"message":"..."}: only the body's code tells success from failure.
const (
	// EngageLabCodeOK is success.
	EngageLabCodeOK = 0
	// EngageLabCodeServerError is the retryable internal error (ModeVendorError).
	EngageLabCodeServerError = -1
	// EngageLabCodeAuthFailed: missing or wrong HTTP Basic credentials.
	EngageLabCodeAuthFailed = 40050
	// EngageLabCodeEUIDEmpty: euid missing, null or 0.
	EngageLabCodeEUIDEmpty = 40007
	// EngageLabCodeInvalidParams: a body that is not a JSON object, an unknown field, a
	// euid that is not a JSON integer, contacts that are not a non-empty object of strings,
	// identity_values that are not a non-empty list of strings; also ModeReject's answer.
	EngageLabCodeInvalidParams = 55004
	// EngageLabCodeTooManyIdentities: more than 100 identity values.
	EngageLabCodeTooManyIdentities = 55101
	// EngageLabCodeInvalidAttributeName: a contact name that is empty, longer than 64
	// characters or not made of A-Z, a-z, 0-9 and _.
	EngageLabCodeInvalidAttributeName = 55102
	// EngageLabCodeEmptyAttributeValue: a contact value that is an empty string.
	EngageLabCodeEmptyAttributeValue = 55103
	// EngageLabCodeIdentityTooLong: an identity value longer than 256 characters.
	EngageLabCodeIdentityTooLong = 55105
	// EngageLabCodeUnsupportedIdentity: identity_name not user_id, anonymous_id or
	// registration_id.
	EngageLabCodeUnsupportedIdentity = 55106
	// EngageLabCodeEmptyIdentity: an identity value that is an empty string.
	EngageLabCodeEmptyIdentity = 55107
	// EngageLabCodeInvalidEUID: a negative euid, or one beyond 64 bits.
	EngageLabCodeInvalidEUID = 55108
)

// The EngageLab register limits.
const (
	engageLabMaxIdentities  = 100
	engageLabMaxIdentityLen = 256
)

var contactName = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)

var identityNames = map[string]bool{"user_id": true, "anonymous_id": true, "registration_id": true}

func elError(code int, msg string) answer {
	return answer{http.StatusOK, map[string]any{"code": code, "message": msg}}
}

// elAuth checks the HTTP Basic credentials in constant time.
func (s *Sim) elAuth(r *http.Request) bool {
	key, secret, ok := r.BasicAuth()
	keyOK := subtle.ConstantTimeCompare([]byte(key), []byte(s.cfg.EngageLabAPIKey)) == 1
	secretOK := subtle.ConstantTimeCompare([]byte(secret), []byte(s.cfg.EngageLabAPISecret)) == 1
	return ok && key != "" && keyOK && secretOK
}

// elBody checks the credentials, then reads the body as an object of the given fields.
func (s *Sim) elBody(r *http.Request, body []byte, fields ...string) (map[string]json.RawMessage, *answer) {
	if !s.elAuth(r) {
		a := elError(EngageLabCodeAuthFailed, "interface authentication failed")
		return nil, &a
	}
	m, ok := decodeObject(body)
	if !ok {
		a := elError(EngageLabCodeInvalidParams, "the body is not a JSON object")
		return nil, &a
	}
	allowed := map[string]bool{}
	for _, f := range fields {
		allowed[f] = true
	}
	for _, k := range sortedKeys(m) {
		if !allowed[k] {
			a := elError(EngageLabCodeInvalidParams, "unknown field "+k)
			return nil, &a
		}
	}
	return m, nil
}

// engageLabContact serves /v1/user/contact.
func (s *Sim) engageLabContact(r *http.Request, body []byte) answer {
	m, fail := s.elBody(r, body, "euid", "contacts")
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
	if s.elContact[euid] == nil {
		s.elContact[euid] = map[string]string{}
	}
	maps.Copy(s.elContact[euid], contacts)
	s.mu.Unlock()
	return elError(EngageLabCodeOK, "success")
}

// readEUID reads euid, which must be a positive JSON integer (a 64-bit Long).
func readEUID(raw json.RawMessage) (int64, *answer) {
	switch jsonKind(raw) {
	case "missing", "null":
		a := elError(EngageLabCodeEUIDEmpty, "euid is empty")
		return 0, &a
	case "number":
	default:
		a := elError(EngageLabCodeInvalidParams, "euid must be an integer, not "+jsonKind(raw))
		return 0, &a
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
		a := elError(EngageLabCodeInvalidEUID, "euid is invalid")
		return 0, &a
	}
	switch {
	case err != nil:
		a := elError(EngageLabCodeInvalidParams, "euid must be an integer")
		return 0, &a
	case n == 0:
		a := elError(EngageLabCodeEUIDEmpty, "euid is empty")
		return 0, &a
	case n < 0:
		a := elError(EngageLabCodeInvalidEUID, "euid is invalid")
		return 0, &a
	}
	return n, nil
}

// readContacts reads contacts, a non-empty object of non-empty strings.
func readContacts(raw json.RawMessage) (map[string]string, *answer) {
	m, ok := decodeObject(raw)
	if !ok || len(m) == 0 {
		a := elError(EngageLabCodeInvalidParams, "contacts must be a non-empty object")
		return nil, &a
	}
	out := make(map[string]string, len(m))
	for _, k := range sortedKeys(m) {
		if !contactName.MatchString(k) {
			a := elError(EngageLabCodeInvalidAttributeName, "invalid contact name "+strconv.Quote(k))
			return nil, &a
		}
		v, ok := rawString(m[k])
		if !ok {
			a := elError(EngageLabCodeInvalidParams, "contacts."+k+" must be a string, not "+jsonKind(m[k]))
			return nil, &a
		}
		if v == "" {
			a := elError(EngageLabCodeEmptyAttributeValue, "contacts."+k+" cannot be empty")
			return nil, &a
		}
		out[k] = v
	}
	return out, nil
}

// EngageLabContacts returns a copy of the contacts EngageLab stored for euid, and whether
// any were stored.
func (s *Sim) EngageLabContacts(euid int64) (map[string]string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.elContact[euid]
	return maps.Clone(c), ok
}

// engageLabRegister serves /v1/user/register: the EUID of each identity value.
func (s *Sim) engageLabRegister(r *http.Request, body []byte) answer {
	m, fail := s.elBody(r, body, "identity_name", "identity_values")
	if fail != nil {
		return *fail
	}
	name, ok := rawString(m["identity_name"])
	if !ok || !identityNames[name] {
		return elError(EngageLabCodeUnsupportedIdentity, "identity_name must be user_id, anonymous_id or registration_id")
	}
	values, fail := readIdentities(m["identity_values"])
	if fail != nil {
		return *fail
	}
	data := make([]map[string]any, len(values))
	for i, v := range values {
		data[i] = map[string]any{"identity_value": v, "euid": s.euid(name, v)}
	}
	return answer{http.StatusOK, map[string]any{"code": EngageLabCodeOK, "message": "success", "data": data}}
}

// readIdentities reads identity_values: 1 to 100 non-empty strings of 256 characters at most.
func readIdentities(raw json.RawMessage) ([]string, *answer) {
	var xs []json.RawMessage
	if jsonKind(raw) != "array" || json.Unmarshal(raw, &xs) != nil || len(xs) == 0 {
		a := elError(EngageLabCodeInvalidParams, "identity_values must be a non-empty list of strings")
		return nil, &a
	}
	if len(xs) > engageLabMaxIdentities {
		a := elError(EngageLabCodeTooManyIdentities, "more than 100 identity_values")
		return nil, &a
	}
	out := make([]string, len(xs))
	for i, x := range xs {
		v, ok := rawString(x)
		switch {
		case !ok:
			a := elError(EngageLabCodeInvalidParams, "identity_values must be strings, not "+jsonKind(x))
			return nil, &a
		case v == "":
			a := elError(EngageLabCodeEmptyIdentity, "identity_values["+strconv.Itoa(i)+"] is empty")
			return nil, &a
		case utf8.RuneCountInString(v) > engageLabMaxIdentityLen:
			a := elError(EngageLabCodeIdentityTooLong, "identity_values["+strconv.Itoa(i)+"] is longer than 256 characters")
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
	if id, ok := s.elEUIDs[key]; ok {
		return id
	}
	id := s.elNext
	s.elNext++
	s.elEUIDs[key] = id
	return id
}

// EngageLabEUID returns the EUID register gave an identity, and whether it gave one.
func (s *Sim) EngageLabEUID(identityName, value string) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.elEUIDs[identityName+"\x00"+value]
	return id, ok
}
