package model

import (
	"fmt"
	"strings"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/nyaruka/phonenumbers"
)

// Phone is a parsed phone number in the forms the vendors want.
type Phone struct {
	// E164 is "+821012345678".
	E164 string
	// National is the national number as digits only, with its trunk prefix: "01012345678".
	National string
	// Region is the ISO 3166-1 region the number belongs to ("KR").
	Region string
}

// MSISDN is the E.164 number without its "+": "821012345678".
func (p Phone) MSISDN() string { return strings.TrimPrefix(p.E164, "+") }

// ParsePhone reads an E.164 number, or a national one in defaultRegion, and refuses
// anything that is not a valid number there.
func ParsePhone(raw, defaultRegion string) (Phone, error) {
	num, err := phonenumbers.Parse(raw, defaultRegion)
	if err != nil {
		return Phone{}, fmt.Errorf("not a phone number (E.164 like +821012345678, or national in %s): %w", defaultRegion, err)
	}
	// IsValidNumber is IsValidNumberForRegion in the number's region, which is wanted
	// anyway: looked up once.
	region := phonenumbers.GetRegionCodeForNumber(num)
	if !phonenumbers.IsValidNumberForRegion(num, region) {
		return Phone{}, fmt.Errorf("not a valid phone number (E.164 like +821012345678, or national in %s)", defaultRegion)
	}
	national := phonenumbers.Format(num, phonenumbers.NATIONAL)
	return Phone{
		E164:     phonenumbers.Format(num, phonenumbers.E164),
		National: digitsOnly(national),
		Region:   region,
	}, nil
}

// customerPhones remembers the numbers read lately, each for its customer: reading one
// costs 20-40 us, and a queued update's is read once when it is accepted and again for each
// vendor it goes to. Keyed by the customer as well as the number, so that it serves what
// repeats for one customer only: a load test that sends one body for many customers finds
// nothing read for it already. Only numbers that parse are kept; a number's reading
// depends on nothing but the number and the region, so what is kept never goes stale.
var customerPhones, _ = lru.New[phoneKey, Phone](4096) // an error only for a size below 1

type phoneKey struct{ customer, raw, region string }

// customerPhone is ParsePhone(raw, defaultRegion) for the customer's number, read once
// for repeats (customerPhones).
func customerPhone(customerID, raw, defaultRegion string) (Phone, error) {
	k := phoneKey{customerID, raw, defaultRegion}
	if p, ok := customerPhones.Get(k); ok {
		return p, nil
	}
	p, err := ParsePhone(raw, defaultRegion)
	if err == nil {
		customerPhones.Add(k, p)
	}
	return p, err
}

// KnownRegion reports whether region is one libphonenumber reads national numbers in.
func KnownRegion(region string) bool {
	return phonenumbers.GetCountryCodeForRegion(region) != 0
}

func digitsOnly(s string) string {
	var b strings.Builder // one allocation: String does not copy
	b.Grow(len(s))
	for i := range len(s) {
		if c := s[i]; c >= '0' && c <= '9' {
			b.WriteByte(c)
		}
	}
	return b.String()
}
