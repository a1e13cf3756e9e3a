package sshurl

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want URL
		err  string
	}{
		{in: "ssh://root@server1", want: URL{User: "root", Host: "server1"}},
		{in: "ssh://app@10.0.0.1:2222", want: URL{User: "app", Host: "10.0.0.1", Port: 2222}},
		{in: "ssh://[::1]:22/", want: URL{Host: "::1", Port: 22}},
		{in: "ssh://server1", want: URL{Host: "server1"}},
		{in: "ssh://u:pw@server1", err: "plain-text password is not supported"},
		{in: "ssh://server1/some/path", err: "a path is not allowed"},
		{in: "ssh://server1?x=1", err: "query parameters are not allowed"},
		{in: "ssh://server1:99999", err: `bad port "99999"`},
		{in: "tcp://server1", err: "incorrect scheme: tcp"},
		{in: "ssh://", err: "hostname is empty"},
	} {
		got, err := Parse(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Parse(%q) = %+v, %v; want error containing %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}
