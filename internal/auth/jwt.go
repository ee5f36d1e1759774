package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/lestrrat-go/httprc/v3"
	"github.com/lestrrat-go/httprc/v3/errsink"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/customergateway/gateway/internal/model"
)

// The background JWKS refresh: following the JWKS's Cache-Control or Expires, within these.
const (
	jwksMinInterval = 5 * time.Minute
	jwksMaxInterval = time.Hour
	// maxJWKSBody bounds a JWKS response.
	maxJWKSBody = 1 << 20
	// maxSubLen bounds a token's sub, the caller's name.
	maxSubLen = 256
)

// The only signature algorithms accepted, whatever the JWKS holds: "none" and HS* never.
var (
	algRS256 = jwa.RS256()
	algES256 = jwa.ES256()
	algEdDSA = jwa.EdDSA()
)

// jwtVerifier checks JWTs against the keys of a JWKS, kept by a jwk.Cache.
type jwtVerifier struct {
	url      string
	cache    *jwk.Cache
	resource *httprc.ResourceBase[jwk.Set]
	bg       context.Context // the background fetching's life
	stop     context.CancelFunc
	timeout  time.Duration // the JWKS client's
	onError  func(error)
	now      func() time.Time
	parse    []jwt.ParseOption // the claim checks, the same for every token

	index atomic.Pointer[keyIndex]

	// refresh is held while a fetch for an unknown kid runs; lastRefresh (guarded by it) is
	// when the last one began.
	refresh     chan struct{}
	lastRefresh time.Time
	minRefresh  time.Duration
	lastErr     atomic.Pointer[fetchError]

	closeOnce sync.Once
	closeErr  error
}

type fetchError struct{ err error }

// keyIndex is a JWKS's usable verification keys by kid, built once per fetched set.
type keyIndex struct {
	set   jwk.Set
	byKid map[string][]verifyKey
}

type verifyKey struct {
	alg jwa.SignatureAlgorithm
	key any // *rsa.PublicKey, *ecdsa.PublicKey (P-256) or ed25519.PublicKey
}

func newJWTVerifier(ctx context.Context, cfg Config) (*jwtVerifier, error) {
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: DefaultJWKSTimeout}
	} else if hc.Timeout <= 0 {
		c := *hc
		c.Timeout = DefaultJWKSTimeout
		hc = &c
	}
	v := &jwtVerifier{
		url:        cfg.JWKSURL,
		onError:    cfg.OnJWKSError,
		now:        cfg.Now,
		refresh:    make(chan struct{}, 1),
		minRefresh: cfg.MinRefreshInterval,
		timeout:    hc.Timeout,
	}
	v.parse = []jwt.ParseOption{
		jwt.WithClock(jwt.ClockFunc(cfg.Now)),
		jwt.WithAcceptableSkew(cfg.Leeway),
		jwt.WithRequiredClaim(jwt.ExpirationKey),
	}
	if cfg.Issuer != "" {
		v.parse = append(v.parse, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		v.parse = append(v.parse, jwt.WithAudience(cfg.Audience))
	}

	bg, stop := context.WithCancel(ctx)
	client := httprc.NewClient(
		httprc.WithWorkers(1),
		httprc.WithErrorSink(errsink.NewFunc(func(_ context.Context, err error) { v.fetchFailed(err) })),
	)
	cache, err := jwk.NewCache(bg, client)
	if err != nil {
		stop()
		return nil, fmt.Errorf("auth: JWKS cache: %w", err)
	}
	err = cache.Register(bg, cfg.JWKSURL,
		jwk.WithHTTPClient(hc),
		jwk.WithWaitReady(false),
		jwk.WithMinInterval(jwksMinInterval),
		jwk.WithMaxInterval(jwksMaxInterval),
		jwk.WithMaxFetchBodySize(maxJWKSBody),
	)
	if err == nil {
		v.resource, err = cache.LookupResource(bg, cfg.JWKSURL)
	}
	if err != nil {
		stop()
		_ = cache.Shutdown(context.Background())
		return nil, fmt.Errorf("auth: JWKS %s: %w", cfg.JWKSURL, err)
	}
	v.cache, v.bg, v.stop = cache, bg, stop
	return v, nil
}

func (v *jwtVerifier) fetchFailed(err error) {
	v.lastErr.Store(&fetchError{err})
	if v.onError != nil {
		v.onError(fmt.Errorf("auth: fetch JWKS %s: %w", v.url, err))
	}
}

func (v *jwtVerifier) wait(ctx context.Context) error { return v.resource.Ready(ctx) }

