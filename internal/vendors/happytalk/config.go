package happytalk

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// DefaultBaseURL is HappyTalk's production host; its staging host is
// https://patch-customer.happytalk.io.
const DefaultBaseURL = "https://customer.happytalk.io"

// DefaultTimezone is the zone HappyTalk accounts keep their dates in unless configured.
const DefaultTimezone = "Asia/Seoul"

// Config is what the adapter needs to reach one HappyTalk account.
type Config struct {
	// BaseURL is the HappyTalk host, e.g. https://customer.happytalk.io; a trailing slash is
	// tolerated and an empty one means DefaultBaseURL.
	BaseURL string
	// Token is the account token HappyTalk reads from the request body; empty means the
	// adapter is not configured.
	Token string
	// GenderFormat says how the account spells sex: 남/여 for GenderKorean, else M/F.
	GenderFormat GenderFormat
	// ParameterMap sends canonical attributes to parameter1..parameter10 or user_parameter.
	ParameterMap ParameterMap
	// Location is the account's zone for service history dates; nil means Asia/Seoul.
	Location *time.Location
}

// GenderFormat is how a HappyTalk account spells sex: its dictionary says M/F while its
// production sample sends 남, so which one an account wants is configuration.
type GenderFormat string

// The gender formats a HappyTalk account may want.
const (
	// GenderCode sends M and F (the format of HappyTalk's data dictionary).
	GenderCode GenderFormat = "code"
	// GenderKorean sends 남 and 여 (the format of HappyTalk's production sample).
	GenderKorean GenderFormat = "korean"
)

// ParseGenderFormat reads HAPPYTALK_GENDER_FORMAT: "code" (or empty) or "korean".
func ParseGenderFormat(s string) (GenderFormat, error) {
	switch f := GenderFormat(strings.ToLower(strings.TrimSpace(s))); f {
	case "", GenderCode:
		return GenderCode, nil
	case GenderKorean:
		return GenderKorean, nil
	}
	return "", fmt.Errorf("gender format %q: want %q (M/F) or %q (남/여)", s, GenderCode, GenderKorean)
}

// ParameterMap maps a canonical attribute name to the HappyTalk field that carries it:
// "parameter1".."parameter10" or "user_parameter".
type ParameterMap map[string]string

// userParameter is HappyTalk's free-form field; parameter1..10 are the numbered ones.
const userParameter = "user_parameter"

// Character limits HappyTalk keeps; it silently drops whatever is beyond them.
const (
	parameterLimit     = 20
	userParameterLimit = 200
)

// parameterSlots lists every HappyTalk parameter field; a slot is its index here.
var parameterSlots = []string{
	"parameter1", "parameter2", "parameter3", "parameter4", "parameter5",
	"parameter6", "parameter7", "parameter8", "parameter9", "parameter10",
	userParameter,
}

// slotOf returns the index of a HappyTalk parameter field, or -1 when it is not one.
func slotOf(target string) int { return slices.Index(parameterSlots, target) }

// slotLimit is the number of characters HappyTalk keeps in a slot.
func slotLimit(slot int) int {
	if parameterSlots[slot] == userParameter {
		return userParameterLimit
	}
	return parameterLimit
}

// ParseParameterMap reads HAPPYTALK_PARAMETER_MAP, comma-separated name:target entries such
// as "tier:parameter1,note:user_parameter". It refuses empty names, unknown targets, and a
// name or a target used twice, since either would make one attribute overwrite another.
func ParseParameterMap(s string) (ParameterMap, error) {
	m := ParameterMap{}
	if strings.TrimSpace(s) == "" {
		return m, nil
	}
	usedBy := map[string]string{}
	for _, entry := range strings.Split(s, ",") {
		name, target, err := parseParameterEntry(entry)
		if err != nil {
			return nil, err
		}
		if _, dup := m[name]; dup {
			return nil, fmt.Errorf("parameter map entry %q: attribute %q is mapped twice", entry, name)
		}
		if other, dup := usedBy[target]; dup {
			return nil, fmt.Errorf("parameter map entry %q: %s is already used by attribute %q", entry, target, other)
		}
		m[name] = target
		usedBy[target] = name
	}
	return m, nil
}

func parseParameterEntry(entry string) (name, target string, err error) {
	name, target, ok := strings.Cut(entry, ":")
	name, target = strings.TrimSpace(name), strings.TrimSpace(target)
	switch {
	case !ok:
		return "", "", fmt.Errorf("parameter map entry %q: want name:target, e.g. tier:parameter1", entry)
	case name == "":
		return "", "", fmt.Errorf("parameter map entry %q: the attribute name is empty", entry)
	case slotOf(target) < 0:
		return "", "", fmt.Errorf("parameter map entry %q: unknown target %q (want parameter1..parameter10 or user_parameter)", entry, target)
	}
	return name, target, nil
}

// slots turns the map into attribute name -> slot once, for Plan. A hand-made map with an
// unknown target loses that entry, and a target named twice goes to the name that sorts
// first, so that a bad map never makes Plan depend on map order.
func (m ParameterMap) slots() map[string]int {
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	slices.Sort(names)
	out := make(map[string]int, len(m))
	taken := make([]bool, len(parameterSlots))
	for _, name := range names {
		slot := slotOf(m[name])
		if name == "" || slot < 0 || taken[slot] {
			continue
		}
		taken[slot] = true
		out[name] = slot
	}
	return out
}
