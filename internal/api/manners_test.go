package api

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// A 405 lists what the route answers (RFC 9110 asks for Allow), HEAD wherever GET is.
func TestMethodNotAllowedSaysWhatIsAllowed(t *testing.T) {
	t.Parallel()
	g := newLimitedGateway(t, Deps{})
	for _, tc := range []struct{ method, path, allow string }{
		{http.MethodDelete, "/customers/c-1", "GET, HEAD, PUT"},
		{http.MethodPost, "/updates/u-1", "GET, HEAD"},
		{http.MethodGet, "/deliveries/d-1", "DELETE"},
		{http.MethodPut, "/deliveries/d-1/retry", "POST"},
		{http.MethodPost, "/healthz", "GET, HEAD"},
		{http.MethodPut, limAuditURL, "GET, HEAD"},
		{http.MethodPatch, "/openapi.yaml", "GET, HEAD"},
	} {
		resp, body := g.send(t, tc.method, tc.path)
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != tc.allow ||
			!strings.HasSuffix(limProblem(t, body).Type, "/method-not-allowed") {
			t.Errorf("%s %s: %d Allow %q: %s", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Allow"), body)
		}
	}
	// A method chi does not know, on a path nothing is routed for, is a 404, not a 405
	// with an empty Allow.
	if resp, body := g.send(t, "BREW", "/coffee"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("BREW /coffee: %d %s", resp.StatusCode, body)
	}
}

// HEAD is answered wherever GET is: the same status and headers, no body.
func TestHeadIsAnsweredWhereGetIs(t *testing.T) {
	t.Parallel()
	g := newLimitedGateway(t, Deps{})
	for _, path := range []string{"/healthz", "/readyz", "/metrics", "/openapi.yaml", limAuditURL, "/docs/", "/docs/swagger-ui.css"} {
		get, getBody := g.send(t, http.MethodGet, path)
		head, headBody := g.send(t, http.MethodHead, path)
		if head.StatusCode != get.StatusCode || get.StatusCode != http.StatusOK || len(headBody) != 0 ||
			head.Header.Get("Content-Type") != get.Header.Get("Content-Type") {
			t.Errorf("HEAD %s: %d %q (%d bytes); GET: %d %q (%d bytes)", path, head.StatusCode, head.Header.Get("Content-Type"),
				len(headBody), get.StatusCode, get.Header.Get("Content-Type"), len(getBody))
		}
	}
}

// Every answer, whatever its status, tells a browser not to sniff it and not to frame it.
func TestEveryAnswerCarriesSecurityHeaders(t *testing.T) {
	t.Parallel()
	g := newLimitedGateway(t, Deps{})
	for _, tc := range []struct{ method, path string }{
		{http.MethodGet, "/healthz"},
		{http.MethodGet, "/no/such/route"},
		{http.MethodDelete, "/healthz"},
		{http.MethodGet, "/openapi.yaml"},
		{http.MethodGet, "/audit-history"}, // 400: from and to are required
		{http.MethodGet, "/docs"},
		{http.MethodGet, "/docs/"},
		{http.MethodGet, "/docs/swagger-ui-bundle.js"},
	} {
		resp, _ := g.send(t, tc.method, tc.path)
		csp := resp.Header.Get("Content-Security-Policy")
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s %s (%d): nosniff %q, CSP %q", tc.method, tc.path, resp.StatusCode, resp.Header.Get("X-Content-Type-Options"), csp)
		}
		if !strings.HasPrefix(tc.path, "/docs/") && csp != apiCSP {
			t.Errorf("%s %s: CSP %q, want the API's", tc.method, tc.path, csp)
		}
	}
}

// The caller's X-Request-Id is kept only when it matches ^[A-Za-z0-9._:-]{1,128}$: an
// email or a phone number sent as an id never reaches the logs.
func TestRequestIDIsTakenOnlyWhenPlain(t *testing.T) {
	t.Parallel()
	g := newLimitedGateway(t, Deps{})
	for id, kept := range map[string]bool{
		"caller-id-42":                         true,
		"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b": true,
		"svc:orders.v2_7":                      true,
		strings.Repeat("a", 128):               true,
		strings.Repeat("a", 129):               false,
		"minji@example.com":                    false,
		"+821012345678":                        false,
		"a b":                                  false,
		"id/with/slash":                        false,
		"id=1;x":                               false,
		"\u00e9t\u00e9":                        false,
	} {
		resp, _ := g.send(t, http.MethodGet, "/healthz", RequestIDHeader, id)
		got := resp.Header.Get(RequestIDHeader)
		if kept && got != id || !kept && (got == id || !validRequestID(got)) {
			t.Errorf("X-Request-Id %q answered as %q", id, got)
		}
	}
}

