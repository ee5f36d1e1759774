package model

// Gender is the canonical gender of a customer.
type Gender string

// The canonical genders. Other has no form at any vendor and is left out with a warning.
const (
	GenderMale   Gender = "male"
	GenderFemale Gender = "female"
	GenderOther  Gender = "other"
)

// Calendar says which calendar a birthday is written in.
type Calendar string

// The calendars a birthday can be given in.
const (
	CalendarSolar Calendar = "solar"
	CalendarLunar Calendar = "lunar"
)

// CustomerUpdate is the canonical body of PUT /customers/{customer_id}. Every field is
// optional: a nil pointer, map or slice means "leave it as it is at the vendor".
type CustomerUpdate struct {
	FullName          *string           `json:"full_name,omitempty"`
	FirstName         *string           `json:"first_name,omitempty"`
	LastName          *string           `json:"last_name,omitempty"`
	Email             *string           `json:"email,omitempty"`
	Phone             *string           `json:"phone,omitempty"`
	Gender            *Gender           `json:"gender,omitempty"`
	Birthday          *string           `json:"birthday,omitempty"`
	BirthdayCalendar  *Calendar         `json:"birthday_calendar,omitempty"`
	BirthdayLeapMonth *bool             `json:"birthday_leap_month,omitempty"`
	Language          *string           `json:"language,omitempty"`
	Address           *Address          `json:"address,omitempty"`
	Company           *string           `json:"company,omitempty"`
	JobTitle          *string           `json:"job_title,omitempty"`
	Tags              []string          `json:"tags,omitempty"`
	Attributes        map[string]string `json:"attributes,omitempty"`
	Social            *Social           `json:"social,omitempty"`
	LeadScore         *int64            `json:"lead_score,omitempty"`
	Order             *Order            `json:"order,omitempty"`
	Consultation      *Consultation     `json:"consultation,omitempty"`
	VendorRefs        VendorRefs        `json:"vendor_refs,omitempty"`
	Vendors           []Vendor          `json:"vendors,omitempty"`
}

// Address is a postal address. PostalCode is a string on our side (it may have a leading
// zero); a vendor that wants a number gets it only when it is all digits without one.
type Address struct {
	Line1      *string `json:"line1,omitempty"`
	Line2      *string `json:"line2,omitempty"`
	Ward       *string `json:"ward,omitempty"`
	District   *string `json:"district,omitempty"`
	City       *string `json:"city,omitempty"`
	PostalCode *string `json:"postal_code,omitempty"`
	Country    *string `json:"country,omitempty"`
}

// Social holds a customer's web and messenger handles.
type Social struct {
	Website  *string `json:"website,omitempty"`
	Facebook *string `json:"facebook,omitempty"`
	Twitter  *string `json:"twitter,omitempty"`
	LinkedIn *string `json:"linkedin,omitempty"`
	Zalo     *string `json:"zalo,omitempty"`
	Skype    *string `json:"skype,omitempty"`
}

// Order is the order a customer is being helped with.
type Order struct {
	OrderNumber   *string `json:"order_number,omitempty"`
	ProductNumber *string `json:"product_number,omitempty"`
	ParcelNumber  *string `json:"parcel_number,omitempty"`
}

// Consultation is the consultation category of the customer's chat.
type Consultation struct {
	CategoryID *string `json:"category_id,omitempty"`
	DivisionID *string `json:"division_id,omitempty"`
}
