package sshkit

import (
	"errors"
	"sync"
)

// OnHosts calls fn(i, hosts[i]) for every host in parallel, as SSHKit's
// parallel runner does, with at most limit hosts in flight (0: no bound):
// a sliding window, where a host starts as soon as any other finishes.
// Every host runs to its end; the failures are then returned together in
// host order as a *FanOutError holding HostErrors (nil when none failed).
// A failure that already is a HostError of its host is kept as it is; any
// other is wrapped in one.
func OnHosts(hosts []string, limit int, fn func(i int, host string) error) error {
	if limit <= 0 {
		limit = len(hosts)
	}
	sem := make(chan struct{}, max(limit, 1))
	errs := make([]error, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = fn(i, h)
		}()
	}
	wg.Wait()
	var failed HostErrors
	var names []string
	for i, err := range errs {
		if err == nil {
			continue
		}
		var he *HostError
		if !errors.As(err, &he) || he.Host != DisplayHost(hosts[i]) {
			he = &HostError{Host: DisplayHost(hosts[i]), Err: err}
		}
		failed = append(failed, he)
		names = append(names, hosts[i])
	}
	if len(failed) > 0 {
		return &FanOutError{HostErrors: failed, Hosts: hosts, Failed: names}
	}
	return nil
}
