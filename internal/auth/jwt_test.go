package auth_test

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/customergateway/gateway/internal/auth"
)

// fixture: a JWKS holding an RSA, an EC P-256 and an Ed25519 key (the EC one with its alg
// pinned), and an Authenticator on it that has fetched it once.
type fixture struct {
	clk *clock
	srv *jwksServer
	a   *auth.Authenticator
	rsa signer
	ec  signer
	ed  signer
}

func newFixture(t *testing.T, mod ...func(*auth.Config)) *fixture {
	t.Helper()
	f := &fixture{clk: newClock(), rsa: rsaSigner(t), ec: ecSigner(t), ed: edSigner(t)}
	f.srv = newJWKSServer(t, f.rsa.publicJWK(t, false), f.ec.publicJWK(t, true), f.ed.publicJWK(t, false))
	f.a = newJWTAuth(t, f.srv, f.clk, mod...)
	return f
}

func (f *fixture) signers() []signer { return []signer{f.rsa, f.ec, f.ed} }

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestJWTAccepted(t *testing.T) {
	f := newFixture(t)
	for _, s := range f.signers() {
		t.Run(s.alg.String(), func(t *testing.T) {
			c := accept(t, f.a, "Bearer "+s.token(t, claims(f.clk)))
			want := auth.Caller{Name: "svc-billing", Kind: auth.KindJWT, Scopes: []string{auth.ScopeCustomersRead, auth.ScopeCustomersWrite}}
			if c.Name != want.Name || c.Kind != want.Kind || !slices.Equal(c.Scopes, want.Scopes) {
				t.Fatalf("caller %+v; want %+v", c, want)
			}
			if !c.Has(auth.ScopeCustomersWrite) || c.Has(auth.ScopeAuditRead) {
				t.Fatalf("Has is wrong for %+v", c)
			}
		})
	}
	if n := f.srv.fetches.Load(); n != 1 {
		t.Errorf("JWKS fetched %d times; want 1 (good tokens never refetch)", n)
	}
}

func TestJWTSchemeCaseInsensitive(t *testing.T) {
	f := newFixture(t)
	tok := f.rsa.token(t, claims(f.clk))
	for _, scheme := range []string{"bearer", "BEARER", "beArer"} {
		accept(t, f.a, scheme+" "+tok)
	}
}

func TestJWTForgedSignature(t *testing.T) {
	f := newFixture(t)
	testKeys(t)
	// The right kid and alg, signed by another key of the same type.
	forgers := []signer{
		{jwa.RS256(), f.rsa.kid, rsaKey2},
		{jwa.ES256(), f.ec.kid, ecKey2},
		{jwa.EdDSA(), f.ed.kid, edKey2},
	}
	for _, s := range forgers {
		t.Run(s.alg.String(), func(t *testing.T) {
			refuse(t, f.a, "Bearer "+s.token(t, claims(f.clk)), "signature is not valid")
		})
	}
	t.Run("tampered payload", func(t *testing.T) {
		tok := f.rsa.token(t, claims(f.clk))
		parts := strings.Split(tok, ".")
		var c map[string]any
		raw, err := base64.RawURLEncoding.DecodeString(parts[1])
		must(t, err)
		must(t, json.Unmarshal(raw, &c))
		c["sub"] = "admin"
		c["scope"] = strings.Join(auth.AllScopes(), " ")
		forged, err := json.Marshal(c)
		must(t, err)
		parts[1] = base64.RawURLEncoding.EncodeToString(forged)
		refuse(t, f.a, "Bearer "+strings.Join(parts, "."), "signature is not valid")
	})
	t.Run("signature of another token", func(t *testing.T) {
		a := strings.Split(f.rsa.token(t, claims(f.clk)), ".")
		b := strings.Split(f.rsa.token(t, claims(f.clk, func(c map[string]any) { c["sub"] = "other" })), ".")
		refuse(t, f.a, "Bearer "+a[0]+"."+b[1]+"."+a[2], "signature is not valid")
	})
	t.Run("embedded jwk header", func(t *testing.T) {
		// The attacker's own key in the header, the real kid: the header's key is never used.
		attacker := signer{jwa.RS256(), f.rsa.kid, rsaKey2}
		hdr := map[string]any{"jwk": attacker.publicJWK(t, true)}
		refuse(t, f.a, "Bearer "+sign(t, attacker.alg, attacker.priv, attacker.kid, claims(f.clk), hdr), "signature is not valid")
	})
	t.Run("jku header", func(t *testing.T) {
		// A JWKS of the attacker's named by the token: never fetched.
		attacker := signer{jwa.RS256(), "evil", rsaKey2}
		evil := newJWKSServer(t, attacker.publicJWK(t, true))
		hdr := map[string]any{"jku": evil.URL}
		refuse(t, f.a, "Bearer "+sign(t, attacker.alg, attacker.priv, attacker.kid, claims(f.clk), hdr), "kid")
		if n := evil.fetches.Load(); n != 0 {
			t.Fatalf("the token's jku was fetched %d times", n)
		}
	})
}

