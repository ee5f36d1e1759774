package engagelab

import (
	"context"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/vendors"
)

// identityUserID is the identity name the gateway registers canonical customer ids under.
const identityUserID = "user_id"

// maxIdentityChars is EngageLab's limit on an identity value (its code 55105).
const maxIdentityChars = 256

// registerBody is EngageLab's POST /v1/user/register.
type registerBody struct {
	IdentityName   string   `json:"identity_name"`
	IdentityValues []string `json:"identity_values"`
}

// registerAnswer is the data of a successful register answer. EUID is read through
// json.Number so that a 64-bit id stays exact and a missing one is told apart from 0.
type registerAnswer struct {
	Data []struct {
		IdentityValue string      `json:"identity_value"`
		EUID          json.Number `json:"euid"`
	} `json:"data"`
}

// NeedsKeys reports whether EngageLab is configured with its register call allowed
// (ENGAGELAB_AUTO_REGISTER), u carries a contact (email or phone) and no euid is known:
// what resolving the euid from the canonical customer id cures.
func (a *Adapter) NeedsKeys(u *model.Update) bool {
	if !a.enabled || !a.register || (u.Fields.Email == nil && u.Fields.Phone == nil) {
		return false
	}
	return engageLabEUID(u) == 0
}

// ResolveKeys registers the canonical customer id as EngageLab identity user_id through
// call and answers the euid EngageLab gave as the customer's refs.
func (a *Adapter) ResolveKeys(ctx context.Context, call vendors.Call, customerID string) (model.Refs, error) {
	euid, err := a.Register(ctx, call, customerID)
	if err != nil {
		return nil, err
	}
	return model.Refs{refEUID: model.Int64Ref(euid)}, nil
}

// unresolvedEUID stands in for an euid EngageLab could not give yet (PlaceholderKeys).
const unresolvedEUID = int64(1<<63 - 1)

// PlaceholderKeys is an euid no customer has: it lets an update be planned (EngageLab's
// limits checked) while the real euid is resolved in the background. A request planned
// with it is never sent.
func (a *Adapter) PlaceholderKeys() model.Refs {
	return model.Refs{refEUID: model.Int64Ref(unresolvedEUID)}
}

// Register asks EngageLab, through call, for the EUID of userID (registered as identity
// user_id), creating the user there if it is new. A non-zero code is a *model.VendorError
// classified as Send does; an answer with code 0 but no euid for userID is a
// *model.VendorError with Code 0 that is not retryable. A userID EngageLab would refuse
// (empty, or longer than 256 characters) is model.FieldErrors, and nothing is sent.
func (a *Adapter) Register(ctx context.Context, call vendors.Call, userID string) (int64, error) {
	if userID == "" || utf8.RuneCountInString(userID) > maxIdentityChars {
		// EngageLab would refuse it (55107, 55105): the caller's data, not the vendor, is
		// at fault, so it is a FieldError and nothing is sent.
		return 0, model.FieldErrors{fieldError("customer_id", fmt.Sprintf("EngageLab takes user ids of 1-%d characters", maxIdentityChars))}
	}
	req, err := a.request(a.registerURL, registerBody{IdentityName: identityUserID, IdentityValues: []string{userID}})
	if err != nil {
		return 0, err
	}
	body, err := call(ctx, req)
	if err != nil {
		return 0, err
	}
	return readEUID(body, userID)
}

// readEUID finds userID's euid in a register answer. An entry without identity_value is
// taken as userID's, since only one value was asked.
func readEUID(body []byte, userID string) (int64, error) {
	var ans registerAnswer
	if err := json.Unmarshal(body, &ans); err != nil {
		return 0, noEUID("register answer cannot be read")
	}
	for _, d := range ans.Data {
		if d.IdentityValue != "" && d.IdentityValue != userID {
			continue
		}
		euid, err := d.EUID.Int64()
		if err != nil || euid < 1 {
			return 0, noEUID("register answer carries no valid euid for the user id")
		}
		return euid, nil
	}
	return 0, noEUID("register answer carries no euid for the user id")
}

func noEUID(msg string) error {
	return &model.VendorError{Vendor: displayName, Code: 0, Message: msg}
}
