package auth_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/customergateway/gateway/internal/auth"
)

// BenchmarkAuthenticateAPIKey: a keys file of 20 entries, the matching one last (every entry is
// compared whichever matches).
func BenchmarkAuthenticateAPIKey(b *testing.B) {
	var lines []string
	var key string
	for i := range 20 {
		k, d, err := auth.NewKey()
		must(b, err)
		key = k
		lines = append(lines, fmt.Sprintf("  - {name: svc-%d, sha256: %s, scopes: [customers:read]}", i, d))
	}
	a, err := auth.New(b.Context(), auth.Config{KeysFile: writeFile(b, "keys:\n"+strings.Join(lines, "\n")+"\n")})
	must(b, err)
	h := "Bearer " + key
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Authenticate(b.Context(), h); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAuthenticateJWT(b *testing.B) {
	clk := newClock()
	signers := []signer{rsaSigner(b), ecSigner(b), edSigner(b)}
	srv := newJWKSServer(b, signers[0].publicJWK(b, false), signers[1].publicJWK(b, true), signers[2].publicJWK(b, false))
	a := newJWTAuth(b, srv, clk)
	for _, s := range signers {
		b.Run(s.alg.String(), func(b *testing.B) {
			h := "Bearer " + s.token(b, claims(clk))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Authenticate(b.Context(), h); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
