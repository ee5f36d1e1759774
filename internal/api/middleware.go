package api

import (
	"context"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/customergateway/gateway/internal/tracing"
	"github.com/customergateway/gateway/internal/vendors/vendorhttp"
)

type ctxKey int

const requestIDKey ctxKey = iota

// RequestIDHeader carries the request id in and out.
const RequestIDHeader = "X-Request-Id"

func requestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// validRequestID accepts a caller's id matching ^[A-Za-z0-9._:-]{1,128}$ (a UUID, a
// trace id, "svc:1234"); anything else is replaced, so a log line can never be forged
// through the header, and an email or a phone number sent as an id never lands in the
// logs ('@' and '+' are not in the set).
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}

// apiCSP is the Content-Security-Policy of every answer but the docs page's (docsCSP): an
// answer of this API is data, never a page, so nothing in it may run, load or be framed.
const apiCSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// securityHeaders puts on every answer, problems and probes too: nosniff, so a browser
// never runs a JSON or YAML answer as something else, and a policy that lets no page frame
// this one. The docs set their own Content-Security-Policy over apiCSP.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", apiCSP)
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

// headAsGet answers HEAD wherever GET is answered and no HEAD route is: the handler, the
// contract check and the logs' route see a GET, and net/http, which knows the request was
// a HEAD, sends the headers (Content-Length included) and drops the body.
func headAsGet(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			if routes := chi.RouteContext(r.Context()).Routes; routes != nil {
				path := routePath(r)
				if !routes.Match(chi.NewRouteContext(), http.MethodHead, path) && routes.Match(chi.NewRouteContext(), http.MethodGet, path) {
					get := r.Clone(r.Context())
					get.Method = http.MethodGet
					r = get
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// routePath is the path chi routes r by.
func routePath(r *http.Request) string {
	if r.URL.RawPath != "" {
		return r.URL.RawPath
	}
	if r.URL.Path == "" {
		return "/"
	}
	return r.URL.Path
}

// routedMethods are the methods an Allow header may list.
var routedMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// allowedMethods lists the methods r's path is routed for, HEAD with GET (headAsGet).
func allowedMethods(r *http.Request) []string {
	routes := chi.RouteContext(r.Context()).Routes
	if routes == nil {
		return nil
	}
	path := routePath(r)
	var out []string
	for _, m := range routedMethods {
		if routes.Match(chi.NewRouteContext(), m, path) ||
			m == http.MethodHead && routes.Match(chi.NewRouteContext(), http.MethodGet, path) {
			out = append(out, m)
		}
	}
	return out
}

// methodNotAllowed answers 405 with the Allow header RFC 9110 asks for; a path no method
// is routed for (reached with a method chi does not know) is a 404.
func methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	allowed := allowedMethods(r)
	if len(allowed) == 0 {
		notFound(w, r)
		return
	}
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	writeProblem(w, r, Problem{Type: "method-not-allowed", Title: "Method not allowed", Status: http.StatusMethodNotAllowed,
		Detail: r.Method + " is not answered here; see Allow"})
}

func notFound(w http.ResponseWriter, r *http.Request) {
	writeProblem(w, r, Problem{Type: "not-found", Title: "Not found", Status: http.StatusNotFound, Detail: "no such endpoint; see /docs"})
}

// withRequestID takes the caller's X-Request-Id or makes one, puts it on the answer, gives
// every later log line of the request a logger that carries it, and every vendor call the
// request makes the header.
func withRequestID(logger zerolog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := r.Header.Get(RequestIDHeader)
			if !validRequestID(id) {
				id = uuid.NewString()
			}
			w.Header().Set(RequestIDHeader, id)
			lc := logger.With().Str("request_id", id)
			if trace := tracing.TraceID(r.Context()); trace != "" {
				lc = lc.Str("trace_id", trace) // the server span otelhttp started (NewServer)
			}
			l := lc.Logger()
			ctx := context.WithValue(l.WithContext(r.Context()), requestIDKey, id)
			// Every vendor call made for the request carries the id too (vendorhttp.Do).
			ctx = vendorhttp.WithRequestID(ctx, id)
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// accessLog writes one line per request with its status and duration, and feeds metrics.
// It logs the route pattern, not the query string, which may carry customer data.
func accessLog(observe func(route, method string, status int, d time.Duration)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			note := &requestNote{}
			next.ServeHTTP(ww, r.WithContext(context.WithValue(r.Context(), noteKey, note)))
			d := time.Since(start)
			route := routeLabel(r)
			nameSpan(r, route)
			if observe != nil {
				observe(route, methodLabel(r.Method), ww.Status(), d)
			}
			ev := zerolog.Ctx(r.Context()).Info().Str("method", r.Method).Str("route", route)
			if note.caller != "" {
				ev = ev.Str("caller", note.caller)
			}
			ev.Int("status", ww.Status()).Int("bytes", ww.BytesWritten()).
				Float64("duration_ms", float64(d.Microseconds())/1000).Msg("request")
		})
	}
}

// requestNote is what inner middleware learns of a request that the access log, outside
// it, reports: the caller, once authentication named it.
type requestNote struct{ caller string }

// noteKey finds the request's note in its context.
const noteKey ctxKey = iota + 200

// noteCaller tells the access log who the request's caller is.
func noteCaller(ctx context.Context, name string) {
	if n, ok := ctx.Value(noteKey).(*requestNote); ok {
		n.caller = name
	}
}

// routeLabel is the route pattern r was answered by, for logs and metrics. A request a
// limit answered before routing (413, 429, 503) is labelled with the route it was for;
// one for no route is "unmatched", a bounded label whatever the path.
func routeLabel(r *http.Request) string {
	rctx := chi.RouteContext(r.Context())
	if rctx == nil {
		return "unmatched"
	}
	if route := rctx.RoutePattern(); route != "" {
		return route
	}
	if rctx.Routes != nil {
		method := r.Method
		if method == http.MethodHead {
			method = http.MethodGet
		}
		if route := rctx.Routes.Find(chi.NewRouteContext(), method, routePath(r)); route != "" {
			return route
		}
	}
	return "unmatched"
}

// recoverer turns a panic into a 500 problem and a log line with the request id.
func recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if rec := recover(); rec != nil {
				if rec == http.ErrAbortHandler {
					panic(rec)
				}
				zerolog.Ctx(r.Context()).Error().Interface("panic", rec).Msg("handler panicked")
				internalError(w, r)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// limitBody caps what a request body may hold, on every route and for every method: a
// declared length over max is a 413 before a byte of the body is read (net/http then
// closes the connection rather than read the rest), and a body of unknown length stops at
// max, where its reader's error becomes a 413.
func limitBody(max int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > max {
				tooLarge(w, r)
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, max)
			next.ServeHTTP(w, r)
		})
	}
}

// methodLabel keeps the metrics' method label a bounded set: a client can send any word.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

// nameSpan names the request's server span by its route, known only once chi routed it
// (a bounded name: the pattern, never the path).
func nameSpan(r *http.Request, route string) {
	if span := trace.SpanFromContext(r.Context()); span.IsRecording() {
		span.SetName(r.Method + " " + route)
		span.SetAttributes(attribute.String("http.route", route))
	}
}
