package vendorhttp

import "context"

// RequestIDHeader carries, on every call to a vendor, the id of the gateway request the
// call serves (the caller's X-Request-Id, or the one the gateway made): a vendor's support
// can find the call by the id the caller and the gateway's logs know it by.
const RequestIDHeader = "X-Request-Id"

// requestIDKey finds the request id in a call's context.
type requestIDKey struct{}

// WithRequestID is ctx whose vendor calls carry id as X-Request-Id; an empty id leaves ctx
// as it is.
func WithRequestID(ctx context.Context, id string) context.Context {
	if id == "" {
		return ctx
	}
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID is the request id WithRequestID put in ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
