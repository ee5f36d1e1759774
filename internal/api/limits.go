package api

import (
	"bytes"
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Limits (DESIGN.md 7): what one request may hold, how much the gateway takes on at once,
// and how often one caller may ask, so that no caller, and no number of callers, can take
// its memory. The connection count is bounded at the listener (cmd/gateway).

// isProbe reports whether r is a health or readiness probe. Probes are exempt from the
// load and rate limits: they are cheap, and a busy replica that failed its liveness probe
// would be restarted and one that failed readiness taken out of the pool, each making an
// overload worse. A load balancer's probes also share a source address with the traffic
// it forwards, so a per-address limit would fail them exactly when that traffic peaks.
func isProbe(r *http.Request) bool {
	return r.URL.Path == "/healthz" || r.URL.Path == "/readyz"
}

// shedLoad answers 503 with Retry-After, at once and before reading the body, a request
// past maxRequests being answered at once or whose body would take the bodies being
// answered past maxBodyBytes (0: no bound). A body is counted at its Content-Length, or at
// maxBody (the most limitBody lets through) when its length is unknown; the memory a
// request holds is a few times its body (decoded, validated, copied), so the byte bound is
// what keeps many large bodies from taking the heap while the request bound is far off.
func shedLoad(maxRequests int, maxBodyBytes, maxBody int64, exempt func(*http.Request) bool) func(http.Handler) http.Handler {
	var requests, bodyBytes atomic.Int64
	return func(next http.Handler) http.Handler {
		if maxRequests <= 0 && maxBodyBytes <= 0 {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if exempt != nil && exempt(r) {
				next.ServeHTTP(w, r)
				return
			}
			if maxRequests > 0 {
				if requests.Add(1) > int64(maxRequests) {
					requests.Add(-1)
					overloaded(w, r, "too many requests are being answered; retry after Retry-After seconds")
					return
				}
				defer requests.Add(-1)
			}
			if weight := bodyWeight(r, maxBody); maxBodyBytes > 0 && weight > 0 {
				if bodyBytes.Add(weight) > maxBodyBytes {
					bodyBytes.Add(-weight)
					overloaded(w, r, "too many request bodies are being read; retry after Retry-After seconds")
					return
				}
				defer bodyBytes.Add(-weight)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// bodyWeight is what r's body counts for against the bodies in flight.
func bodyWeight(r *http.Request, maxBody int64) int64 {
	switch {
	case r.Body == nil || r.Body == http.NoBody:
		return 0
	case r.ContentLength >= 0:
		return min(r.ContentLength, maxBody)
	}
	return maxBody // chunked: as much as limitBody lets through
}

// overloadRetryAfter is the Retry-After of a 503: the load it answers changes from one
// moment to the next.
const overloadRetryAfter = "1"

func overloaded(w http.ResponseWriter, r *http.Request, detail string) {
	w.Header().Set("Retry-After", overloadRetryAfter)
	writeProblem(w, r, Problem{Type: "overloaded", Title: "The gateway is answering as many requests as it can", Status: http.StatusServiceUnavailable, Detail: detail})
}

// RateLimit is each caller's request budget: Rate requests a second on average, in bursts
// of up to Burst.
type RateLimit struct {
	// Rate is requests a second; 0 turns the limit off.
	Rate float64
	// Burst is how many requests a caller that has been quiet may send at once.
	Burst int
	// MaxCallers bounds the callers remembered; past it the least recently seen is
	// forgotten (and starts again with a full burst). 0: DefaultMaxCallers.
	MaxCallers int
}

// DefaultMaxCallers bounds the callers a rate limit remembers: an attacker with many
// identities (addresses, keys) cannot grow the gateway's memory past it, about 300 bytes
// each.
const DefaultMaxCallers = 10_000

// maxKeyBytes is the longest caller key kept as it is; a longer one is kept as its SHA-256,
// so MaxCallers bounds the memory whatever the keys.
const maxKeyBytes = 64

// rateLimited answers 429 with Retry-After a request whose caller has used up its budget.
// key names the caller (once authentication is in, the caller's name); an empty key falls
// back to clientIP, so requests with no caller are limited by where they come from.
//
// The budgets are shared by every handler the middleware wraps, so it may go on each route
// after that route's authentication (r.With) and still be one budget per caller.
func rateLimited(rl RateLimit, key func(*http.Request) string, exempt func(*http.Request) bool) func(http.Handler) http.Handler {
	callers := newCallerLimits(rl)
	return func(next http.Handler) http.Handler {
		if !(rl.Rate > 0) {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if exempt != nil && exempt(r) {
				next.ServeHTTP(w, r)
				return
			}
			k := ""
			if key != nil {
				k = key(r)
			}
			if k == "" {
				k = clientIP(r)
			}
			if wait, ok := callers.take(k, time.Now()); !ok {
				w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(wait)))
				writeProblem(w, r, Problem{Type: "rate-limited", Title: "Too many requests from this caller", Status: http.StatusTooManyRequests,
					Detail: "the caller's request rate is over GATEWAY_RATE_LIMIT; retry after Retry-After seconds"})
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// retryAfterSeconds is wait in whole seconds, rounded up, at least 1 (Retry-After has no
// fractions, and 0 would invite a retry that is refused again).
func retryAfterSeconds(wait time.Duration) int {
	return max(1, int(math.Ceil(wait.Seconds())))
}

// callerLimits is a token bucket per caller, the least recently seen forgotten first.
type callerLimits struct {
	limit rate.Limit
	burst int
	max   int

	mu    sync.Mutex
	byKey map[string]*list.Element
	order *list.List // of *callerLimit, most recently seen first
}

type callerLimit struct {
	key     string
	limiter *rate.Limiter
}

func newCallerLimits(rl RateLimit) *callerLimits {
	maxCallers := rl.MaxCallers
	if maxCallers <= 0 {
		maxCallers = DefaultMaxCallers
	}
	return &callerLimits{limit: rate.Limit(rl.Rate), burst: max(rl.Burst, 1), max: maxCallers,
		byKey: make(map[string]*list.Element), order: list.New()}
}

// take spends one of key's tokens at now; when there is none it spends nothing and says
// how long until there is.
func (c *callerLimits) take(key string, now time.Time) (wait time.Duration, ok bool) {
	res := c.limiter(key).ReserveN(now, 1)
	if !res.OK() {
		return time.Second, false // cannot happen with a burst of at least 1
	}
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now) // a refused request costs the caller nothing
		return d, false
	}
	return 0, true
}

// size is the number of callers remembered.
func (c *callerLimits) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

func (c *callerLimits) limiter(key string) *rate.Limiter {
	if len(key) > maxKeyBytes {
		sum := sha256.Sum256([]byte(key))
		key = hex.EncodeToString(sum[:])
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[key]; ok {
		c.order.MoveToFront(e)
		return e.Value.(*callerLimit).limiter
	}
	if c.order.Len() >= c.max {
		// Reuse the oldest entry's memory for the newcomer.
		e := c.order.Back()
		cl := e.Value.(*callerLimit)
		delete(c.byKey, cl.key)
		cl.key, cl.limiter = key, rate.NewLimiter(c.limit, c.burst)
		c.byKey[key] = e
		c.order.MoveToFront(e)
		return cl.limiter
	}
	cl := &callerLimit{key: key, limiter: rate.NewLimiter(c.limit, c.burst)}
	c.byKey[key] = c.order.PushFront(cl)
	return cl.limiter
}

// clientIP is the address the connection comes from, r.RemoteAddr: never X-Forwarded-For
// or Forwarded, which whoever sends the request writes. An IPv6 address counts by its /64,
// which one subscriber commonly holds whole and could otherwise walk through.
func clientIP(r *http.Request) string {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			return host
		}
		return r.RemoteAddr
	}
	a := ap.Addr().Unmap().WithZone("")
	if a.Is6() {
		if p, err := a.Prefix(64); err == nil {
			return p.String()
		}
	}
	return a.String()
}

// The most values and the deepest nesting a JSON body may have. A customer update has a
// few hundred values at most (50 attributes, 100 tags); a 1 MB body of "[1,1,1,...]" has
// half a million, and decoding it for the schema check takes about 120 MB, so bounding
// the bytes alone leaves the memory a hundred times the bound.
const (
	maxJSONValues = 10_000
	maxJSONDepth  = 32
)

// stringEnd is the index of the quote that closes the JSON string opened at body[open],
// len(body) when none does. It jumps from quote to quote (bytes.IndexByte, not a state
// per byte): a quote after an odd run of backslashes is escaped, and no escape holds a
// quote or a backslash but as its second character. The scanners of a raw body
// (jsonShapeWithin, readDifferently) skip strings with it and look only at what is outside.
func stringEnd(body []byte, open int) int {
	for i := open + 1; i < len(body); i++ {
		k := bytes.IndexByte(body[i:], '"')
		if k < 0 {
			break
		}
		i += k
		backslashes := 0
		for j := i - 1; j > open && body[j] == '\\'; j-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			return i
		}
	}
	return len(body)
}

// jsonShapeWithin reports whether body, read as JSON, holds at most maxJSONValues values
// nested at most maxJSONDepth deep; it scans the bytes once and allocates nothing, so it
// can run before anything decodes the body. It counts, it does not validate: a malformed
// body is the contract check's to refuse.
func jsonShapeWithin(body []byte) (ok bool, detail string) {
	values, depth, maxDepth := 1, 0, 0
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '"':
			i = stringEnd(body, i)
		case '{', '[':
			depth++
			maxDepth = max(maxDepth, depth)
		case '}', ']':
			depth--
		case ',':
			values++
		}
	}
	switch {
	case maxDepth > maxJSONDepth:
		return false, "the body nests deeper than " + strconv.Itoa(maxJSONDepth) + " levels"
	case values > maxJSONValues:
		return false, "the body holds more than " + strconv.Itoa(maxJSONValues) + " values"
	}
	return true, ""
}
