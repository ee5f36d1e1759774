package model

// Update is a canonical update that passed the model's rules: the raw fields, plus the
// values that were parsed once so every adapter reads the same answer.
type Update struct {
	CustomerID string
	Fields     CustomerUpdate
	// Phone is set when Fields.Phone is.
	Phone *Phone
	// Birthday is set when Fields.Birthday is.
	Birthday *Birthday
	// Targets are the vendors named in Fields.Vendors; nil means every enabled vendor.
	Targets []Vendor
}

// Targeted reports whether the caller named v in "vendors".
func (u *Update) Targeted(v Vendor) bool {
	for _, t := range u.Targets {
		if t == v {
			return true
		}
	}
	return false
}
