package happytalk

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/customergateway/gateway/internal/model"
)

// setUserInfoBody is HappyTalk's set_user_info body, in its document's order. Optional
// fields are pointers so that a value the caller gave as "" is still sent (absent and empty
// differ in the canonical contract), while a field the caller left out stays out.
type setUserInfoBody struct {
	Token         string  `json:"token"`
	UUID          string  `json:"uuid"`
	RoomID        string  `json:"room_id"`
	UsersID       string  `json:"users_id,omitempty"`
	Username      *string `json:"username,omitempty"`
	Phone         *string `json:"phone,omitempty"`
	Email         *string `json:"email,omitempty"`
	Sex           *string `json:"sex,omitempty"`
	Birthday      string  `json:"birthday,omitempty"`
	BirthType     *string `json:"birth_type,omitempty"`
	CategoryID    *string `json:"category_id,omitempty"`
	DivisionID    *string `json:"division_id,omitempty"`
	OrderNumber   *string `json:"order_number,omitempty"`
	ProductNumber *string `json:"product_number,omitempty"`
	ParcelNumber  *string `json:"parcel_number,omitempty"`
	Parameter1    *string `json:"parameter1,omitempty"`
	Parameter2    *string `json:"parameter2,omitempty"`
	Parameter3    *string `json:"parameter3,omitempty"`
	Parameter4    *string `json:"parameter4,omitempty"`
	Parameter5    *string `json:"parameter5,omitempty"`
	Parameter6    *string `json:"parameter6,omitempty"`
	Parameter7    *string `json:"parameter7,omitempty"`
	Parameter8    *string `json:"parameter8,omitempty"`
	Parameter9    *string `json:"parameter9,omitempty"`
	Parameter10   *string `json:"parameter10,omitempty"`
	UserParameter *string `json:"user_parameter,omitempty"`
}

// slot is the field of parameterSlots[i].
func (b *setUserInfoBody) slot(i int) **string {
	fields := [...]**string{
		&b.Parameter1, &b.Parameter2, &b.Parameter3, &b.Parameter4, &b.Parameter5,
		&b.Parameter6, &b.Parameter7, &b.Parameter8, &b.Parameter9, &b.Parameter10,
		&b.UserParameter,
	}
	return fields[i]
}

// birth_type values: HappyTalk's dictionary says "0" solar and "1" lunar.
var (
	birthTypeSolar = "0"
	birthTypeLunar = "1"
)

const (
	reasonNotConfigured = "HappyTalk is not configured"
	reasonNoKeys        = "no HappyTalk uuid and room_id known for this customer"
	reasonNothing       = "nothing in the update concerns HappyTalk"
	warnGenderOther     = "gender 'other' has no HappyTalk form; not sent"
	warnLeapMonth       = "birthday is in a lunar leap month, which HappyTalk cannot tell apart from the ordinary month; birthday and birth_type not sent"
)

// translation collects one Plan's body, warnings and field errors.
type translation struct {
	body     setUserInfoBody
	warnings []string
	errs     model.FieldErrors
	// sending is true once a field other than the keys is set.
	sending bool
}

// Plan translates u into a set_user_info call. A value HappyTalk would cut is a
// model.FieldErrors; a field HappyTalk cannot hold is left out with a warning.
func (a *Adapter) Plan(u *model.Update) (model.Plan, error) {
	plan := model.Plan{Vendor: Name}
	if !a.Enabled() {
		plan.Skip, plan.Reason = model.SkipNoKeys, reasonNotConfigured
		return plan, nil
	}
	ref := happyTalkRef(u.Fields)
	if ref.UUID == "" && ref.RoomID == "" {
		plan.Skip, plan.Reason = model.SkipNoKeys, reasonNoKeys
		return plan, nil
	}
	t := translation{body: setUserInfoBody{Token: a.token, UUID: ref.UUID, RoomID: ref.RoomID, UsersID: ref.UsersID}}
	t.sending = ref.UsersID != ""
	t.checkKeys(ref)
	a.translate(&t, u)
	if len(t.errs) > 0 {
		// Every refusal at once (half a key, each value HappyTalk would cut), sorted by
		// field so that the same update always gets the same answer.
		slices.SortStableFunc(t.errs, func(x, y model.FieldError) int { return strings.Compare(x.Field, y.Field) })
		return plan, t.errs
	}
	slices.Sort(t.warnings)
	plan.Warnings = t.warnings
	if !t.sending {
		plan.Skip, plan.Reason = model.SkipNothingToSend, reasonNothing
		return plan, nil
	}
	body, err := json.Marshal(&t.body)
	if err != nil {
		return plan, fmt.Errorf("encode HappyTalk set_user_info: %w", err)
	}
	plan.Request = &model.Request{Method: http.MethodPost, URL: a.setUserInfoURL, Header: a.header, Body: body}
	return plan, nil
}

