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

func TestOnHostsCountsTheFailedHostsOfTheStep(t *testing.T) {
	hosts := []string{"a", "ssh://deploy@b:2222", "c"}
	err := OnHosts(hosts, 2, func(i int, h string) error {
		if i == 1 {
			return errors.New("down")
		}
		return nil
	})
	var fo *FanOutError
	if !errors.As(err, &fo) {
		t.Fatalf("err %T is no FanOutError", err)
	}
	if len(fo.Hosts) != 3 || len(fo.Failed) != 1 || fo.Failed[0] != hosts[1] {
		t.Errorf("hosts %q, failed %q", fo.Hosts, fo.Failed)
	}
	var he *HostError
	if !errors.As(err, &he) || he.Host != "b" {
		t.Errorf("no HostError of b through the FanOutError: %v", he)
	}
	if want := "Exception while executing on host b: down"; err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
}
