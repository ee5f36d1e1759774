package fanout

import (
	"sync"
	"time"

	"github.com/panjf2000/ants/v2"
)

// Vendor calls run on goroutines kept between updates rather than on new ones. A new
// goroutine starts with a small stack, and a vendor call (its policies, the HTTP client,
// the vendor's encoding) is deep enough to grow it, by copying, more than once: stack
// growth was 7.9% of the storeless gateway's CPU under make bench's load (CPU profile),
// 2.2% on kept goroutines. ants keeps them; one idle for callerIdle ends.
const callerIdle = time.Second

var callers = sync.OnceValue(func() *ants.Pool {
	p, err := ants.NewPool(-1, // no bound of its own: the server's limits bound the updates in flight
		ants.WithExpiryDuration(callerIdle),
		// A panic outside the call's own recover (Policy's) stops the process, as it does
		// on a goroutine of its own; ants would log it and go on, and Deliver would wait
		// for its deadline.
		ants.WithPanicHandler(func(v any) { panic(v) }),
	)
	if err != nil {
		panic(err) // only for an invalid expiry, a constant
	}
	return p
})

// goCall runs fn on a kept goroutine, or on a new one should the pool refuse it.
func goCall(fn func()) {
	if err := callers().Submit(fn); err != nil {
		go fn()
	}
}
