// Package auth tells who sent a request (DESIGN.md 5, "Callers: who may do what").
//
// A request carries "Authorization: Bearer <credential>", where the credential is either
//   - an API key: the gateway keeps only the SHA-256 hex digests of keys (a YAML keys file,
//     GATEWAY_API_KEYS_FILE) and compares in constant time over every entry; or
//   - a JWT signed with RS256, ES256 or EdDSA by a key of a JWKS (GATEWAY_JWT_JWKS_URL),
//     checked for issuer, audience, exp and nbf.
//
// A credential holding a '.' is a JWT (three base64url segments); anything else is an API key.
// Keys made by NewKey ("cgw_" and 43 base64url characters) never hold a '.', so a key can never
// be taken for a token. Every failure is a *model.Error with the code EUnauthorized whose
// Detail never echoes the credential.
package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/customergateway/gateway/internal/model"
)

// Scopes (DESIGN.md 5).
const (
	ScopeCustomersWrite   = "customers:write"   // PUT /customers/...
	ScopeCustomersRead    = "customers:read"    // GET customers, updates
	ScopeAuditRead        = "audit:read"        // GET /audit-history
	ScopeDeliveriesManage = "deliveries:manage" // deliveries
	ScopeMetricsRead      = "metrics:read"      // /metrics, unless GATEWAY_METRICS_PUBLIC=true
)

// allScopes lists the scopes in the order DESIGN.md gives them.
var allScopes = []string{ScopeCustomersWrite, ScopeCustomersRead, ScopeAuditRead, ScopeDeliveriesManage, ScopeMetricsRead}

// AllScopes is every scope the gateway knows, in a fixed order (a new slice each call).
func AllScopes() []string { return slices.Clone(allScopes) }

// IsScope says whether s is one of the scopes the gateway knows.
func IsScope(s string) bool { return slices.Contains(allScopes, s) }

// The kinds of caller.
const (
	KindAPIKey = "api_key" // Caller.Name is the key's name in the keys file
	KindJWT    = "jwt"     // Caller.Name is the token's sub
	KindNone   = "none"    // GATEWAY_AUTH=none: see Anonymous
)

// Caller is who sent a request: the API key's name or the JWT's sub, and its scopes.
// Scopes may be shared with the Authenticator: treat it as read-only.
type Caller struct {
	Name   string
	Scopes []string
	Kind   string // KindAPIKey, KindJWT or KindNone
}

// Has says whether the caller holds scope.
func (c Caller) Has(scope string) bool { return slices.Contains(c.Scopes, scope) }

// Anonymous is the caller of every request when authentication is off (GATEWAY_AUTH=none):
// named "anonymous", of kind KindNone, holding every scope.
func Anonymous() Caller { return Caller{Name: "anonymous", Scopes: AllScopes(), Kind: KindNone} }

// Bounds.
const (
	// MaxLeeway is the most clock skew allowed on a token's exp and nbf (DESIGN.md 5).
	MaxLeeway = 60 * time.Second
	// DefaultMinRefreshInterval bounds how often a token naming an unknown kid may make the
	// gateway fetch the JWKS again.
	DefaultMinRefreshInterval = 10 * time.Second
	// DefaultJWKSTimeout is the timeout of the JWKS client when Config.HTTPClient has none.
	DefaultJWKSTimeout = 10 * time.Second

	// maxAuthorization bounds the header read at all; a longer one is refused unparsed.
	maxAuthorization = 8 << 10
	// minAPIKeyLen refuses short (guessable) API keys before hashing them; NewKey's are 47.
	minAPIKeyLen = 32
	// maxAPIKeyLen bounds an API key.
	maxAPIKeyLen = 512
)

// Config says where the credentials come from. At least one of KeysFile and JWKSURL is
// required: running without authentication (GATEWAY_AUTH=none) is Anonymous, not an
// Authenticator.
type Config struct {
	// KeysFile is the YAML file of API keys (GATEWAY_API_KEYS_FILE): keys: [{name, sha256, scopes}].
	KeysFile string
	// JWKSURL is where the JWT signing keys are (GATEWAY_JWT_JWKS_URL), http or https.
	JWKSURL string
	// Issuer, when set, is the only iss accepted (GATEWAY_JWT_ISSUER).
	Issuer string
	// Audience, when set, must be in the token's aud, which is then required (GATEWAY_JWT_AUDIENCE).
	Audience string
	// Leeway is the clock skew allowed on exp and nbf: at most MaxLeeway; 0 means MaxLeeway.
	Leeway time.Duration
	// HTTPClient fetches the JWKS. Nil is a client with DefaultJWKSTimeout; a client without a
	// timeout is copied and given DefaultJWKSTimeout.
	HTTPClient *http.Client
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
	// MinRefreshInterval is the least time between two JWKS fetches made because a token named
	// an unknown kid; 0 means DefaultMinRefreshInterval.
	MinRefreshInterval time.Duration
	// OnJWKSError, when set, hears every failed JWKS fetch (background or on an unknown kid),
	// for the logs. It must not block.
	OnJWKSError func(error)
}

