// Package ipfilter decides which client addresses may call: the client's
// address as seen through a configured number of trusted proxies, allow and
// deny CIDR lists (the platform's from configuration, each tenant's from
// the admin API), and temporary bans whose length doubles with each strike.
package ipfilter

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ClientIP returns the address of the client that sent r. With
// trustedProxies = 0 it is the connection's peer (RemoteAddr). With N > 0,
// N proxies we run or trust (Google's front end, a load balancer) each
// appended the address they received from to X-Forwarded-For, so the
// client is the N-th entry from the right; entries further left were
// written by the client and are never believed. A request that carries
// fewer entries than that did not come through the proxies: its peer
// address is used.
func ClientIP(r *http.Request, trustedProxies int) netip.Addr {
	peer := peerAddr(r.RemoteAddr)
	if trustedProxies <= 0 {
		return peer
	}
	var entries []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		for e := range strings.SplitSeq(v, ",") {
			entries = append(entries, strings.TrimSpace(e))
		}
	}
	if len(entries) < trustedProxies {
		return peer
	}
	a, err := netip.ParseAddr(entries[len(entries)-trustedProxies])
	if err != nil {
		return peer
	}
	return a.Unmap()
}

func peerAddr(remote string) netip.Addr {
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		return ap.Addr().Unmap()
	}
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// List is a set of CIDR prefixes.
type List []netip.Prefix

// ParseList parses CIDRs or bare addresses (a /32 or /128).
func ParseList(items []string) (List, error) {
	var l List
	for _, s := range items {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		p, err := ParsePrefix(s)
		if err != nil {
			return nil, err
		}
		l = append(l, p)
	}
	return l, nil
}

// ParsePrefix parses one CIDR or bare address, masked to its prefix.
func ParsePrefix(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("ipfilter: %q is neither an address nor a CIDR (like 203.0.113.0/24)", s)
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("ipfilter: %q is not a CIDR (like 203.0.113.0/24 or 2001:db8::/32): %w", s, err)
	}
	return p.Masked(), nil
}

// Contains reports whether a is in any prefix of l.
func (l List) Contains(a netip.Addr) bool {
	for _, p := range l {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Strings returns the prefixes in CIDR form.
func (l List) Strings() []string {
	out := make([]string, len(l))
	for i, p := range l {
		out[i] = p.String()
	}
	return out
}

// Rules is an allow and a deny list: deny wins; a non-empty allow list
// admits only its addresses.
type Rules struct {
	Allow List
	Deny  List
}

// Decision says why an address was refused ("" when admitted).
type Decision string

// Refusal reasons.
const (
	Admitted   Decision = ""
	Denied     Decision = "denied"      // in the deny list
	NotAllowed Decision = "not_allowed" // outside a non-empty allow list
	Banned     Decision = "banned"      // temporarily banned
	Unknown    Decision = "unknown"     // no usable address
)

// Check decides a under r.
func (r Rules) Check(a netip.Addr) Decision {
	if len(r.Allow) == 0 && len(r.Deny) == 0 {
		return Admitted
	}
	if !a.IsValid() {
		return Unknown
	}
	if r.Deny.Contains(a) {
		return Denied
	}
	if len(r.Allow) > 0 && !r.Allow.Contains(a) {
		return NotAllowed
	}
	return Admitted
}