func TestJWTAlgNone(t *testing.T) {
	f := newFixture(t)
	payload, err := json.Marshal(claims(f.clk))
	must(t, err)
	for _, alg := range []string{"none", "None", "NONE", "nOnE"} {
		hdr := b64(fmt.Sprintf(`{"alg":%q,"typ":"JWT","kid":%q}`, alg, f.rsa.kid))
		t.Run(alg+" empty signature", func(t *testing.T) {
			refuse(t, f.a, "Bearer "+hdr+"."+b64(string(payload))+".", "malformed")
		})
		t.Run(alg+" some signature", func(t *testing.T) {
			refuse(t, f.a, "Bearer "+hdr+"."+b64(string(payload))+"."+b64("x"), "")
		})
	}
	t.Run("no alg", func(t *testing.T) {
		hdr := b64(fmt.Sprintf(`{"typ":"JWT","kid":%q}`, f.rsa.kid))
		refuse(t, f.a, "Bearer "+hdr+"."+b64(string(payload))+"."+b64("x"), "")
	})
	// A good RS256 signature with the header's alg changed to none afterwards.
	t.Run("header swapped to none", func(t *testing.T) {
		parts := strings.Split(f.rsa.token(t, claims(f.clk)), ".")
		parts[0] = b64(fmt.Sprintf(`{"alg":"none","kid":%q}`, f.rsa.kid))
		refuse(t, f.a, "Bearer "+strings.Join(parts, "."), "")
	})
}

