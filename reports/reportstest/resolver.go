// Package reportstest holds fakes for tests of the reports service.
package reportstest

import (
	"context"
	"net"
	"net/netip"
	"sync"
)

// Resolver answers webhook host lookups (reports.Deps.Resolver) from a
// table, so tests never depend on the machine's DNS. A name not in the
// table does not exist. Set may change an answer while the service runs
// (DNS rebinding).
type Resolver struct {
	mu    sync.Mutex
	hosts map[string][]netip.Addr
}

// NewResolver returns a Resolver answering hosts (name → addresses).
func NewResolver(hosts map[string][]string) *Resolver {
	r := &Resolver{hosts: map[string][]netip.Addr{}}
	for h, addrs := range hosts {
		r.Set(h, addrs...)
	}
	return r
}

// Set makes host resolve to addrs.
func (r *Resolver) Set(host string, addrs ...string) {
	out := make([]netip.Addr, len(addrs))
	for i, a := range addrs {
		out[i] = netip.MustParseAddr(a)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hosts[host] = out
}

// LookupNetIP implements reports.Resolver.
func (r *Resolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	addrs, ok := r.hosts[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return addrs, nil
}
