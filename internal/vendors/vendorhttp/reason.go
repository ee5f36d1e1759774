package vendorhttp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/url"
	"syscall"

	"github.com/customergateway/gateway/internal/model"
)

// Reason says what kind of transport failure err is, in words a caller of the gateway may
// read: never a host name, an address, a port or a URL, which tell an outsider where the
// gateway's upstreams are (a DNS error names the host and the resolver's address, a dial
// error both ends of the connection, a certificate error every name the certificate
// holds). The error itself, with those details, is for the logs.
func Reason(err error) string {
	var (
		ue      *url.Error
		dnsErr  *net.DNSError
		certErr *tls.CertificateVerificationError
		unknown x509.UnknownAuthorityError
		hostErr x509.HostnameError
		invalid x509.CertificateInvalidError
		alert   tls.AlertError
		record  tls.RecordHeaderError
		opErr   *net.OpError
		netErr  net.Error
	)
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.Canceled):
		return "the call was cancelled"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "no answer in time"
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return "its host name does not resolve"
	case errors.As(err, &dnsErr):
		return "its host name could not be resolved"
	case errors.As(err, &certErr), errors.As(err, &unknown), errors.As(err, &hostErr), errors.As(err, &invalid):
		return "its TLS certificate was not accepted"
	case errors.As(err, &alert), errors.As(err, &record):
		return "the TLS handshake failed"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection reset"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "no route to its host"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the connection closed before a whole answer"
	case errors.As(err, &opErr) && opErr.Op == "proxyconnect":
		return "the outbound proxy could not be reached"
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return "could not connect"
	case errors.As(err, &ue) && ue.Op == "parse":
		return "its base URL is not a valid URL"
	}
	return "transport failure"
}

// Describe is err as a caller of the gateway may read it: a vendor's own answer
// (*model.VendorError) as it is, a transport failure as its Reason, and anything else as a
// fixed phrase, since its text may hold an address (a database's, a proxy's) this package
// cannot see to mask. The error itself is for the logs.
func Describe(err error) string {
	var (
		ve *model.VendorError
		ue *url.Error
		ne net.Error
	)
	switch {
	case err == nil:
		return ""
	case errors.As(err, &ve):
		return ve.Error()
	case errors.As(err, &ue), errors.As(err, &ne), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, context.Canceled), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return Reason(err)
	}
	return "the call failed"
}