func (v *jwtVerifier) close() error {
	v.closeOnce.Do(func() {
		v.stop()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		v.closeErr = v.cache.Shutdown(ctx)
	})
	return v.closeErr
}

// keys is the current JWKS's index, nil before the first successful fetch.
func (v *jwtVerifier) keys() *keyIndex {
	set := v.resource.Resource()
	if set == nil {
		return nil
	}
	if idx := v.index.Load(); idx != nil && idx.set == set {
		return idx
	}
	idx := buildIndex(set)
	v.index.Store(idx)
	return idx
}

// buildIndex keeps the keys a token may be verified with: a kid, for signatures (no use, or
// "sig"), of a type one of the accepted algorithms signs with, and, if the key names its alg,
// that one. Private parts, if a JWKS ever held them, are dropped.
func buildIndex(set jwk.Set) *keyIndex {
	idx := &keyIndex{set: set, byKid: map[string][]verifyKey{}}
	for i := range set.Len() {
		k, ok := set.Key(i)
		if !ok {
			continue
		}
		kid, ok := k.KeyID()
		if !ok || kid == "" {
			continue
		}
		if use, ok := k.KeyUsage(); ok && use != "" && use != jwk.ForSignature.String() {
			continue
		}
		raw, err := jwk.PublicRawKeyOf(k)
		if err != nil {
			continue
		}
		var alg jwa.SignatureAlgorithm
		switch pub := raw.(type) {
		case *rsa.PublicKey:
			alg = algRS256
		case *ecdsa.PublicKey:
			if pub.Curve != elliptic.P256() {
				continue
			}
			alg = algES256
		case ed25519.PublicKey:
			alg = algEdDSA
		default:
			continue // symmetric ("oct") and other keys: never
		}
		if ka, ok := k.Algorithm(); ok && ka.String() != alg.String() {
			continue
		}
		idx.byKid[kid] = append(idx.byKid[kid], verifyKey{alg: alg, key: raw})
	}
	return idx
}

// refreshForUnknownKid fetches the JWKS again, unless a fetch for an unknown kid began less
// than minRefresh ago: whatever the kids tokens name, the JWKS is fetched at most once per
// minRefresh this way. A caller arriving while a fetch runs waits for it (or for ctx), then
// reads the keys it brought.
func (v *jwtVerifier) refreshForUnknownKid(ctx context.Context) {
	select {
	case v.refresh <- struct{}{}:
	case <-ctx.Done():
		return
	}
	defer func() { <-v.refresh }()
	if v.bg.Err() != nil {
		return // closed: nothing fetches any more
	}
	now := v.now()
	if !v.lastRefresh.IsZero() && now.Before(v.lastRefresh.Add(v.minRefresh)) && !now.Before(v.lastRefresh) {
		return
	}
	v.lastRefresh = now
	// The wait is bounded whatever ctx: by the client's timeout, and by Close.
	rctx, cancel := context.WithTimeout(ctx, v.timeout+time.Second)
	defer cancel()
	defer context.AfterFunc(v.bg, cancel)()
	if _, err := v.cache.Refresh(rctx, v.url); err != nil && ctx.Err() == nil && v.bg.Err() == nil {
		v.fetchFailed(err)
	}
}

// keyChooser gives jws the keys for one token's signature, and says why it gave none. The
// algorithm it gives each key is the token's own alg, once that is one of the three accepted
// and fits the key: the token is verified under the alg its header names, or not at all.
type keyChooser struct {
	v      *jwtVerifier
	detail string
	err    error
}

var errNoKey = errors.New("no key")

func (kc *keyChooser) refuse(detail string) error {
	kc.detail = detail
	return errNoKey
}