// The docs page still works under its policy: every script, stylesheet and icon it loads
// comes from this gateway and is served with the type nosniff requires, every inline
// script and style is allowed by its hash, and nothing asks for 'unsafe-inline' or eval.
func TestDocsPageLoadsUnderItsPolicy(t *testing.T) {
	t.Parallel()
	g := newLimitedGateway(t, Deps{})
	resp, page := g.send(t, http.MethodGet, "/docs/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/docs/: %d", resp.StatusCode)
	}
	csp := limParseCSP(resp.Header.Get("Content-Security-Policy"))
	for _, want := range []struct{ directive, source string }{
		{"default-src", "'none'"}, {"script-src", "'self'"}, {"style-src", "'self'"}, {"img-src", "'self'"},
		{"img-src", "data:"}, {"connect-src", "'self'"}, {"frame-ancestors", "'none'"}, {"base-uri", "'none'"},
	} {
		if !csp.allows(want.directive, want.source) {
			t.Errorf("CSP %s lacks %s: %v", want.directive, want.source, csp)
		}
	}
	for directive, sources := range csp {
		for _, s := range sources {
			if s == "'unsafe-inline'" || s == "'unsafe-eval'" || s == "*" || strings.HasPrefix(s, "http") {
				t.Errorf("CSP %s allows %s", directive, s)
			}
		}
	}

	// The page's own inline blocks, hashed here independently of docs.go.
	inline := regexp.MustCompile(`(?s)<(script|style)>(.*?)</(?:script|style)>`)
	blocks := inline.FindAllSubmatch(page, -1)
	if len(blocks) == 0 {
		t.Fatal("the page has no inline script or style: is this still Swagger UI's page?")
	}
	for _, m := range blocks {
		sum := sha256.Sum256(m[2])
		hash := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
		if !csp.allows(string(m[1])+"-src", hash) {
			t.Errorf("inline %s %s is not allowed by the CSP", m[1], hash)
		}
	}

	// What the page loads, fetched as the browser would.
	wantType := map[string]string{"script": "javascript", "stylesheet": "text/css", "icon": "image/png"}
	refs := regexp.MustCompile(`<script src="([^"]+)"|<link rel="(stylesheet|icon)"[^>]*href="([^"]+)"`)
	loaded := map[string]bool{}
	for _, m := range refs.FindAllStringSubmatch(string(page), -1) {
		kind, ref := "script", m[1]
		if ref == "" {
			kind, ref = m[2], m[3]
		}
		if !strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "//") {
			t.Errorf("the page loads %s from elsewhere: %s", kind, ref)
			continue
		}
		resp, body := g.send(t, http.MethodGet, ref)
		if resp.StatusCode != http.StatusOK || len(body) == 0 || !strings.Contains(resp.Header.Get("Content-Type"), wantType[kind]) {
			t.Errorf("%s %s: %d %q (%d bytes)", kind, ref, resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
		}
		if kind == "stylesheet" {
			// url(...) in the stylesheet: data: URIs (img-src data:) or this gateway.
			for _, u := range regexp.MustCompile(`url\(\s*["']?([^"')]+)`).FindAllStringSubmatch(string(body), -1) {
				if !strings.HasPrefix(u[1], "data:") && (strings.Contains(u[1], "//") || strings.HasPrefix(u[1], "http")) {
					t.Errorf("the stylesheet loads %s", u[1])
				}
			}
		}
		loaded[kind] = true
	}
	for _, kind := range []string{"script", "stylesheet", "icon"} {
		if !loaded[kind] {
			t.Errorf("the page loads no %s: %s", kind, page)
		}
	}
}

type limCSP map[string][]string

func limParseCSP(header string) limCSP {
	p := limCSP{}
	for _, d := range strings.Split(header, ";") {
		fields := strings.Fields(d)
		if len(fields) > 0 {
			p[fields[0]] = fields[1:]
		}
	}
	return p
}

// allows reports whether directive (or default-src, when the policy does not set it)
// lists source.
func (p limCSP) allows(directive, source string) bool {
	sources, ok := p[directive]
	if !ok {
		sources = p["default-src"]
	}
	for _, s := range sources {
		if s == source {
			return true
		}
	}
	return false
}
