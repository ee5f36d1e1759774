package auth_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/customergateway/gateway/internal/auth"
)

func newKeyAuth(t *testing.T, file string) *auth.Authenticator {
	t.Helper()
	a, err := auth.New(t.Context(), auth.Config{KeysFile: writeFile(t, file)})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestNewKey(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		key, digest, err := auth.NewKey()
		must(t, err)
		if !strings.HasPrefix(key, auth.KeyPrefix) || len(key) != 47 || strings.ContainsAny(key, ".=+/ ") {
			t.Fatalf("key %q is not cgw_ and 43 base64url characters", key)
		}
		raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(key, auth.KeyPrefix))
		if err != nil || len(raw) != 32 {
			t.Fatalf("key %q does not hold 32 bytes: %v", key, err)
		}
		sum := sha256.Sum256([]byte(key))
		if digest != hex.EncodeToString(sum[:]) || digest != auth.Digest(key) {
			t.Fatalf("digest %s is not the key's SHA-256", digest)
		}
		if seen[key] {
			t.Fatal("the same key twice")
		}
		seen[key] = true
	}
}

func TestAPIKeys(t *testing.T) {
	var keys, lines []string
	for i := range 5 {
		k, d, err := auth.NewKey()
		must(t, err)
		keys = append(keys, k)
		lines = append(lines, fmt.Sprintf("  - {name: svc-%d, sha256: %s, scopes: [customers:read, audit:read]}", i, d))
	}
	// An operator's own key, made elsewhere: any b64token without a '.' is an API key.
	own := strings.Repeat("0123456789abcdef", 4)
	lines = append(lines, "  - name: own\n    sha256: "+auth.Digest(own)+"\n    scopes: [metrics:read, metrics:read]")
	a := newKeyAuth(t, "keys:\n"+strings.Join(lines, "\n")+"\n")

	for i, k := range keys {
		c := accept(t, a, "Bearer "+k)
		want := auth.Caller{Name: fmt.Sprintf("svc-%d", i), Kind: auth.KindAPIKey, Scopes: []string{auth.ScopeAuditRead, auth.ScopeCustomersRead}}
		if c.Name != want.Name || c.Kind != want.Kind || !slices.Equal(c.Scopes, want.Scopes) {
			t.Fatalf("caller %+v; want %+v", c, want)
		}
		if !c.Has(auth.ScopeCustomersRead) || c.Has(auth.ScopeCustomersWrite) {
			t.Fatalf("Has is wrong for %+v", c)
		}
	}
	c := accept(t, a, "bearer "+own)
	if c.Name != "own" || !slices.Equal(c.Scopes, []string{auth.ScopeMetricsRead}) {
		t.Fatalf("caller %+v", c)
	}
	accept(t, a, "Bearer   "+keys[0]) // several spaces after the scheme

	k := keys[0]
	other, _, err := auth.NewKey()
	must(t, err)
	swapped := []byte(k)
	for i, c := range swapped {
		switch {
		case c >= 'a' && c <= 'z':
			swapped[i] = c - 32
		case c >= 'A' && c <= 'Z':
			swapped[i] = c + 32
		}
	}
	flipped := []byte(k)
	flipped[len(flipped)-1] ^= 1
	wrong := map[string]string{
		"an unknown key":              other,
		"the key in another case":     string(swapped),
		"the key, one bit off":        string(flipped),
		"the key's prefix":            k[:len(k)-1],
		"the key and more":            k + "A",
		"the digest instead":          auth.Digest(k),
		"the key without its prefix":  strings.TrimPrefix(k, auth.KeyPrefix),
		"the key with the prefix x 2": auth.KeyPrefix + k,
	}
	for name, cred := range wrong {
		t.Run(name, func(t *testing.T) {
			refuse(t, a, "Bearer "+cred, "")
		})
	}
	refuse(t, a, "Bearer "+k+" ", "malformed")
	refuse(t, a, "Bearer "+k+"\n", "malformed")
	refuse(t, a, "Bearer short", "neither")
	refuse(t, a, "Bearer "+strings.Repeat("k", 600), "neither")
	refuse(t, a, "Bearer "+keys[1][:20]+"."+keys[1][20:], "JWTs are not accepted")
}

// TestAPIKeyUppercaseDigest: the file holds lowercase hex; an uppercase digest is refused at
// load, not silently never matching.
func TestAPIKeyUppercaseDigest(t *testing.T) {
	k, d, err := auth.NewKey()
	must(t, err)
	_ = k
	p := writeFile(t, "keys:\n  - {name: svc, sha256: "+strings.ToUpper(d)+", scopes: [customers:read]}\n")
	_, err = auth.New(t.Context(), auth.Config{KeysFile: p})
	if err == nil || !strings.Contains(err.Error(), "lowercase hex") || !strings.Contains(err.Error(), p) {
		t.Fatalf("err %v; want lowercase hex, naming the file", err)
	}
}