// Authenticator tells callers from the Authorization header. It is safe for concurrent use.
type Authenticator struct {
	keys *keyring // nil: API keys are not accepted
	jwt  *jwtVerifier
	now  func() time.Time
}

// New loads and checks the keys file and prepares the JWKS.
//
// The JWKS is fetched in the background from the start and never blocks or fails start-up: a
// JWKS that cannot be fetched leaves API keys working, and JWTs are refused ("signing keys
// unavailable") until a fetch succeeds. Fetches happen again periodically (5 minutes to 1 hour,
// following the JWKS's Cache-Control), and when a token names a kid the gateway does not know,
// at most once per MinRefreshInterval whatever the tokens. WaitJWKS waits for the first fetch.
//
// The background fetching stops when ctx is done or at Close.
func New(ctx context.Context, cfg Config) (*Authenticator, error) {
	if cfg.KeysFile == "" && cfg.JWKSURL == "" {
		return nil, errors.New("auth: neither an API keys file nor a JWKS URL is configured")
	}
	if cfg.Leeway < 0 || cfg.Leeway > MaxLeeway {
		return nil, fmt.Errorf("auth: JWT leeway %s is out of range (0 to %s)", cfg.Leeway, MaxLeeway)
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = MaxLeeway
	}
	if cfg.MinRefreshInterval < 0 {
		return nil, fmt.Errorf("auth: JWKS minimum refresh interval %s is negative", cfg.MinRefreshInterval)
	}
	if cfg.MinRefreshInterval == 0 {
		cfg.MinRefreshInterval = DefaultMinRefreshInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.JWKSURL == "" && (cfg.Issuer != "" || cfg.Audience != "") {
		return nil, errors.New("auth: a JWT issuer or audience is configured without a JWKS URL")
	}
	a := &Authenticator{now: cfg.Now}
	if cfg.KeysFile != "" {
		kr, err := loadKeysFile(cfg.KeysFile)
		if err != nil {
			return nil, err
		}
		a.keys = kr
	}
	if cfg.JWKSURL != "" {
		if err := checkJWKSURL(cfg.JWKSURL); err != nil {
			return nil, err
		}
		v, err := newJWTVerifier(ctx, cfg)
		if err != nil {
			return nil, err
		}
		a.jwt = v
	}
	return a, nil
}

func checkJWKSURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("auth: JWKS URL %q is not an http(s) URL", s)
	}
	return nil
}

// WaitJWKS waits until the JWKS has been fetched once (nil), or ctx is done (its error). With
// no JWKS URL it returns nil at once.
func (a *Authenticator) WaitJWKS(ctx context.Context) error {
	if a.jwt == nil {
		return nil
	}
	return a.jwt.wait(ctx)
}

// Close stops the background JWKS fetching. Authenticate keeps working on the keys it has.
func (a *Authenticator) Close() error {
	if a.jwt == nil {
		return nil
	}
	return a.jwt.close()
}

// Authenticate reads "Authorization: Bearer <credential>" (the raw header value): an API key
// or a JWT. Errors are *model.Error{Code: model.EUnauthorized} whose Detail never echoes the
// credential.
func (a *Authenticator) Authenticate(ctx context.Context, authorization string) (Caller, error) {
	cred, err := bearer(authorization)
	if err != nil {
		return Caller{}, err
	}
	if strings.IndexByte(cred, '.') >= 0 {
		if a.jwt == nil {
			return Caller{}, unauthorized("JWTs are not accepted here; send an API key")
		}
		return a.jwt.authenticate(ctx, cred)
	}
	if a.keys == nil {
		return Caller{}, unauthorized("API keys are not accepted here; send a JWT")
	}
	if len(cred) < minAPIKeyLen || len(cred) > maxAPIKeyLen {
		return Caller{}, unauthorized("the credential is neither a valid API key nor a JWT")
	}
	c, ok := a.keys.lookup(cred)
	if !ok {
		return Caller{}, unauthorized("unknown API key")
	}
	return c, nil
}

// bearer is the credential of a "Bearer <credential>" header value (RFC 6750 2.1: the scheme
// is case-insensitive, the credential a b64token).
func bearer(h string) (string, error) {
	if h == "" {
		return "", unauthorized("no credential: send Authorization: Bearer <API key or JWT>")
	}
	if len(h) > maxAuthorization {
		return "", unauthorized("the Authorization header is too long")
	}
	scheme, cred, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", unauthorized("the Authorization header must use the Bearer scheme")
	}
	cred = strings.TrimLeft(cred, " ")
	if cred == "" {
		return "", unauthorized("no credential after Bearer")
	}
	if !isB64Token(cred) {
		return "", unauthorized("the credential is malformed")
	}
	return cred, nil
}

// isB64Token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isB64Token(s string) bool {
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/') {
			break
		}
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}

func unauthorized(detail string) *model.Error {
	return &model.Error{Code: model.EUnauthorized, Detail: detail}
}
