package sshkit

// FanOutError is a parallel step (OnHosts, and so the on() builtin) that
// failed on some of its hosts. It reads and classifies exactly as its
// HostErrors (SSHKit's "Exceptions on N hosts:" lines); what it adds is
// the step's whole host list, so that the failure can be counted ("2 of
// 3 hosts") and retried on the failed hosts alone.
type FanOutError struct {
	HostErrors
	Hosts  []string // every host of the step, as it was given
	Failed []string // the hosts that failed, as given, in host order
}

// Unwrap is the HostErrors, for errors.As and for the classification
// that walks errors.Unwrap.
func (e *FanOutError) Unwrap() error { return e.HostErrors }