func TestAuthorizationHeader(t *testing.T) {
	key, digest, err := auth.NewKey()
	must(t, err)
	a := newKeyAuth(t, "keys: [{name: svc, sha256: "+digest+", scopes: [customers:read]}]\n")
	cases := []struct{ header, want string }{
		{"", "no credential"},
		{"Bearer", "no credential after Bearer"},
		{"Bearer ", "no credential after Bearer"},
		{"Bearer    ", "no credential after Bearer"},
		{"Basic " + base64.StdEncoding.EncodeToString([]byte("svc:"+key)), "Bearer scheme"},
		{"Basic " + key, "Bearer scheme"},
		{"Token " + key, "Bearer scheme"},
		{"Digest username=\"svc\"", "Bearer scheme"},
		{"Bearer_" + key, "Bearer scheme"},
		{"Bearer\t" + key, "Bearer scheme"},
		{key, "Bearer scheme"},
		{"Bearerx " + key, "Bearer scheme"},
		{" Bearer " + key, "Bearer scheme"},
		{"Bearer " + key + " " + key, "malformed"},
		{"Bearer " + key + ",Bearer " + key, "malformed"},
		{"Bearer \x00" + key, "malformed"},
		{"Bearer " + key[:10] + "\x00" + key[10:], "malformed"},
		{"Bearer " + key[:10] + "ü" + key[10:], "malformed"},
		{"Bearer ==" + key, "malformed"},
		{"Bearer " + key + "=x", "malformed"},
		{"Bearer " + strings.Repeat("A", 9000), "too long"},
		{"Bearer \"" + key + "\"", "malformed"},
		{"Bearer {\"payload\":\"e30\",\"signatures\":[]}", "malformed"},
	}
	for _, tc := range cases {
		name := tc.header
		if len(name) > 40 {
			name = name[:40]
		}
		t.Run(name, func(t *testing.T) { refuse(t, a, tc.header, tc.want) })
	}
}

// TestGarbageTokens: what looks like a JWT but is not one, against an Authenticator that
// accepts both kinds.
func TestGarbageTokens(t *testing.T) {
	f := newFixture(t)
	good := f.rsa.token(t, claims(f.clk))
	parts := strings.Split(good, ".")
	garbage := []string{
		".",
		"..",
		"...",
		"a.b",
		"a.b.c",
		"a..c",
		".b.c",
		"a.b.",
		"a.b.c.d",
		"a.b.c.d.e",
		parts[0] + "." + parts[1],
		parts[0] + "." + parts[1] + ".",
		parts[0] + "." + parts[1] + "." + parts[2] + "." + parts[2],
		good[:len(good)-5],
		parts[0] + "==." + parts[1] + "." + parts[2],
		parts[0] + "." + parts[1] + "." + parts[2] + "=",
		stdAlphabet(good),
		b64("{}") + "." + b64("{}") + "." + b64("x"),
		b64("not json") + "." + parts[1] + "." + parts[2],
		b64(`{"alg":"RS256","kid":"rsa-1"}`) + "." + b64("not json") + "." + parts[2],
		b64(`{"alg":"RS256","kid":"rsa-1"}`) + "." + b64("[]") + "." + parts[2],
		b64(`{"alg":["RS256"],"kid":"rsa-1"}`) + "." + parts[1] + "." + parts[2],
		b64(`{"alg":"RS256","kid":7}`) + "." + parts[1] + "." + parts[2],
		b64(strings.Repeat(`{"a":`, 1000)) + "." + parts[1] + "." + parts[2],
		"eyJhbGciOiJSUzI1NiJ9." + strings.Repeat("A", 5000) + ".sig",
	}
	for i, g := range garbage {
		t.Run(fmt.Sprint(i), func(t *testing.T) { refuse(t, f.a, "Bearer "+g, "") })
	}
	accept(t, f.a, "Bearer "+good)
}

// stdAlphabet is tok written in standard base64's alphabet ('+' and '/' for '-' and '_'),
// which a JWT must not be. A token with neither character (a signature rarely lacks both)
// gets its signature's first character so written, so the case always differs from tok:
// with only '-' replaced, a signature without one left the good token, which was accepted.
func stdAlphabet(tok string) string {
	std := strings.NewReplacer("-", "+", "_", "/").Replace(tok)
	if std == tok {
		i := strings.LastIndexByte(tok, '.') + 1
		std = tok[:i] + "+" + tok[i+1:]
	}
	return std
}

