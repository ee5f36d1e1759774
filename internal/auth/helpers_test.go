package auth_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/customergateway/gateway/internal/auth"
	"github.com/customergateway/gateway/internal/model"
)

const (
	testIssuer   = "https://idp.example.test/"
	testAudience = "customer-gateway"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// signer is a real private key and the kid its public half has in the JWKS.
type signer struct {
	alg  jwa.SignatureAlgorithm
	kid  string
	priv crypto.Signer
}

func (s signer) public() crypto.PublicKey { return s.priv.Public() }

// publicJWK is the public half as a JWK with its kid (and, when pin, its alg).
func (s signer) publicJWK(t testing.TB, pin bool) jwk.Key {
	t.Helper()
	k, err := jwk.Import(s.public())
	if err != nil {
		t.Fatal(err)
	}
	must(t, k.Set(jwk.KeyIDKey, s.kid))
	if pin {
		must(t, k.Set(jwk.AlgorithmKey, s.alg))
	}
	return k
}

var (
	keysOnce              sync.Once
	rsaKey, rsaKey2       *rsa.PrivateKey
	ecKey, ecKey2         *ecdsa.PrivateKey
	edKey, edKey2         ed25519.PrivateKey
	ecP384                *ecdsa.PrivateKey
	errKeyGenerationFails error
)

// testKeys generates the test's keys once (RSA is slow): real keys, nothing mocked.
func testKeys(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		gen := func(f func() error) {
			if err == nil {
				err = f()
			}
		}
		gen(func() (e error) { rsaKey, e = rsa.GenerateKey(rand.Reader, 2048); return })
		gen(func() (e error) { rsaKey2, e = rsa.GenerateKey(rand.Reader, 2048); return })
		gen(func() (e error) { ecKey, e = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); return })
		gen(func() (e error) { ecKey2, e = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); return })
		gen(func() (e error) { ecP384, e = ecdsa.GenerateKey(elliptic.P384(), rand.Reader); return })
		gen(func() (e error) { _, edKey, e = ed25519.GenerateKey(rand.Reader); return })
		gen(func() (e error) { _, edKey2, e = ed25519.GenerateKey(rand.Reader); return })
		errKeyGenerationFails = err
	})
	if errKeyGenerationFails != nil {
		t.Fatal(errKeyGenerationFails)
	}
}

func rsaSigner(t testing.TB) signer { testKeys(t); return signer{jwa.RS256(), "rsa-1", rsaKey} }
func ecSigner(t testing.TB) signer  { testKeys(t); return signer{jwa.ES256(), "ec-1", ecKey} }
func edSigner(t testing.TB) signer  { testKeys(t); return signer{jwa.EdDSA(), "ed-1", edKey} }

// jwksServer serves a JWKS the test can change, and counts its fetches.
type jwksServer struct {
	*httptest.Server
	mu      sync.Mutex
	body    []byte
	status  int
	fetches atomic.Int64
}

func newJWKSServer(t testing.TB, keys ...jwk.Key) *jwksServer {
	t.Helper()
	s := &jwksServer{status: http.StatusOK}
	s.setKeys(t, keys...)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		s.mu.Lock()
		body, status := s.body, s.status
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) setKeys(t testing.TB, keys ...jwk.Key) {
	t.Helper()
	set := jwk.NewSet()
	for _, k := range keys {
		must(t, set.AddKey(k))
	}
	body, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.body = body
	s.mu.Unlock()
}

func (s *jwksServer) setStatus(code int) {
	s.mu.Lock()
	s.status = code
	s.mu.Unlock()
}

// setBody serves raw bytes as the JWKS.
func (s *jwksServer) setBody(b []byte) {
	s.mu.Lock()
	s.body = b
	s.mu.Unlock()
}