// TestJWTAlgorithmConfusion: HS256 "signed" with the public key as the HMAC secret (the
// classic RS256/HS256 confusion), every HS*, a JWKS that holds a symmetric key, and a token
// whose alg does not fit its key.
func TestJWTAlgorithmConfusion(t *testing.T) {
	f := newFixture(t)
	der, err := x509.MarshalPKIXPublicKey(f.rsa.public())
	must(t, err)
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	jwkJSON, err := json.Marshal(f.rsa.publicJWK(t, false))
	must(t, err)
	edPub, err := x509.MarshalPKIXPublicKey(f.ed.public())
	must(t, err)
	secrets := map[string][]byte{"pem": pemBytes, "der": der, "jwk json": jwkJSON, "pem no newline": []byte(strings.TrimSpace(string(pemBytes)))}
	for name, secret := range secrets {
		for _, alg := range []jwa.SignatureAlgorithm{jwa.HS256(), jwa.HS384(), jwa.HS512()} {
			t.Run(alg.String()+" with RSA public key "+name, func(t *testing.T) {
				refuse(t, f.a, "Bearer "+sign(t, alg, secret, f.rsa.kid, claims(f.clk), nil), "not accepted")
			})
		}
	}
	t.Run("HS256 with Ed25519 public key", func(t *testing.T) {
		refuse(t, f.a, "Bearer "+sign(t, jwa.HS256(), edPub, f.ed.kid, claims(f.clk), nil), "not accepted")
	})

	t.Run("JWKS holding an oct key", func(t *testing.T) {
		secret := []byte("0123456789abcdef0123456789abcdef")
		oct, err := jwk.Import(secret)
		must(t, err)
		must(t, oct.Set(jwk.KeyIDKey, "hmac"))
		must(t, oct.Set(jwk.AlgorithmKey, jwa.HS256()))
		clk := newClock()
		srv := newJWKSServer(t, oct, f.rsa.publicJWK(t, false))
		a := newJWTAuth(t, srv, clk)
		refuse(t, a, "Bearer "+sign(t, jwa.HS256(), secret, "hmac", claims(clk), nil), "not accepted")
		accept(t, a, "Bearer "+f.rsa.token(t, claims(clk)))
	})

	// Other asymmetric algorithms the library knows, with the right key type: refused too.
	testKeys(t)
	others := []struct {
		alg jwa.SignatureAlgorithm
		key any
		kid string
	}{
		{jwa.RS512(), rsaKey, f.rsa.kid},
		{jwa.PS256(), rsaKey, f.rsa.kid},
		{jwa.ES384(), ecP384, f.ec.kid},
	}
	for _, o := range others {
		t.Run(o.alg.String(), func(t *testing.T) {
			refuse(t, f.a, "Bearer "+sign(t, o.alg, o.key, o.kid, claims(f.clk), nil), "not accepted")
		})
	}
	t.Run("ES256 on the RSA kid", func(t *testing.T) {
		refuse(t, f.a, "Bearer "+sign(t, jwa.ES256(), ecKey, f.rsa.kid, claims(f.clk), nil), "does not match its key")
	})
	t.Run("RS256 on the EC kid", func(t *testing.T) {
		refuse(t, f.a, "Bearer "+sign(t, jwa.RS256(), rsaKey, f.ec.kid, claims(f.clk), nil), "does not match its key")
	})
	t.Run("EdDSA on the RSA kid", func(t *testing.T) {
		refuse(t, f.a, "Bearer "+sign(t, jwa.EdDSA(), edKey, f.rsa.kid, claims(f.clk), nil), "does not match its key")
	})
	t.Run("P-384 key in JWKS", func(t *testing.T) {
		p384 := signer{jwa.ES256(), "p384", ecP384}
		clk := newClock()
		srv := newJWKSServer(t, p384.publicJWK(t, false))
		a := newJWTAuth(t, srv, clk)
		refuse(t, a, "Bearer "+sign(t, jwa.ES384(), ecP384, "p384", claims(clk), nil), "not accepted")
	})
	if n := f.srv.fetches.Load(); n != 1 {
		t.Errorf("JWKS fetched %d times; refused algorithms must not make the gateway fetch it", n)
	}
}

func TestJWTCritAndKid(t *testing.T) {
	f := newFixture(t)
	t.Run("crit", func(t *testing.T) {
		hdr := map[string]any{"crit": []string{"exp-ext"}, "exp-ext": true}
		refuse(t, f.a, "Bearer "+sign(t, f.rsa.alg, f.rsa.priv, f.rsa.kid, claims(f.clk), hdr), "critical")
	})
	t.Run("no kid", func(t *testing.T) {
		refuse(t, f.a, "Bearer "+sign(t, f.rsa.alg, f.rsa.priv, "", claims(f.clk), nil), "names no key")
	})
}