// ref is HappyTalk's keys for one customer: uuid and room_id name the chat, users_id
// changes HappyTalk's customer id.
type ref struct{ UUID, RoomID, UsersID string }

func happyTalkRef(f model.CustomerUpdate) ref {
	refs := f.VendorRefs.Of(Name)
	return ref{UUID: refs.String(refUUID), RoomID: refs.String(refRoomID), UsersID: refs.String(refUsersID)}
}

// checkKeys refuses half a key: HappyTalk requires both uuid and room_id.
func (t *translation) checkKeys(ref ref) {
	missing := ""
	switch {
	case ref.UUID == "":
		missing = "uuid"
	case ref.RoomID == "":
		missing = "room_id"
	default:
		return
	}
	t.errs = append(t.errs, model.FieldError{
		Field:   "vendor_refs.happytalk." + missing,
		Vendor:  Name,
		Message: "HappyTalk needs both uuid and room_id; " + missing + " is missing",
	})
}

func (a *Adapter) translate(t *translation, u *model.Update) {
	f := u.Fields
	t.set(&t.body.Username, f.FullName)
	t.set(&t.body.Email, f.Email)
	a.translatePhone(t, u.Phone)
	a.translateGender(t, f.Gender)
	translateBirthday(t, u.Birthday)
	if f.Order != nil {
		t.set(&t.body.OrderNumber, f.Order.OrderNumber)
		t.set(&t.body.ProductNumber, f.Order.ProductNumber)
		t.set(&t.body.ParcelNumber, f.Order.ParcelNumber)
	}
	if f.Consultation != nil {
		t.set(&t.body.CategoryID, f.Consultation.CategoryID)
		t.set(&t.body.DivisionID, f.Consultation.DivisionID)
	}
	a.translateAttributes(t, f.Attributes)
}

func (t *translation) set(dst **string, v *string) {
	if v != nil {
		*dst = v
		t.sending = true
	}
}

// translatePhone sends the national digits of a Korean number only: HappyTalk's phone has
// no country code, so a foreign number would arrive as a different, Korean-looking one.
func (a *Adapter) translatePhone(t *translation, p *model.Phone) {
	if p == nil {
		return
	}
	if p.Region != "KR" {
		t.warnings = append(t.warnings, fmt.Sprintf("phone is a number of region %s; HappyTalk keeps national digits without a country code, so it is not sent", p.Region))
		return
	}
	t.set(&t.body.Phone, &p.National)
}

func (a *Adapter) translateGender(t *translation, g *model.Gender) {
	if g == nil {
		return
	}
	switch *g {
	case model.GenderMale:
		t.set(&t.body.Sex, &a.male)
	case model.GenderFemale:
		t.set(&t.body.Sex, &a.female)
	default:
		t.warnings = append(t.warnings, warnGenderOther)
	}
}

// translateBirthday sends a lunar date as HappyTalk takes it (lunar, birth_type "1"), except
// one in a leap month: HappyTalk has no way to say so, and the ordinary month is another day.
func translateBirthday(t *translation, b *model.Birthday) {
	if b == nil {
		return
	}
	if b.Calendar == model.CalendarLunar && b.LeapMonth {
		t.warnings = append(t.warnings, warnLeapMonth)
		return
	}
	t.body.Birthday = b.Date.String()
	t.body.BirthType = &birthTypeSolar
	if b.Calendar == model.CalendarLunar {
		t.body.BirthType = &birthTypeLunar
	}
	t.sending = true
}

// translateAttributes fills the mapped parameters and refuses, all at once, every value
// HappyTalk would silently cut. Limits count characters, not bytes: 20 Hangul pass.
func (a *Adapter) translateAttributes(t *translation, attrs map[string]string) {
	for name, v := range attrs {
		slot, ok := a.slots[name]
		if !ok {
			t.warnings = append(t.warnings, fmt.Sprintf("attribute '%s' has no HappyTalk parameter (HAPPYTALK_PARAMETER_MAP); not sent", name))
			continue
		}
		if n, limit := utf8.RuneCountInString(v), slotLimit(slot); n > limit {
			t.errs = append(t.errs, model.FieldError{
				Field:   model.JoinField("attributes", name),
				Vendor:  Name,
				Message: fmt.Sprintf("HappyTalk keeps only %d characters of %s; this value has %d", limit, parameterSlots[slot], n),
			})
			continue
		}
		t.set(t.body.slot(slot), &v)
	}
}
