package vendorsim

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// The HappyTalk paths.
const (
	pathHTSetUserInfo    = "/user/api/set_user_info/format/json"
	pathHTServiceHistory = "/user/api/service_history/format/json"
)

// HappyTalk's documents list no fail codes, so the simulator defines these. Every fail is
// answered HTTP 200 with {"result":"fail","code":N,"message":"..."}; the message names the
// field at fault and never echoes the token.
const (
	// HappyTalkCodeBadRequest: the body is not a JSON object.
	HappyTalkCodeBadRequest = 1000
	// HappyTalkCodeInvalidToken: token missing, not a string, or not the account's token.
	HappyTalkCodeInvalidToken = 1001
	// HappyTalkCodeMissingField: a required field (uuid, room_id, start_date, end_date) is
	// missing or empty.
	HappyTalkCodeMissingField = 1002
	// HappyTalkCodeInvalidValue: a value is not a JSON string or breaks its format (phone,
	// sex, birthday, birth_type, start_date, end_date); also ModeReject's answer.
	HappyTalkCodeInvalidValue = 1003
	// HappyTalkCodeUnknownField: set_user_info got a field the document does not list
	// (the real vendor would ignore it silently; the simulator catches the mistake).
	HappyTalkCodeUnknownField = 1004
	// HappyTalkCodeInvalidPeriod: service_history's start_date is after end_date, or the
	// two are not on the same calendar day (the document allows one day at most).
	HappyTalkCodeInvalidPeriod = 1005
)

// The HappyTalk limits past which the vendor silently cuts a stored value.
const (
	happyTalkParameterMax     = 20
	happyTalkUserParameterMax = 200
)

// happyTalkFields lists set_user_info's documented fields (token aside).
var happyTalkFields = map[string]bool{
	"uuid": true, "room_id": true, "users_id": true, "username": true, "phone": true,
	"email": true, "sex": true, "birthday": true, "birth_type": true, "category_id": true,
	"division_id": true, "order_number": true, "product_number": true, "parcel_number": true,
	"parameter1": true, "parameter2": true, "parameter3": true, "parameter4": true,
	"parameter5": true, "parameter6": true, "parameter7": true, "parameter8": true,
	"parameter9": true, "parameter10": true, "user_parameter": true,
}

