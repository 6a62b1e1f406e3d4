package webhooks

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ClientOptions configure the outbound HTTP client. The zero value is the
// production setting: https only, public addresses only.
type ClientOptions struct {
	// AllowHTTP permits plain http:// endpoint URLs. Production leaves it
	// false; tests against httptest servers set it.
	AllowHTTP bool
	// AllowLoopbackForTests lets the dial guard connect to 127.0.0.0/8 and
	// ::1, so that tests can deliver to an httptest server. Every other
	// blocked range stays blocked. Never set it in production: loopback is
	// how a webhook reaches the function's own instance.
	AllowLoopbackForTests bool
	// Timeout bounds one request, from dial to the end of the body.
	// Zero means 10s.
	Timeout time.Duration
}

// blocked are the ranges no webhook may reach: private, shared, loopback,
// link-local (including the 169.254.169.254 metadata server), unspecified,
// multicast, reserved, documentation and benchmarking networks.
var blocked = prefixes(
	"0.0.0.0/8",       // "this network", including the unspecified 0.0.0.0
	"10.0.0.0/8",      // RFC 1918
	"100.64.0.0/10",   // RFC 6598 carrier-grade NAT
	"127.0.0.0/8",     // loopback
	"169.254.0.0/16",  // link-local, cloud metadata servers
	"172.16.0.0/12",   // RFC 1918
	"192.0.0.0/24",    // IETF protocol assignments
	"192.0.2.0/24",    // TEST-NET-1
	"192.168.0.0/16",  // RFC 1918
	"198.18.0.0/15",   // benchmarking
	"198.51.100.0/24", // TEST-NET-2
	"203.0.113.0/24",  // TEST-NET-3
	"224.0.0.0/4",     // multicast
	"240.0.0.0/4",     // reserved, including broadcast
	"::/96",           // unspecified, loopback and IPv4-compatible
	"100::/64",        // discard-only
	"2001:db8::/32",   // documentation
	"fc00::/7",        // RFC 4193 unique local
	"fe80::/10",       // link-local
	"fec0::/10",       // deprecated site-local
	"ff00::/8",        // multicast
)

// nat64 and sixToFour are IPv6 ranges that carry an IPv4 address a gateway
// will reach: the address inside is checked as well.
var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96") // IPv4 in the last 32 bits
	sixToFour = netip.MustParsePrefix("2002::/16")    // IPv4 in bits 16-47
)

func prefixes(ss ...string) []netip.Prefix {
	ps := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		ps[i] = netip.MustParsePrefix(s)
	}
	return ps
}

// checkAddr returns an error wrapping ErrForbidden if a webhook must not
// connect to ip.
func checkAddr(ip netip.Addr, allowLoopback bool) error {
	ip = ip.Unmap() // ::ffff:127.0.0.1 is 127.0.0.1
	if !ip.IsValid() {
		return fmt.Errorf("%w: invalid address", ErrForbidden)
	}
	if allowLoopback && ip.IsLoopback() { // 127.0.0.0/8 and ::1 only
		return nil
	}
	for _, p := range blocked {
		if p.Contains(ip) {
			return fmt.Errorf("%w: %s is in %s", ErrForbidden, ip, p)
		}
	}
	var inner netip.Addr
	switch b := ip.As16(); {
	case nat64.Contains(ip):
		inner = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	case sixToFour.Contains(ip):
		inner = netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]})
	default:
		return nil
	}
	if err := checkAddr(inner, false); err != nil {
		return fmt.Errorf("%w (embedded in %s)", err, ip)
	}
	return nil
}

// control runs after name resolution, just before each connect: the address
// checked is the one the socket will reach, so DNS rebinding and names that
// resolve to internal addresses are caught.
func control(allowLoopback bool) func(network, address string, _ syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		if !strings.HasPrefix(network, "tcp") {
			return fmt.Errorf("%w: network %s", ErrForbidden, network)
		}
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("%w: address %q: %w", ErrForbidden, address, err)
		}
		return checkAddr(ap.Addr(), allowLoopback)
	}
}

// NewClient returns the HTTP client webhooks are sent with. It dials through
// the SSRF guard (see the package doc), never uses a proxy (a proxy would
// make the guard check the proxy, not the target), follows no redirects (a
// 3xx is returned as is and counts as a failed delivery) and bounds every
// phase of a request.
func NewClient(o ClientOptions) *http.Client {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	dialer := &net.Dialer{
		Timeout:   5 * time.Second,
		KeepAlive: 30 * time.Second,
		Control:   control(o.AllowLoopbackForTests),
	}
	return &http.Client{
		Timeout: o.Timeout,
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           dialer.DialContext,
			ForceAttemptHTTP2:     true,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: o.Timeout,
			ExpectContinueTimeout: time.Second,
			MaxIdleConns:          32,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       60 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// CheckURL validates an endpoint URL before it is stored: an absolute https
// URL (http only with AllowHTTP), a host, no credentials, and, when the host
// is a literal address, an allowed one. Host names are checked again at every
// dial, since what they resolve to can change.
func CheckURL(raw string, o ClientOptions) (*url.URL, error) {
	if len(raw) > maxURLLen {
		return nil, fmt.Errorf("%w: URL longer than %d bytes", ErrInvalid, maxURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: URL: %w", ErrInvalid, err)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && o.AllowHTTP:
	default:
		return nil, fmt.Errorf("%w: URL scheme %q: webhooks are sent over https only", ErrInvalid, u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("%w: URL has no host", ErrInvalid)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%w: URL must not carry credentials", ErrInvalid)
	}
	if u.Fragment != "" {
		return nil, fmt.Errorf("%w: URL must not have a fragment", ErrInvalid)
	}
	if ip, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil {
		if err := checkAddr(ip, o.AllowLoopbackForTests); err != nil {
			return nil, fmt.Errorf("%w: URL host: %w", ErrInvalid, err)
		}
	}
	return u, nil
}

// maxURLLen bounds stored endpoint URLs.
const maxURLLen = 2048
