package happytalk

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/customergateway/gateway/internal/vendorsim"
	"github.com/customergateway/gateway/internal/vendorsim/internal/rawjson"
)

// The HappyTalk limits past which the vendor silently cuts a stored value.
const (
	parameterMax     = 20
	userParameterMax = 200
)

// userInfoFields lists set_user_info's documented fields (token aside).
var userInfoFields = map[string]bool{
	"uuid": true, "room_id": true, "users_id": true, "username": true, "phone": true,
	"email": true, "sex": true, "birthday": true, "birth_type": true, "category_id": true,
	"division_id": true, "order_number": true, "product_number": true, "parcel_number": true,
	"parameter1": true, "parameter2": true, "parameter3": true, "parameter4": true,
	"parameter5": true, "parameter6": true, "parameter7": true, "parameter8": true,
	"parameter9": true, "parameter10": true, "user_parameter": true,
}

var (
	digitsOnly = regexp.MustCompile(`^[0-9]+$`)
	dateOnly   = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
)

// checkToken reads the body and checks its token, the first thing HappyTalk does.
func (s *Sim) checkToken(body []byte) (map[string]json.RawMessage, *vendorsim.Answer) {
	m, ok := rawjson.Object(body)
	if !ok {
		a := failure(CodeBadRequest, "the body is not a JSON object")
		return nil, &a
	}
	tok, ok := rawjson.String(m["token"])
	if !ok || tok == "" || tok != s.cfg.Token {
		a := failure(CodeInvalidToken, "invalid token")
		return nil, &a
	}
	return m, nil
}

// setUserInfo serves set_user_info: it checks every field, then stores the values
// as HappyTalk keeps them (parameters cut at their limits).
func (s *Sim) setUserInfo(_ *http.Request, body []byte) vendorsim.Answer {
	m, fail := s.checkToken(body)
	if fail != nil {
		return *fail
	}
	delete(m, "token")
	values, fail := s.readUserInfo(m)
	if fail != nil {
		return *fail
	}
	s.store(values)
	return success()
}

// readUserInfo checks set_user_info's fields and returns them as strings.
func (s *Sim) readUserInfo(m map[string]json.RawMessage) (map[string]string, *vendorsim.Answer) {
	for _, req := range []string{"uuid", "room_id"} {
		if _, ok := m[req]; !ok {
			a := failure(CodeMissingField, req+" is required")
			return nil, &a
		}
	}
	values := make(map[string]string, len(m))
	for _, k := range rawjson.SortedKeys(m) {
		if !userInfoFields[k] {
			a := failure(CodeUnknownField, "unknown field "+k)
			return nil, &a
		}
		v, ok := rawjson.String(m[k])
		if !ok {
			a := failure(CodeInvalidValue, k+" must be a string, not "+rawjson.Kind(m[k]))
			return nil, &a
		}
		if msg := s.checkValue(k, v, m); msg != "" {
			code := CodeInvalidValue
			if k == "uuid" || k == "room_id" {
				code = CodeMissingField
			}
			a := failure(code, msg)
			return nil, &a
		}
		values[k] = v
	}
	return values, nil
}

// checkValue returns why field k of the body m cannot hold v, or "" when it can.
func (s *Sim) checkValue(k, v string, m map[string]json.RawMessage) string {
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
		if !s.sexValid(v) {
			return fmt.Sprintf("sex must be %s for this account", s.sexForms())
		}
	case "birthday":
		if bt, _ := rawjson.String(m["birth_type"]); bt == "1" {
			if !validLunarDate(v) {
				return "birthday must be a lunar date YYYY-MM-DD (months 01-12, days 01-30) when birth_type is \"1\""
			}
			return ""
		}
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

func (s *Sim) sexValid(v string) bool {
	if s.cfg.GenderFormat == GenderKorean {
		return v == "남" || v == "여"
	}
	return v == "M" || v == "F"
}

func (s *Sim) sexForms() string {
	if s.cfg.GenderFormat == GenderKorean {
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

// validLunarDate reports whether v is written YYYY-MM-DD as a lunar date can be. The
// document gives birthday as YYYY-MM-DD and birth_type "1" as 음력 (lunar): the date is
// then one of the lunar calendar, whose months have 29 or 30 days in any month (lunar
// 02-30 exists; solar 02-30 does not), so a solar check would refuse real birthdays. The
// document names no table, so the simulator checks the form, not which months have 30.
func validLunarDate(v string) bool {
	if !dateOnly.MatchString(v) {
		return false
	}
	month, _ := strconv.Atoi(v[5:7])
	day, _ := strconv.Atoi(v[8:10])
	return month >= 1 && month <= 12 && day >= 1 && day <= 30
}

// store merges values into the stored user, cutting parameters as HappyTalk does.
func (s *Sim) store(values map[string]string) {
	for k, v := range values {
		switch {
		case k == "user_parameter":
			values[k] = cutRunes(v, userParameterMax)
		case strings.HasPrefix(k, "parameter"):
			values[k] = cutRunes(v, parameterMax)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[values["uuid"]]
	if u == nil {
		u = map[string]string{}
		s.users[values["uuid"]] = u
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