var (
	digitsOnly   = regexp.MustCompile(`^[0-9]+$`)
	dateOnly     = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
	dateTimeExpr = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$`)
)

// htDateTime is the layout of service_history's dates (Y-m-d H:i:s, 24-hour clock).
const htDateTime = "2006-01-02 15:04:05"

func htFail(code int, msg string) answer {
	return answer{http.StatusOK, map[string]any{"result": "fail", "code": code, "message": msg}}
}

func htSuccess() answer { return answer{http.StatusOK, map[string]any{"result": "success"}} }

// htCheckToken reads the body and checks its token, the first thing HappyTalk does.
func (s *Sim) htCheckToken(body []byte) (map[string]json.RawMessage, *answer) {
	m, ok := decodeObject(body)
	if !ok {
		a := htFail(HappyTalkCodeBadRequest, "the body is not a JSON object")
		return nil, &a
	}
	tok, ok := rawString(m["token"])
	if !ok || tok == "" || tok != s.cfg.HappyTalkToken {
		a := htFail(HappyTalkCodeInvalidToken, "invalid token")
		return nil, &a
	}
	return m, nil
}

// happyTalkSetUserInfo serves set_user_info: it checks every field, then stores the values
// as HappyTalk keeps them (parameters cut at their limits).
func (s *Sim) happyTalkSetUserInfo(_ *http.Request, body []byte) answer {
	m, fail := s.htCheckToken(body)
	if fail != nil {
		return *fail
	}
	delete(m, "token")
	values, fail := s.htReadUserInfo(m)
	if fail != nil {
		return *fail
	}
	s.htStore(values)
	return htSuccess()
}

// htReadUserInfo checks set_user_info's fields and returns them as strings.
func (s *Sim) htReadUserInfo(m map[string]json.RawMessage) (map[string]string, *answer) {
	for _, req := range []string{"uuid", "room_id"} {
		if _, ok := m[req]; !ok {
			a := htFail(HappyTalkCodeMissingField, req+" is required")
			return nil, &a
		}
	}
	values := make(map[string]string, len(m))
	for _, k := range sortedKeys(m) {
		if !happyTalkFields[k] {
			a := htFail(HappyTalkCodeUnknownField, "unknown field "+k)
			return nil, &a
		}
		v, ok := rawString(m[k])
		if !ok {
			a := htFail(HappyTalkCodeInvalidValue, k+" must be a string, not "+jsonKind(m[k]))
			return nil, &a
		}
		if msg := s.htCheckValue(k, v); msg != "" {
			code := HappyTalkCodeInvalidValue
			if k == "uuid" || k == "room_id" {
				code = HappyTalkCodeMissingField
			}
			a := htFail(code, msg)
			return nil, &a
		}
		values[k] = v
	}
	return values, nil
}

// htCheckValue returns why field k cannot hold v, or "" when it can.
func (s *Sim) htCheckValue(k, v string) string {
	switch k {
	case "uuid", "room_id":
		if v == "" {
			return k + " is required"
		}
	case "phone":
		if !digitsOnly.MatchString(v) {
			return "phone must be digits only, without '-' or '+' (e.g. 01012345678)"
		}
	case "sex":
		if !s.htSexValid(v) {
			return fmt.Sprintf("sex must be %s for this account", s.htSexForms())
		}
	case "birthday":
		if !validDate(v) {
			return "birthday must be a date YYYY-MM-DD"
		}
	case "birth_type":
		if v != "0" && v != "1" {
			return `birth_type must be "0" (solar) or "1" (lunar)`
		}
	}
	return ""
}

func (s *Sim) htSexValid(v string) bool {
	if s.cfg.HappyTalkGenderFormat == GenderKorean {
		return v == "남" || v == "여"
	}
	return v == "M" || v == "F"
}

func (s *Sim) htSexForms() string {
	if s.cfg.HappyTalkGenderFormat == GenderKorean {
		return "남 or 여"
	}
	return "M or F"
}

// validDate reports whether v is an existing date written YYYY-MM-DD.
func validDate(v string) bool {
	if !dateOnly.MatchString(v) {
		return false
	}
	_, err := time.Parse(time.DateOnly, v)
	return err == nil
}

// htStore merges values into the stored user, cutting parameters as HappyTalk does.
func (s *Sim) htStore(values map[string]string) {
	for k, v := range values {
		switch {
		case k == "user_parameter":
			values[k] = cutRunes(v, happyTalkUserParameterMax)
		case strings.HasPrefix(k, "parameter"):
			values[k] = cutRunes(v, happyTalkParameterMax)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.htUsers[values["uuid"]]
	if u == nil {
		u = map[string]string{}
		s.htUsers[values["uuid"]] = u
	}
	maps.Copy(u, values)
}

// cutRunes keeps the first n characters of v.
func cutRunes(v string, n int) string {
	if utf8.RuneCountInString(v) <= n {
		return v
	}
	return string([]rune(v)[:n])
}

// HappyTalkUser returns a copy of what HappyTalk stored for uuid (every field ever set,
// parameters as cut by the vendor, no token), and whether it knows the uuid.
func (s *Sim) HappyTalkUser(uuid string) (map[string]string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.htUsers[uuid]
	if !ok {
		return nil, false
	}
	return maps.Clone(u), true
}

// happyTalkServiceHistory serves service_history for one day at most.
func (s *Sim) happyTalkServiceHistory(_ *http.Request, body []byte) answer {
	m, fail := s.htCheckToken(body)
	if fail != nil {
		return *fail
	}
	start, fail := s.htReadDateTime(m, "start_date")
	if fail != nil {
		return *fail
	}
	end, fail := s.htReadDateTime(m, "end_date")
	if fail != nil {
		return *fail
	}
	if start > end {
		return htFail(HappyTalkCodeInvalidPeriod, "start_date is after end_date")
	}
	if start[:10] != end[:10] {
		return htFail(HappyTalkCodeInvalidPeriod, "the period is one day at most: start_date and end_date must be on the same day")
	}
	day, _ := time.ParseInLocation(time.DateOnly, start[:10], s.cfg.HappyTalkTimezone)
	return answer{http.StatusOK, map[string]any{"result": "success", "data": s.eventsBetween(day, start, end)}}
}

// htReadDateTime reads a Y-m-d H:i:s date that exists in the account's zone. Dates of this
// exact form order as strings, so callers compare them as strings.
func (s *Sim) htReadDateTime(m map[string]json.RawMessage, k string) (string, *answer) {
	raw, ok := m[k]
	if !ok {
		a := htFail(HappyTalkCodeMissingField, k+" is required")
		return "", &a
	}
	v, ok := rawString(raw)
	if !ok || !dateTimeExpr.MatchString(v) {
		a := htFail(HappyTalkCodeInvalidValue, k+" must be a string YYYY-MM-DD HH:MM:SS (24-hour clock)")
		return "", &a
	}
	t, err := time.ParseInLocation(htDateTime, v, s.cfg.HappyTalkTimezone)
	// A time skipped by a daylight-saving change parses, but formats back differently.
	if err != nil || t.Format(htDateTime) != v {
		a := htFail(HappyTalkCodeInvalidValue, k+" is not an existing time in "+s.cfg.HappyTalkTimezone.String())
		return "", &a
	}
	return v, nil
}
