package zentra

import (
	"crypto/x509"
	"errors"
	"io"
	"net"
	"syscall"
)

// isX509 says whether err is a certificate the client does not trust.
func isX509(err error) bool {
	var (
		authority x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
	)
	return errors.As(err, &authority) || errors.As(err, &hostname) || errors.As(err, &invalid)
}

// isRefused says whether the connection was refused: nothing was sent.
func isRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }

// isClosed says whether the connection ended before a complete answer.
func isClosed(err error) bool {
	for _, target := range []error{io.EOF, io.ErrUnexpectedEOF, syscall.ECONNRESET, syscall.EPIPE, syscall.ECONNABORTED, net.ErrClosed} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
