package ladiflow

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/customergateway/gateway/internal/lunar"
	"github.com/customergateway/gateway/internal/model"
)

// The warnings whose text the contract fixes (DESIGN.md 2.2).
const (
	warnLastName    = "last_name has no LadiFlow field; not sent (send full_name)"
	warnGenderOther = "gender 'other' has no LadiFlow form; not sent"
)

// customerBody is LadiFlow's customer update. Strings the caller may set to "" are
// pointers, so "" is sent (it clears the field) while an absent field stays absent (it
// leaves the field as it is); nil never becomes null, which LadiFlow would store.
type customerBody struct {
	Email              *string       `json:"email,omitempty"`
	ID                 string        `json:"_id"`
	FirstName          *string       `json:"first_name,omitempty"`
	FullName           *string       `json:"full_name,omitempty"`
	DOB                string        `json:"dob,omitempty"`
	Phone              *string       `json:"phone,omitempty"`
	Gender             string        `json:"gender,omitempty"`
	Tags               *[]string     `json:"tags,omitempty"`
	CustomFields       []customField `json:"custom_fields,omitempty"`
	Country            *string       `json:"country,omitempty"`
	City               *string       `json:"city,omitempty"`
	Address            *string       `json:"address,omitempty"`
	Address2           *string       `json:"address_2,omitempty"`
	District           *string       `json:"district,omitempty"`
	Company            *string       `json:"company,omitempty"`
	JobTitle           *string       `json:"job_title,omitempty"`
	Ward               *string       `json:"ward,omitempty"`
	Lang               string        `json:"lang,omitempty"`
	PostalCode         *int64        `json:"postal_code,omitempty"`
	ExternalCustomerID string        `json:"external_customer_id,omitempty"`
	Website            *string       `json:"website,omitempty"`
	FacebookURL        *string       `json:"facebook_url,omitempty"`
	TwitterURL         *string       `json:"twitter_url,omitempty"`
	LinkedInURL        *string       `json:"linkedIn_url,omitempty"`
	Score              *int64        `json:"score,omitempty"`
	Skype              *string       `json:"skype,omitempty"`
	Zalo               *string       `json:"zalo,omitempty"`
}

// customField is one entry of LadiFlow's custom_fields.
type customField struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// translation is the body built from an update, the warnings for what LadiFlow cannot
// hold, and how many LadiFlow fields the update set (_id and external_customer_id aside:
// they identify the customer and change nothing by themselves).
type translation struct {
	body     customerBody
	warnings []string
	fields   int
}

// translate maps u onto LadiFlow's fields. The warnings come in the order of the fields
// below, so the same update always gives the same answer.
func translate(u *model.Update) *translation {
	t := &translation{}
	f := &u.Fields
	t.names(f)
	t.str(&t.body.Email, f.Email)
	if u.Phone != nil {
		t.str(&t.body.Phone, &u.Phone.E164)
	}
	t.gender(f.Gender)
	t.birthday(u.Birthday)
	t.language(f.Language)
	t.address(f.Address)
	t.str(&t.body.Company, f.Company)
	t.str(&t.body.JobTitle, f.JobTitle)
	t.tags(&f.Tags)
	t.customFields(f.Attributes)
	t.social(f.Social)
	if f.LeadScore != nil {
		t.body.Score = f.LeadScore
		t.fields++
	}
	t.requireContact()
	return t
}

// requireContact keeps an empty email from standing in for the email or phone LadiFlow
// requires in every update: "" names nobody, and LadiFlow refuses it as missing. Without a
// phone the empty email is not sent and the update still counts its fields, so Plan
// refuses it (422, nothing sent anywhere) instead of LadiFlow after the others were sent.
// With a phone, "" is sent: it clears the email.
func (t *translation) requireContact() {
	if t.body.Email != nil && *t.body.Email == "" && t.body.Phone == nil {
		t.body.Email = nil
	}
}

// str sets *dst to src when the caller sent it. src points into the update, which
// outlives the marshalling, so nothing is copied.
func (t *translation) str(dst **string, src *string) {
	if src == nil {
		return
	}
	*dst = src
	t.fields++
}

func (t *translation) warn(w string) { t.warnings = append(t.warnings, w) }

func (t *translation) names(f *model.CustomerUpdate) {
	t.str(&t.body.FullName, f.FullName)
	t.str(&t.body.FirstName, f.FirstName)
	if f.LastName != nil {
		t.warn(warnLastName)
	}
}