func (kc *keyChooser) FetchKeys(ctx context.Context, sink jws.KeySink, sig *jws.Signature, _ *jws.Message) error {
	h := sig.ProtectedHeaders()
	if h == nil {
		return kc.refuse("the token is malformed")
	}
	if _, ok := h.Critical(); ok {
		return kc.refuse("the token has critical header parameters the gateway does not understand")
	}
	alg, ok := h.Algorithm()
	if !ok {
		return kc.refuse("the token names no signature algorithm")
	}
	switch alg.String() {
	case algRS256.String(), algES256.String(), algEdDSA.String():
	default:
		return kc.refuse("the token's signature algorithm is not accepted (RS256, ES256 or EdDSA only)")
	}
	kid, ok := h.KeyID()
	if !ok || kid == "" {
		return kc.refuse("the token names no key (kid)")
	}
	idx := kc.v.keys()
	var keys []verifyKey
	if idx != nil {
		keys = idx.byKid[kid]
	}
	if len(keys) == 0 {
		kc.v.refreshForUnknownKid(ctx)
		if idx = kc.v.keys(); idx != nil {
			keys = idx.byKid[kid]
		}
	}
	if len(keys) == 0 {
		if idx == nil {
			if fe := kc.v.lastErr.Load(); fe != nil {
				kc.err = fe.err
			}
			return kc.refuse("the token cannot be checked now: the signing keys are unavailable")
		}
		return kc.refuse("the token's signing key (kid) is unknown")
	}
	given := false
	for _, k := range keys {
		if k.alg.String() == alg.String() {
			sink.Key(alg, k.key)
			given = true
		}
	}
	if !given {
		return kc.refuse("the token's signature algorithm does not match its key")
	}
	return nil
}

func (v *jwtVerifier) authenticate(ctx context.Context, token string) (Caller, error) {
	if !isCompactJWS(token) {
		return Caller{}, unauthorized("the token is malformed: want three base64url segments")
	}
	kc := &keyChooser{v: v}
	opts := make([]jwt.ParseOption, 0, len(v.parse)+2)
	opts = append(opts, v.parse...)
	opts = append(opts, jwt.WithKeyProvider(kc), jwt.WithContext(ctx))
	tok, err := jwt.ParseString(token, opts...)
	if err != nil {
		if kc.detail != "" {
			return Caller{}, &model.Error{Code: model.EUnauthorized, Detail: kc.detail, Err: kc.err}
		}
		return Caller{}, unauthorized(parseFailure(err))
	}
	sub, ok := tok.Subject()
	if !ok || sub == "" {
		return Caller{}, unauthorized("the token has no sub")
	}
	if !goodSub(sub) {
		return Caller{}, unauthorized("the token's sub is not a usable caller name")
	}
	scopes, err := tokenScopes(tok)
	if err != nil {
		return Caller{}, unauthorized(err.Error())
	}
	return Caller{Name: sub, Scopes: scopes, Kind: KindJWT}, nil
}

// parseFailure says why jwt.Parse refused a token, in words safe to show. The signature is
// checked before any claim, so a claim is only ever reported on an authentic token.
func parseFailure(err error) string {
	switch {
	case errors.Is(err, jwt.TokenExpiredError()):
		return "the token has expired"
	case errors.Is(err, jwt.TokenNotYetValidError()):
		return "the token is not valid yet (nbf)"
	case errors.Is(err, jwt.InvalidIssuedAtError()):
		return "the token is issued in the future (iat)"
	case errors.Is(err, jwt.InvalidIssuerError()):
		return "the token's issuer is not accepted"
	case errors.Is(err, jwt.InvalidAudienceError()):
		return "the token's audience is not accepted"
	case errors.Is(err, jwt.MissingRequiredClaimError()):
		return "the token has no exp"
	case errors.Is(err, jws.VerificationError()):
		return "the token's signature is not valid"
	}
	return "the token is malformed"
}

// isCompactJWS: three non-empty base64url segments (no padding) separated by dots.
func isCompactJWS(s string) bool {
	segs, seg := 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if seg == 0 {
				return false
			}
			segs++
			seg = 0
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_':
			seg++
		default:
			return false
		}
	}
	return segs == 2 && seg > 0
}

// goodSub: printable UTF-8, at most maxSubLen bytes; it names the caller in logs and audit.
func goodSub(s string) bool {
	if len(s) > maxSubLen || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// tokenScopes reads scope (a space-separated string) or, without it, scp (a string or an
// array of strings).
func tokenScopes(tok jwt.Token) ([]string, error) {
	var raw any
	if tok.Has("scope") {
		if err := tok.Get("scope", &raw); err != nil {
			return nil, errors.New("the token's scope claim is malformed")
		}
		s, ok := raw.(string)
		if !ok {
			return nil, errors.New("the token's scope claim must be a space-separated string")
		}
		return strings.Fields(s), nil
	}
	if !tok.Has("scp") {
		return nil, nil
	}
	if err := tok.Get("scp", &raw); err != nil {
		return nil, errors.New("the token's scp claim is malformed")
	}
	switch x := raw.(type) {
	case string:
		return strings.Fields(x), nil
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, errors.New("the token's scp claim must be a string or an array of strings")
			}
			out = append(out, s)
		}
		return out, nil
	case []string:
		return x, nil
	}
	return nil, errors.New("the token's scp claim must be a string or an array of strings")
}
