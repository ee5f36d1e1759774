package model

// Vendor names a customer-engagement vendor behind the gateway.
type Vendor string

// The vendors the gateway delivers to.
const (
	HappyTalk Vendor = "happytalk"
	LadiFlow  Vendor = "ladiflow"
	EngageLab Vendor = "engagelab"
)

// Vendors lists every vendor in the order results are reported.
var Vendors = []Vendor{HappyTalk, LadiFlow, EngageLab}

// Valid reports whether v is one of the known vendors.
func (v Vendor) Valid() bool {
	switch v {
	case HappyTalk, LadiFlow, EngageLab:
		return true
	}
	return false
}

// DisplayName is the vendor's own spelling, for messages a person reads.
func (v Vendor) DisplayName() string {
	switch v {
	case HappyTalk:
		return "HappyTalk"
	case LadiFlow:
		return "LadiFlow"
	case EngageLab:
		return "EngageLab"
	}
	return string(v)
}
