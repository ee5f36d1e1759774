package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"regexp"
	"strings"

	"github.com/swaggest/swgui/v5emb"
)

func handleOpenAPI(document []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(document)
	})
}

// handleDocs serves Swagger UI from assets embedded in the binary (no CDN), pointed at
// /openapi.yaml so "Try it out" calls this gateway, under docsCSP.
func handleDocs() http.Handler {
	ui := v5emb.New("Customer gateway", "/openapi.yaml", "/docs/")
	csp := docsCSP(ui)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		ui.ServeHTTP(w, r)
	})
}

// docsCSP is the docs page's Content-Security-Policy: its scripts, styles and images come
// from this gateway only ('self'; Swagger UI's stylesheet draws some icons as data: URIs),
// it fetches the document and "Try it out" calls from here only, and nothing may frame it.
// The page's own inline <script> and <style> blocks are allowed by their SHA-256, read
// from the page as ui renders it, so the policy follows a new Swagger UI release without
// 'unsafe-inline'; the bundle needs no eval.
func docsCSP(ui http.Handler) string {
	scripts, styles := inlineHashes(renderPage(ui, "/docs/"))
	return "default-src 'none'" +
		"; script-src 'self'" + scripts +
		"; style-src 'self'" + styles +
		"; img-src 'self' data:" +
		"; connect-src 'self'" +
		"; font-src 'self'" +
		"; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

var (
	inlineScript = regexp.MustCompile(`(?is)<script(\s[^>]*)?>(.*?)</script>`)
	inlineStyle  = regexp.MustCompile(`(?is)<style(\s[^>]*)?>(.*?)</style>`)
	srcAttr      = regexp.MustCompile(`(?i)\ssrc\s*=`)
)

// inlineHashes lists the CSP hash sources (" 'sha256-...'") of page's inline scripts and
// styles. A script with a src loads from its URL; its (empty) text needs no hash.
func inlineHashes(page []byte) (scripts, styles string) {
	var s, st strings.Builder
	for _, m := range inlineScript.FindAllSubmatch(page, -1) {
		if !srcAttr.Match(m[1]) {
			s.WriteString(" " + hashSource(m[2]))
		}
	}
	for _, m := range inlineStyle.FindAllSubmatch(page, -1) {
		st.WriteString(" " + hashSource(m[2]))
	}
	return s.String(), st.String()
}

func hashSource(text []byte) string {
	sum := sha256.Sum256(text)
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// renderPage is what h answers a GET of path with; Swagger UI's page depends on its
// configuration only, never on the request.
func renderPage(h http.Handler, path string) []byte {
	req, err := http.NewRequest(http.MethodGet, path, nil)
	if err != nil {
		panic("docs: " + err.Error()) // path is a constant
	}
	rec := &pageRecorder{header: http.Header{}}
	h.ServeHTTP(rec, req)
	return rec.body.Bytes()
}

// pageRecorder is the least http.ResponseWriter renderPage needs.
type pageRecorder struct {
	header http.Header
	body   bytes.Buffer
}

func (p *pageRecorder) Header() http.Header         { return p.header }
func (p *pageRecorder) Write(b []byte) (int, error) { return p.body.Write(b) }
func (p *pageRecorder) WriteHeader(int)             {}
