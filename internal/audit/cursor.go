package audit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/customergateway/gateway/internal/model"
)

// cursorVersion lets a later format be told apart from this one.
const cursorVersion = 1

// Why a cursor is refused; the messages reach the caller as the FieldError on "cursor".
var (
	errCursorInvalid    = errors.New("not a cursor issued by this gateway (malformed, altered or signed with another key)")
	errCursorOtherQuery = errors.New("issued for another query: keep from, to, source, type, kind, customer_id and order unchanged while paging")
)

// eventKey is an event's place in the sort order: its instant, then its id.
type eventKey struct {
	At time.Time
	ID string
}

func keyOfEvent(e model.AuditEvent) eventKey { return eventKey{At: e.OccurredAt, ID: e.ID} }

// cursorPayload is what a cursor carries; the signature covers all of it.
type cursorPayload struct {
	Version     int    `json:"v"`
	Fingerprint []byte `json:"f"`
	Seconds     int64  `json:"s"`
	Nanos       int    `json:"n"`
	ID          string `json:"i"`
}

// cursorCodec signs and verifies keyset cursors with HMAC-SHA256.
type cursorCodec struct{ key []byte }

// encode returns base64url(payload) "." base64url(mac): opaque to the caller, and bound to
// the query by its fingerprint so a cursor cannot be replayed against another query.
func (c cursorCodec) encode(fingerprint []byte, k eventKey) string {
	payload, err := json.Marshal(cursorPayload{
		Version:     cursorVersion,
		Fingerprint: fingerprint,
		Seconds:     k.At.Unix(),
		Nanos:       k.At.Nanosecond(),
		ID:          k.ID,
	})
	if err != nil {
		panic("audit: cursor payload does not marshal: " + err.Error()) // plain fields always marshal
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString(payload) + "." + enc.EncodeToString(c.sign(payload))
}

// decode verifies s and returns the key it carries, refusing a cursor made for another query.
func (c cursorCodec) decode(s string, fingerprint []byte) (eventKey, error) {
	enc := base64.RawURLEncoding
	body, sig, ok := strings.Cut(s, ".")
	if !ok {
		return eventKey{}, errCursorInvalid
	}
	payload, err1 := enc.DecodeString(body)
	mac, err2 := enc.DecodeString(sig)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, c.sign(payload)) {
		return eventKey{}, errCursorInvalid
	}
	var p cursorPayload
	if err := json.Unmarshal(payload, &p); err != nil || p.Version != cursorVersion {
		return eventKey{}, errCursorInvalid
	}
	if !hmac.Equal(p.Fingerprint, fingerprint) {
		return eventKey{}, errCursorOtherQuery
	}
	return eventKey{At: time.Unix(p.Seconds, int64(p.Nanos)).UTC(), ID: p.ID}, nil
}

func (c cursorCodec) sign(payload []byte) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write(payload)
	return m.Sum(nil)
}

// fingerprint identifies what a query selects and in which order, not how many per page:
// a caller may change limit between pages. Instants are written in UTC so the same range
// given in another offset is the same query.
func fingerprint(q Query, sources []model.AuditSource) []byte {
	canon, err := json.Marshal(struct {
		From, To   string
		Sources    []model.AuditSource
		Type       model.AuditType
		Kind       model.AuditKind
		CustomerID string
		Order      string
	}{
		From:       q.From.UTC().Format(time.RFC3339Nano),
		To:         q.To.UTC().Format(time.RFC3339Nano),
		Sources:    sources,
		Type:       q.Type,
		Kind:       q.Kind,
		CustomerID: q.CustomerID,
		Order:      q.Order,
	})
	if err != nil {
		panic("audit: query fingerprint does not marshal: " + err.Error())
	}
	sum := sha256.Sum256(canon)
	return sum[:16]
}