func TestKeysFileErrors(t *testing.T) {
	_, d1, err := auth.NewKey()
	must(t, err)
	_, d2, err := auth.NewKey()
	must(t, err)
	cases := []struct{ name, file, want string }{
		{"empty", "", "empty"},
		{"no keys", "keys: []\n", "no keys"},
		{"not yaml", "keys: [\n", "yaml"},
		{"not a list", "keys: {name: a}\n", "cannot unmarshal"},
		{"unknown field", "keys:\n  - {name: a, sha256: " + d1 + ", scope: [customers:read]}\n", "scope"},
		{"unknown top-level field", "key:\n  - {name: a, sha256: " + d1 + ", scopes: [customers:read]}\n", "key"},
		{"no name", "keys:\n  - {sha256: " + d1 + ", scopes: [customers:read]}\n", "entry 1 (line 2): the name is empty"},
		{"bad name", "keys:\n  - {name: 'a b', sha256: " + d1 + ", scopes: [customers:read]}\n", `entry 1 (line 2) "a b"`},
		{"name with a newline", "keys:\n  - {name: \"a\\nb\", sha256: " + d1 + ", scopes: [customers:read]}\n", "entry 1"},
		{"duplicate name", "keys:\n  - {name: a, sha256: " + d1 + ", scopes: [customers:read]}\n  - {name: a, sha256: " + d2 + ", scopes: [customers:read]}\n", `entry 2 (line 3) "a": the name is also entry 1's`},
		{"no digest", "keys:\n  - {name: a, scopes: [customers:read]}\n", `entry 1 (line 2) "a": sha256`},
		{"short digest", "keys:\n  - {name: a, sha256: " + d1[:63] + ", scopes: [customers:read]}\n", "64 lowercase hex"},
		{"long digest", "keys:\n  - {name: a, sha256: " + d1 + "0, scopes: [customers:read]}\n", "64 lowercase hex"},
		{"not hex", "keys:\n  - {name: a, sha256: " + strings.Repeat("g", 64) + ", scopes: [customers:read]}\n", "64 lowercase hex"},
		{"uppercase", "keys:\n  - {name: a, sha256: " + strings.ToUpper(d1) + ", scopes: [customers:read]}\n", "64 lowercase hex"},
		{"a key, not a digest", "keys:\n  - {name: a, sha256: cgw_" + strings.Repeat("x", 43) + ", scopes: [customers:read]}\n", "64 lowercase hex"},
		{"duplicate digest", "keys:\n  - {name: a, sha256: " + d1 + ", scopes: [customers:read]}\n  - {name: b, sha256: " + d1 + ", scopes: [audit:read]}\n", `entry 2 (line 3) "b": the same key as entry 1`},
		{"unknown scope", "keys:\n  - {name: a, sha256: " + d1 + ", scopes: [customers:read, admin]}\n", `unknown scope "admin"`},
		{"scope with another case", "keys:\n  - {name: a, sha256: " + d1 + ", scopes: [Customers:Read]}\n", `unknown scope "Customers:Read"`},
		{"no scopes", "keys:\n  - {name: a, sha256: " + d1 + "}\n", "no scopes"},
		{"scopes a string", "keys:\n  - {name: a, sha256: " + d1 + ", scopes: customers:read}\n", "cannot unmarshal"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, tc.file)
			_, err := auth.New(t.Context(), auth.Config{KeysFile: p})
			if err == nil {
				t.Fatal("loaded")
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) || !strings.Contains(msg, p) {
				t.Fatalf("error %q; want it to name the file and say %q", msg, tc.want)
			}
			if strings.Contains(msg, d1) || strings.Contains(msg, d2) {
				t.Fatalf("error %q echoes a digest", msg)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "nope.yaml")
		_, err := auth.New(t.Context(), auth.Config{KeysFile: p})
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Fatalf("err %v; want it to name the file", err)
		}
	})
	t.Run("too large", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "big.yaml")
		must(t, os.WriteFile(p, []byte("keys: []\n"+strings.Repeat("#\n", 1<<20)), 0o600))
		_, err := auth.New(t.Context(), auth.Config{KeysFile: p})
		if err == nil || !strings.Contains(err.Error(), "larger") {
			t.Fatalf("err %v", err)
		}
	})
}