// newJWTAuth is an Authenticator on srv's JWKS, checking issuer and audience, that has fetched
// the JWKS once.
func newJWTAuth(t testing.TB, srv *jwksServer, clk *clock, mod ...func(*auth.Config)) *auth.Authenticator {
	t.Helper()
	cfg := auth.Config{
		JWKSURL:    srv.URL + "/jwks.json",
		Issuer:     testIssuer,
		Audience:   testAudience,
		HTTPClient: srv.Client(),
		Now:        clk.Now,
	}
	for _, m := range mod {
		m(&cfg)
	}
	a, err := auth.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := a.WaitJWKS(ctx); err != nil {
		t.Fatalf("WaitJWKS: %v", err)
	}
	return a
}

// claims are a good token's claims at clk's time, changed by mod.
func claims(clk *clock, mod ...func(map[string]any)) map[string]any {
	now := clk.Now()
	c := map[string]any{
		"iss":   testIssuer,
		"aud":   []string{testAudience},
		"sub":   "svc-billing",
		"iat":   now.Add(-time.Minute),
		"nbf":   now.Add(-time.Minute),
		"exp":   now.Add(5 * time.Minute),
		"scope": auth.ScopeCustomersRead + " " + auth.ScopeCustomersWrite,
	}
	for _, m := range mod {
		m(c)
	}
	return c
}

// sign makes a real signed JWT: alg and key as given, kid (unless empty) and any extra
// protected headers.
func sign(t testing.TB, alg jwa.SignatureAlgorithm, key any, kid string, c map[string]any, hdr map[string]any) string {
	t.Helper()
	tok := jwt.New()
	for k, v := range c {
		must(t, tok.Set(k, v))
	}
	h := jws.NewHeaders()
	if kid != "" {
		must(t, h.Set(jws.KeyIDKey, kid))
	}
	for k, v := range hdr {
		must(t, h.Set(k, v))
	}
	b, err := jwt.Sign(tok, jwt.WithKey(alg, key, jws.WithProtectedHeaders(h)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (s signer) token(t testing.TB, c map[string]any) string {
	t.Helper()
	return sign(t, s.alg, s.priv, s.kid, c, nil)
}

// accept wants the header accepted and returns the caller.
func accept(t testing.TB, a *auth.Authenticator, header string) auth.Caller {
	t.Helper()
	c, err := a.Authenticate(t.Context(), header)
	if err != nil {
		t.Fatalf("refused: %v", err)
	}
	return c
}

// refuse wants the header refused with EUnauthorized, a Detail containing want, and no part
// of the credential in the error. It returns the error.
func refuse(t testing.TB, a *auth.Authenticator, header, want string) *model.Error {
	t.Helper()
	c, err := a.Authenticate(t.Context(), header)
	if err == nil {
		t.Fatalf("accepted as %+v; want refused (%q)", c, want)
	}
	var me *model.Error
	if !errors.As(err, &me) || me.Code != model.EUnauthorized {
		t.Fatalf("error %v (%T); want a *model.Error with EUnauthorized", err, err)
	}
	if c.Name != "" || c.Scopes != nil || c.Kind != "" {
		t.Errorf("refused, yet a caller came back: %+v", c)
	}
	t.Logf("refused: %s", me.Detail)
	if !strings.Contains(me.Detail, want) {
		t.Errorf("detail %q; want it to contain %q", me.Detail, want)
	}
	noEcho(t, err.Error(), header)
	return me
}

// noEcho fails if msg holds the credential of header or a long piece of it.
func noEcho(t testing.TB, msg, header string) {
	t.Helper()
	_, cred, _ := strings.Cut(header, " ")
	cred = strings.TrimSpace(cred)
	pieces := append([]string{cred}, strings.Split(cred, ".")...)
	for _, p := range pieces {
		if len(p) >= 12 && strings.Contains(msg, p) {
			t.Fatalf("the error echoes the credential: %q", msg)
		}
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func writeFile(t testing.TB, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "keys.yaml")
	must(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}