func TestJWTTime(t *testing.T) {
	f := newFixture(t)
	now := f.clk.Now()
	set := func(k string, v any) func(map[string]any) { return func(c map[string]any) { c[k] = v } }
	cases := []struct {
		name string
		mod  func(map[string]any)
		want string // "" is accepted
	}{
		{"expired beyond leeway", set("exp", now.Add(-61*time.Second)), "expired"},
		{"expired long ago", set("exp", now.Add(-24*time.Hour)), "expired"},
		{"expired within leeway", set("exp", now.Add(-30*time.Second)), ""},
		{"not yet valid beyond leeway", set("nbf", now.Add(61*time.Second)), "not valid yet"},
		{"not yet valid far", set("nbf", now.Add(time.Hour)), "not valid yet"},
		{"not yet valid within leeway", set("nbf", now.Add(30*time.Second)), ""},
		{"issued in the future beyond leeway", set("iat", now.Add(2*time.Minute)), "future"},
		{"no exp", func(c map[string]any) { delete(c, "exp") }, "no exp"},
		{"no nbf, no iat", func(c map[string]any) { delete(c, "nbf"); delete(c, "iat") }, ""},
	}
	for _, tc := range cases {
		for _, s := range f.signers() {
			t.Run(tc.name+" "+s.alg.String(), func(t *testing.T) {
				h := "Bearer " + s.token(t, claims(f.clk, tc.mod))
				if tc.want == "" {
					accept(t, f.a, h)
				} else {
					refuse(t, f.a, h, tc.want)
				}
			})
		}
	}
	t.Run("smaller leeway", func(t *testing.T) {
		clk := newClock()
		srv := newJWKSServer(t, f.rsa.publicJWK(t, false))
		a := newJWTAuth(t, srv, clk, func(c *auth.Config) { c.Leeway = 5 * time.Second })
		refuse(t, a, "Bearer "+f.rsa.token(t, claims(clk, set("exp", clk.Now().Add(-10*time.Second)))), "expired")
		accept(t, a, "Bearer "+f.rsa.token(t, claims(clk, set("exp", clk.Now().Add(-3*time.Second)))))
	})
	t.Run("a good token expires as the clock moves", func(t *testing.T) {
		h := "Bearer " + f.rsa.token(t, claims(f.clk))
		accept(t, f.a, h)
		f.clk.Advance(5*time.Minute + 61*time.Second)
		refuse(t, f.a, h, "expired")
	})
}

func TestJWTIssuerAudienceSubject(t *testing.T) {
	f := newFixture(t)
	set := func(k string, v any) func(map[string]any) { return func(c map[string]any) { c[k] = v } }
	del := func(k string) func(map[string]any) { return func(c map[string]any) { delete(c, k) } }
	cases := []struct {
		name string
		mod  func(map[string]any)
		want string
	}{
		{"wrong issuer", set("iss", "https://evil.example.test/"), "issuer"},
		{"issuer with another case", set("iss", strings.ToUpper(testIssuer)), "issuer"},
		{"issuer without slash", set("iss", strings.TrimSuffix(testIssuer, "/")), "issuer"},
		{"no issuer", del("iss"), "issuer"},
		{"wrong audience", set("aud", []string{"other-service"}), "audience"},
		{"audience as a prefix", set("aud", []string{testAudience + "-x"}), "audience"},
		{"no audience", del("aud"), "audience"},
		{"audience among others", set("aud", []string{"other", testAudience}), ""},
		{"audience as a string", set("aud", testAudience), ""},
		{"no sub", del("sub"), "no sub"},
		{"empty sub", set("sub", ""), "no sub"},
		{"sub with a newline", set("sub", "svc\nadmin"), "sub"},
		{"sub too long", set("sub", strings.Repeat("s", 300)), "sub"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := "Bearer " + f.rsa.token(t, claims(f.clk, tc.mod))
			if tc.want == "" {
				accept(t, f.a, h)
			} else {
				refuse(t, f.a, h, tc.want)
			}
		})
	}
	t.Run("neither issuer nor audience configured", func(t *testing.T) {
		clk := newClock()
		srv := newJWKSServer(t, f.rsa.publicJWK(t, false))
		a := newJWTAuth(t, srv, clk, func(c *auth.Config) { c.Issuer, c.Audience = "", "" })
		accept(t, a, "Bearer "+f.rsa.token(t, claims(clk, del("iss"), del("aud"))))
		accept(t, a, "Bearer "+f.rsa.token(t, claims(clk, set("iss", "anyone"), set("aud", "anything"))))
	})
}