func TestConfigErrors(t *testing.T) {
	_, d, err := auth.NewKey()
	must(t, err)
	keys := writeFile(t, "keys: [{name: a, sha256: "+d+", scopes: [audit:read]}]\n")
	cases := []struct {
		name string
		cfg  auth.Config
		want string
	}{
		{"nothing", auth.Config{}, "neither"},
		{"leeway too large", auth.Config{KeysFile: keys, Leeway: 61 * time.Second}, "leeway"},
		{"negative leeway", auth.Config{KeysFile: keys, Leeway: -time.Second}, "leeway"},
		{"negative refresh interval", auth.Config{KeysFile: keys, MinRefreshInterval: -time.Second}, "refresh"},
		{"issuer without JWKS", auth.Config{KeysFile: keys, Issuer: "x"}, "without a JWKS URL"},
		{"audience without JWKS", auth.Config{KeysFile: keys, Audience: "x"}, "without a JWKS URL"},
		{"JWKS URL not a URL", auth.Config{JWKSURL: "::"}, "not an http(s) URL"},
		{"JWKS URL a file", auth.Config{JWKSURL: "file:///etc/jwks.json"}, "not an http(s) URL"},
		{"JWKS URL without host", auth.Config{JWKSURL: "https:///jwks"}, "not an http(s) URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := auth.New(t.Context(), tc.cfg)
			if err == nil {
				_ = a.Close()
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %q; want %q", err, tc.want)
			}
		})
	}
}

func TestScopesAndCaller(t *testing.T) {
	all := auth.AllScopes()
	want := []string{"customers:write", "customers:read", "audit:read", "deliveries:manage", "metrics:read"}
	if !slices.Equal(all, want) {
		t.Fatalf("AllScopes %q", all)
	}
	all[0] = "x"
	if auth.AllScopes()[0] != "customers:write" {
		t.Fatal("AllScopes shares its slice")
	}
	for _, s := range want {
		if !auth.IsScope(s) || !auth.Anonymous().Has(s) {
			t.Fatalf("scope %s", s)
		}
	}
	if auth.IsScope("admin") || auth.IsScope("") || auth.IsScope("Customers:Read") {
		t.Fatal("IsScope accepts unknown scopes")
	}
	if an := auth.Anonymous(); an.Kind != auth.KindNone || an.Name != "anonymous" {
		t.Fatalf("Anonymous %+v", an)
	}
	if (auth.Caller{}).Has(auth.ScopeAuditRead) {
		t.Fatal("the zero caller holds a scope")
	}
	if err := auth.CheckScopes([]string{"customers:read", "nope"}); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("CheckScopes: %v", err)
	}
	for _, bad := range []string{"", "-a", ".a", "a b", "a/b", "a\nb", "ä", strings.Repeat("a", 65)} {
		if auth.CheckName(bad) == nil {
			t.Errorf("CheckName(%q) accepted", bad)
		}
	}
	for _, good := range []string{"a", "billing-svc", "svc.billing_2", "ops@example.com", "0x"} {
		if err := auth.CheckName(good); err != nil {
			t.Errorf("CheckName(%q): %v", good, err)
		}
	}
}

// TestKeyLineLoads: the line KeyLine prints is a keys file entry, whatever the name.
func TestKeyLineLoads(t *testing.T) {
	for _, name := range []string{"billing", "true", "null", "0x10", "1e3", "ops@example.com", "a-b.c_d", "no"} {
		key, digest, err := auth.NewKey()
		must(t, err)
		line, err := auth.KeyLine(name, digest, []string{auth.ScopeCustomersWrite, auth.ScopeCustomersRead})
		must(t, err)
		if strings.Contains(line, "\n") || !strings.HasPrefix(line, "- {") {
			t.Fatalf("line %q", line)
		}
		a := newKeyAuth(t, "keys:\n  "+line+"\n")
		if c := accept(t, a, "Bearer "+key); c.Name != name {
			t.Fatalf("name %q from %q; want %q", c.Name, line, name)
		}
	}
}

// TestKeyLineNumericDigest: a digest YAML could read as a number still reads back as itself.
func TestKeyLineNumericDigest(t *testing.T) {
	for _, d := range []string{strings.Repeat("1", 64), "1e" + strings.Repeat("0", 62), "0" + strings.Repeat("7", 63)} {
		line, err := auth.KeyLine("svc", d, []string{auth.ScopeAuditRead})
		must(t, err)
		newKeyAuth(t, "keys:\n  "+line+"\n")
	}
	if _, err := auth.KeyLine("svc", "ABC", []string{auth.ScopeAuditRead}); err == nil {
		t.Fatal("KeyLine took a bad digest")
	}
	if _, err := auth.KeyLine("a b", strings.Repeat("1", 64), []string{auth.ScopeAuditRead}); err == nil {
		t.Fatal("KeyLine took a bad name")
	}
	if _, err := auth.KeyLine("svc", strings.Repeat("1", 64), []string{"admin"}); err == nil {
		t.Fatal("KeyLine took a bad scope")
	}
}
