package sshkit

import (
	"errors"
	"sync/atomic"
	"testing"
)

func TestOnHostsRunsEveryHostAndReturnsFailuresInHostOrder(t *testing.T) {
	var ran atomic.Int32
	hosts := []string{"a", "b", "c", "d"}
	err := OnHosts(hosts, 0, func(i int, h string) error {
		ran.Add(1)
		switch h {
		case "b":
			return &HostError{Host: "b", Err: errors.New("kept")}
		case "c":
			return errors.New("wrapped")
		case "d":
			return &HostError{Host: "x", Err: errors.New("of another host")}
		}
		return nil
	})
	if ran.Load() != 4 {
		t.Errorf("%d hosts ran, want 4", ran.Load())
	}
	want := "Exceptions on 3 hosts:\n" +
		"Exception while executing on host b: kept\n" +
		"Exception while executing on host c: wrapped\n" +
		"Exception while executing on host d: Exception while executing on host x: of another host"
	if err == nil || err.Error() != want {
		t.Errorf("err =\n%v\nwant\n%s", err, want)
	}
}

func TestOnHostsWithoutFailuresIsNil(t *testing.T) {
	if err := OnHosts([]string{"a", "b"}, 1, func(int, string) error { return nil }); err != nil {
		t.Errorf("err = %v", err)
	}
	if err := OnHosts(nil, 0, func(int, string) error { return errors.New("never") }); err != nil {
		t.Errorf("no hosts: err = %v", err)
	}
}
