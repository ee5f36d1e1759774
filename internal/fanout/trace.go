package fanout

import (
	"context"
	"errors"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/customergateway/gateway/internal/model"
	"github.com/customergateway/gateway/internal/tracing"
	"github.com/customergateway/gateway/internal/vendors"
	"github.com/customergateway/gateway/internal/vendors/vendorhttp"
)

// traceAttempt, inside countAttempt, makes each call that reaches vendor v a child span of
// the delivery's: the vendor, the attempt's number, and how it ended (status, the vendor's
// code, and why it is worth another attempt). Outside a recorded trace (tracing off) it
// only calls next.
func traceAttempt(v model.Vendor) Wrapper {
	return func(next vendors.Call) vendors.Call {
		return func(ctx context.Context, req *model.Request) ([]byte, error) {
			if !trace.SpanFromContext(ctx).IsRecording() {
				return next(ctx, req)
			}
			ctx, span := tracing.Tracer().Start(ctx, "vendor "+string(v), trace.WithSpanKind(trace.SpanKindClient))
			defer span.End()
			span.SetAttributes(attribute.String("vendor", string(v)), attribute.Int("attempt", attemptOf(ctx)))
			body, err := next(ctx, req)
			endAttempt(span, err)
			return body, err
		}
	}
}

// attemptOf is the number of the attempt ctx's delivery is making (countAttempt's count).
func attemptOf(ctx context.Context) int {
	if n, ok := ctx.Value(attemptsKey{}).(*atomic.Int32); ok {
		return int(n.Load())
	}
	return 0
}

// endAttempt records on span how the attempt ended; never a field value.
func endAttempt(span trace.Span, err error) {
	if err == nil {
		span.SetAttributes(attribute.String("status", string(model.StatusOK)))
		return
	}
	status := model.StatusRejected
	if model.IsRetryable(err) {
		status = model.StatusFailed
		span.SetAttributes(attribute.String("retry.reason", vendorhttp.Describe(err)))
	}
	span.SetAttributes(attribute.String("status", string(status)))
	var ve *model.VendorError
	if errors.As(err, &ve) {
		span.SetAttributes(attribute.Int("vendor.code", ve.Code))
	}
	span.SetStatus(codes.Error, string(status))
}