func (t *translation) gender(g *model.Gender) {
	if g == nil {
		return
	}
	switch *g {
	case model.GenderMale, model.GenderFemale:
		t.body.Gender = string(*g)
		t.fields++
	default:
		t.warn(warnGenderOther)
	}
}

// birthday sends a solar date as it is and a lunar one as its solar date: LadiFlow has no
// calendar, so a lunar date sent as if solar would be a wrong birthday.
func (t *translation) birthday(b *model.Birthday) {
	if b == nil {
		return
	}
	if b.Calendar != model.CalendarLunar {
		t.body.DOB = b.Date.String()
		t.fields++
		return
	}
	leap := ""
	if b.LeapMonth {
		leap = " (leap month)"
	}
	solar, err := lunar.ToSolar(b.Date.Year, b.Date.Month, b.Date.Day, b.LeapMonth)
	if err != nil {
		// model.Prepare refuses dates the table shows do not exist, so this is the table's
		// edge (lunar.ErrOutOfRange): the date may exist, but its solar date is unknown.
		t.warn(fmt.Sprintf("lunar birthday %s%s not sent as dob: %s", b.Date, leap, lunarReason(err)))
		return
	}
	t.body.DOB = solar.Format(time.DateOnly)
	t.fields++
	t.warn(fmt.Sprintf("lunar birthday %s%s sent as its solar date %s", b.Date, leap, t.body.DOB))
}

func lunarReason(err error) string {
	if errors.Is(err, lunar.ErrOutOfRange) {
		return lunar.ErrOutOfRange.Error() + ", so its solar date is unknown"
	}
	return err.Error()
}

// language maps ISO 639-1 onto LadiFlow's three values.
func (t *translation) language(l *string) {
	if l == nil {
		return
	}
	switch {
	case strings.EqualFold(*l, "vi"):
		t.body.Lang = "vi"
	case strings.EqualFold(*l, "en"):
		t.body.Lang = "en"
	default:
		t.body.Lang = "other"
	}
	t.fields++
}

func (t *translation) address(a *model.Address) {
	if a == nil {
		return
	}
	t.str(&t.body.Address, a.Line1)
	t.str(&t.body.Address2, a.Line2)
	t.str(&t.body.Ward, a.Ward)
	t.str(&t.body.District, a.District)
	t.str(&t.body.City, a.City)
	t.postalCode(a.PostalCode)
	t.str(&t.body.Country, a.Country)
}

// postalCode sends the code as the number LadiFlow wants only when the number reads back
// as the same string: "06236" would lose its zero and "SW1A 1AA" is no number at all.
func (t *translation) postalCode(pc *string) {
	if pc == nil {
		return
	}
	n, ok := postalNumber(*pc)
	if !ok {
		t.warn(fmt.Sprintf("address.postal_code %q cannot be a LadiFlow number without changing it; not sent", *pc))
		return
	}
	t.body.PostalCode = &n
	t.fields++
}

func postalNumber(s string) (int64, bool) {
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// tags sends the caller's tag ids as given; an empty list is sent too, since the caller
// said the customer has no tags.
func (t *translation) tags(tags *[]string) {
	if *tags == nil {
		return
	}
	t.body.Tags = tags
	t.fields++
}

// customFields sorts by name so the same attributes always give the same body.
func (t *translation) customFields(attrs map[string]string) {
	if len(attrs) == 0 {
		return
	}
	cf := make([]customField, 0, len(attrs))
	for name, value := range attrs {
		cf = append(cf, customField{Name: name, Value: value})
	}
	slices.SortFunc(cf, func(a, b customField) int { return strings.Compare(a.Name, b.Name) })
	t.body.CustomFields = cf
	t.fields++
}

func (t *translation) social(s *model.Social) {
	if s == nil {
		return
	}
	t.str(&t.body.Website, s.Website)
	t.str(&t.body.FacebookURL, s.Facebook)
	t.str(&t.body.TwitterURL, s.Twitter)
	t.str(&t.body.LinkedInURL, s.LinkedIn)
	t.str(&t.body.Zalo, s.Zalo)
	t.str(&t.body.Skype, s.Skype)
}

// request marshals body into the call; the header is a clone of the template so a wrapper
// that adds a header (a request id) cannot change another request's.
func (a *Adapter) request(body *customerBody) (*model.Request, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("ladiflow: encode body: %w", err)
	}
	return &model.Request{Method: http.MethodPost, URL: a.url, Header: a.header.Clone(), Body: b}, nil
}