func TestJWTScopes(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name   string
		mod    func(map[string]any)
		scopes []string
		want   string
	}{
		{"scope string", func(c map[string]any) { c["scope"] = "audit:read  metrics:read" }, []string{"audit:read", "metrics:read"}, ""},
		{"scp array", func(c map[string]any) { delete(c, "scope"); c["scp"] = []string{"audit:read", "deliveries:manage"} }, []string{"audit:read", "deliveries:manage"}, ""},
		{"scp string", func(c map[string]any) { delete(c, "scope"); c["scp"] = "audit:read metrics:read" }, []string{"audit:read", "metrics:read"}, ""},
		{"scope wins over scp", func(c map[string]any) { c["scope"] = "audit:read"; c["scp"] = []string{"metrics:read"} }, []string{"audit:read"}, ""},
		{"no scopes", func(c map[string]any) { delete(c, "scope") }, []string{}, ""},
		{"scope not a string", func(c map[string]any) { c["scope"] = []string{"audit:read"} }, nil, "scope claim"},
		{"scp of numbers", func(c map[string]any) { delete(c, "scope"); c["scp"] = []any{"audit:read", 7} }, nil, "scp claim"},
		{"scp an object", func(c map[string]any) { delete(c, "scope"); c["scp"] = map[string]any{"audit:read": true} }, nil, "scp claim"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := "Bearer " + f.ec.token(t, claims(f.clk, tc.mod))
			if tc.want != "" {
				refuse(t, f.a, h, tc.want)
				return
			}
			c := accept(t, f.a, h)
			if len(c.Scopes) != len(tc.scopes) || (len(tc.scopes) > 0 && !slices.Equal(c.Scopes, tc.scopes)) {
				t.Fatalf("scopes %q; want %q", c.Scopes, tc.scopes)
			}
		})
	}
}

// TestJWTKeyRotation: a token signed by a key the gateway has not seen yet, as its IdP rotates.
func TestJWTKeyRotation(t *testing.T) {
	testKeys(t)
	clk := newClock()
	old := rsaSigner(t)
	next := signer{jwa.RS256(), "rsa-2", rsaKey2}
	srv := newJWKSServer(t, old.publicJWK(t, false))
	a := newJWTAuth(t, srv, clk)
	accept(t, a, "Bearer "+old.token(t, claims(clk)))

	// Not in the JWKS yet: one fetch, still unknown.
	refuse(t, a, "Bearer "+next.token(t, claims(clk)), "unknown")
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("JWKS fetched %d times; want 2", n)
	}

	// The IdP publishes it. Within the refresh interval the gateway does not look again...
	srv.setKeys(t, old.publicJWK(t, false), next.publicJWK(t, false))
	refuse(t, a, "Bearer "+next.token(t, claims(clk)), "unknown")
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("JWKS fetched %d times within the refresh interval; want 2", n)
	}
	// ...after it, it does, and the new key works, as does the old one.
	clk.Advance(auth.DefaultMinRefreshInterval)
	accept(t, a, "Bearer "+next.token(t, claims(clk)))
	accept(t, a, "Bearer "+old.token(t, claims(clk)))
	if n := srv.fetches.Load(); n != 3 {
		t.Fatalf("JWKS fetched %d times; want 3", n)
	}

	// The rotation the usual way: the new key is already published when the first token
	// signed by it arrives, so that token works at once.
	third := signer{jwa.ES256(), "ec-2", ecKey2}
	srv.setKeys(t, next.publicJWK(t, false), third.publicJWK(t, false))
	clk.Advance(auth.DefaultMinRefreshInterval)
	accept(t, a, "Bearer "+third.token(t, claims(clk)))
	// The old key left the JWKS: once the gateway fetched it again, its tokens fail.
	refuse(t, a, "Bearer "+old.token(t, claims(clk)), "unknown")
}

