package api

import (
	"context"
	"net/http"

	"github.com/rs/zerolog"

	"github.com/customergateway/gateway/internal/auth"
	"github.com/customergateway/gateway/internal/model"
)

// Authenticator proves who sent a request from its Authorization header (internal/auth).
type Authenticator interface {
	Authenticate(ctx context.Context, authorization string) (auth.Caller, error)
}

// anonymous is the caller of a gateway run with GATEWAY_AUTH=none: every scope, and a name,
// so the logs and the audit trail still say who it was.
var anonymous = auth.Anonymous()

// callerKey finds the request's caller in its context.
const callerKey ctxKey = iota + 100

// callerFrom is the authenticated caller of the request ctx belongs to.
func callerFrom(ctx context.Context) auth.Caller {
	c, ok := ctx.Value(callerKey).(auth.Caller)
	if !ok {
		return anonymous
	}
	return c
}

// authorized lets a request through only when its caller has scope: no credential or a
// bad one is a 401 with WWW-Authenticate, a good one without the scope a 403 naming it.
// Nothing of the request is read or validated before. With authn nil (GATEWAY_AUTH=none)
// every request is the anonymous caller's.
func authorized(authn Authenticator, scope string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c := anonymous
			if authn != nil {
				var err error
				c, err = authn.Authenticate(r.Context(), r.Header.Get("Authorization"))
				if err != nil {
					challenge(w, r, err)
					return
				}
				if !c.Has(scope) {
					zerolog.Ctx(r.Context()).Warn().Str("caller", c.Name).Str("scope", scope).Msg("forbidden")
					writeError(w, r, &model.Error{Code: model.EForbidden, Detail: "this request needs the scope " + scope})
					return
				}
			}
			noteCaller(r.Context(), c.Name)
			l := zerolog.Ctx(r.Context()).With().Str("caller", c.Name).Logger()
			ctx := context.WithValue(l.WithContext(r.Context()), callerKey, c)
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// challenge answers a request whose credential proves nothing: 401 with the Bearer
// challenge of RFC 6750 (error="invalid_token" when a credential was sent).
func challenge(w http.ResponseWriter, r *http.Request, err error) {
	value := `Bearer realm="customer-gateway"`
	if r.Header.Get("Authorization") != "" {
		value += `, error="invalid_token"`
	}
	w.Header().Set("WWW-Authenticate", value)
	zerolog.Ctx(r.Context()).Warn().Err(err).Msg("unauthorized")
	if model.CodeOf(err) != model.EUnauthorized {
		err = &model.Error{Code: model.EUnauthorized, Err: err}
	}
	writeError(w, r, err)
}

// callerKeyOf is the caller's identity for per-caller state (Idempotency-Keys, rate
// limits): its kind and name, so an API key and a token subject of one name stay apart.
func callerKeyOf(r *http.Request) string {
	c := callerFrom(r.Context())
	return c.Kind + ":" + c.Name
}

// rateKey is the caller the rate limit counts a request against: its kind and name, or ""
// (the client address) for the anonymous caller of GATEWAY_AUTH=none, who is everyone.
func rateKey(r *http.Request) string {
	c := callerFrom(r.Context())
	if c.Kind == auth.KindNone {
		return ""
	}
	return c.Kind + ":" + c.Name
}