// TestJWTUnknownKidFlood: random kids, one after another and all at once, make the gateway
// fetch the JWKS a bounded number of times, while good tokens keep working.
func TestJWTUnknownKidFlood(t *testing.T) {
	f := newFixture(t)
	testKeys(t)
	c := claims(f.clk)
	// Signing is slow; the kid is in the signed header, so sign a handful and reuse them:
	// each is still a distinct unknown kid to the gateway.
	var flood []string
	for i := range 20 {
		flood = append(flood, "Bearer "+sign(t, jwa.ES256(), ecKey2, fmt.Sprintf("random-%d", i), c, nil))
	}
	good := "Bearer " + f.ed.token(t, c)

	for range 10 {
		for _, h := range flood {
			refuse(t, f.a, h, "unknown")
		}
	}
	if n := f.srv.fetches.Load(); n != 2 {
		t.Fatalf("200 unknown kids made %d JWKS fetches; want 2 (start-up, one refresh)", n)
	}

	var wg sync.WaitGroup
	var accepted atomic.Int64
	for i := range 64 {
		wg.Go(func() {
			for j := range 20 {
				if _, err := f.a.Authenticate(t.Context(), flood[(i+j)%len(flood)]); err == nil {
					t.Error("an unknown kid was accepted")
				}
				if _, err := f.a.Authenticate(t.Context(), good); err == nil {
					accepted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := f.srv.fetches.Load(); n != 2 {
		t.Fatalf("a concurrent flood made %d JWKS fetches in all; want 2", n)
	}
	if accepted.Load() != 64*20 {
		t.Fatalf("%d of %d good tokens accepted during the flood", accepted.Load(), 64*20)
	}

	// As time passes, at most one fetch per interval.
	for range 5 {
		f.clk.Advance(auth.DefaultMinRefreshInterval)
		for _, h := range flood {
			refuse(t, f.a, h, "unknown")
		}
	}
	if n := f.srv.fetches.Load(); n != 7 {
		t.Fatalf("5 intervals of floods made %d JWKS fetches in all; want 7", n)
	}

	// Refused algorithms and malformed tokens never make it fetch.
	f.clk.Advance(auth.DefaultMinRefreshInterval)
	payload, _ := json.Marshal(c)
	none := "Bearer " + b64(`{"alg":"none","kid":"fresh"}`) + "." + b64(string(payload)) + "." + b64("x")
	hs := "Bearer " + sign(t, jwa.HS256(), []byte("secret-secret-secret-secret-1234"), "fresh-hs", c, nil)
	for range 50 {
		refuse(t, f.a, none, "")
		refuse(t, f.a, hs, "not accepted")
		refuse(t, f.a, "Bearer a.b.c", "")
	}
	if n := f.srv.fetches.Load(); n != 7 {
		t.Fatalf("refused algorithms made JWKS fetches: %d; want 7", n)
	}
}

func TestJWKSMinRefreshIntervalConfig(t *testing.T) {
	clk := newClock()
	s := rsaSigner(t)
	srv := newJWKSServer(t, s.publicJWK(t, false))
	a := newJWTAuth(t, srv, clk, func(c *auth.Config) { c.MinRefreshInterval = time.Minute })
	h := "Bearer " + sign(t, s.alg, s.priv, "nope", claims(clk), nil)
	refuse(t, a, h, "unknown")
	clk.Advance(30 * time.Second)
	refuse(t, a, h, "unknown")
	if n := srv.fetches.Load(); n != 2 {
		t.Fatalf("fetches %d; want 2", n)
	}
	clk.Advance(30 * time.Second)
	refuse(t, a, h, "unknown")
	if n := srv.fetches.Load(); n != 3 {
		t.Fatalf("fetches %d; want 3", n)
	}
}

// TestJWKSUnavailable: a JWKS that fails at start does not stop start-up; API keys work,
// tokens are refused until it answers, and then they work.
func TestJWKSUnavailable(t *testing.T) {
	clk := newClock()
	s := rsaSigner(t)
	srv := newJWKSServer(t, s.publicJWK(t, false))
	srv.setStatus(http.StatusServiceUnavailable)
	key, digest, err := auth.NewKey()
	must(t, err)
	var jwksErrors atomic.Int64
	a, err := auth.New(t.Context(), auth.Config{
		KeysFile:    writeFile(t, "keys:\n  - {name: ops, sha256: "+digest+", scopes: [metrics:read]}\n"),
		JWKSURL:     srv.URL,
		HTTPClient:  srv.Client(),
		Now:         clk.Now,
		OnJWKSError: func(error) { jwksErrors.Add(1) },
	})
	if err != nil {
		t.Fatalf("a failing JWKS stopped start-up: %v", err)
	}
	t.Cleanup(func() { _ = a.Close() })
	accept(t, a, "Bearer "+key)

	h := "Bearer " + s.token(t, claims(clk))
	me := refuse(t, a, h, "signing keys are unavailable")
	if me.Err == nil {
		t.Error("no cause for the logs")
	}
	if jwksErrors.Load() == 0 {
		t.Error("OnJWKSError heard nothing")
	}
	srv.setStatus(http.StatusOK)
	refuse(t, a, h, "unavailable") // within the refresh interval
	clk.Advance(auth.DefaultMinRefreshInterval)
	accept(t, a, h)

	t.Run("garbage JWKS", func(t *testing.T) {
		clk := newClock()
		srv := newJWKSServer(t)
		srv.setBody([]byte(`{"keys": "nope"`))
		a, err := auth.New(t.Context(), auth.Config{JWKSURL: srv.URL, HTTPClient: srv.Client(), Now: clk.Now})
		must(t, err)
		t.Cleanup(func() { _ = a.Close() })
		refuse(t, a, "Bearer "+s.token(t, claims(clk)), "unavailable")
	})
}

// TestJWKSHangingAtStart: New does not wait for the JWKS, and a hanging JWKS costs a request
// at most the client's timeout.
func TestJWKSHangingAtStart(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	clk := newClock()
	start := time.Now()
	hc := srv.Client()
	hc.Timeout = 300 * time.Millisecond
	a, err := auth.New(t.Context(), auth.Config{JWKSURL: srv.URL, HTTPClient: hc, Now: clk.Now})
	must(t, err)
	defer a.Close()
	if d := time.Since(start); d > 200*time.Millisecond {
		t.Fatalf("New took %s with a hanging JWKS", d)
	}
	s := rsaSigner(t)
	start = time.Now()
	refuse(t, a, "Bearer "+s.token(t, claims(clk)), "unavailable")
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("a request waited %s on a hanging JWKS", d)
	}
}

func TestJWTOnlyRefusesAPIKeys(t *testing.T) {
	f := newFixture(t)
	key, _, err := auth.NewKey()
	must(t, err)
	refuse(t, f.a, "Bearer "+key, "API keys are not accepted")
}

// TestJWTAfterClose: once closed, tokens of known keys still work, and an unknown kid is
// refused at once instead of waiting on a fetcher that is gone.
func TestJWTAfterClose(t *testing.T) {
	f := newFixture(t)
	must(t, f.a.Close())
	must(t, f.a.Close())
	accept(t, f.a, "Bearer "+f.rsa.token(t, claims(f.clk)))
	testKeys(t)
	start := time.Now()
	refuse(t, f.a, "Bearer "+sign(t, jwa.RS256(), rsaKey2, "after-close", claims(f.clk), nil), "unknown")
	if d := time.Since(start); d > time.Second {
		t.Fatalf("an unknown kid after Close took %s", d)
	}
}
