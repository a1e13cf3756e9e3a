package log

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestCommandLinesReadLikeSSHKit(t *testing.T) {
	var out bytes.Buffer
	l := New(&out, false)
	c := &CommandLog{L: l, ID: "1a2b3c4d", Level: Info}
	l.SetThreshold(Debug)
	c.Start("docker pull app:1", "docker pull app:1", "on server1")
	c.Output("1: Pulling from app", false)
	c.Output("", false)
	c.Finish(123456789*time.Nanosecond, 0)
	want := "  INFO [1a2b3c4d] Running docker pull app:1 on server1\n" +
		" DEBUG [1a2b3c4d] Command: docker pull app:1\n" +
		" DEBUG [1a2b3c4d] \t1: Pulling from app\n" +
		" DEBUG [1a2b3c4d] \t\n" +
		"  INFO [1a2b3c4d] Finished in 0.123 seconds with exit status 0 (successful).\n"
	if out.String() != want {
		t.Fatalf("got\n%q\nwant\n%q", out.String(), want)
	}
}

func TestThresholds(t *testing.T) {
	tests := []struct {
		name      string
		threshold Level
		force     bool
		level     Level
		want      []string // line prefixes that print
	}{
		{"default hides debug", Info, false, Info, []string{"  INFO", "  INFO"}},
		{"verbose shows everything", Debug, false, Info, []string{"  INFO", " DEBUG", " DEBUG", "  INFO"}},
		{"quiet hides info", Error, false, Info, nil},
		{"capture is hidden by default", Info, false, Debug, nil},
		{"forced build output shows even when quiet", Error, true, Info, []string{"  INFO", " DEBUG", " DEBUG", "  INFO"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			l := New(&out, false)
			l.SetThreshold(tt.threshold)
			c := &CommandLog{L: l, ID: "00000000", Level: tt.level, Force: tt.force}
			c.Start("true", "true", "on localhost")
			c.Output("out", false)
			c.Finish(0, 0)
			var got []string
			for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
				if line != "" {
					got = append(got, line[:6])
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("printed %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSayIgnoresVerbosityAndColoursOnlyWhenAsked(t *testing.T) {
	var out bytes.Buffer
	l := New(&out, false)
	l.SetThreshold(Error)
	l.Say("Acquiring the deploy lock...", "magenta")
	l.Say("no newline after a trailing space ", "")
	if got := out.String(); got != "Acquiring the deploy lock...\nno newline after a trailing space " {
		t.Fatalf("got %q", got)
	}
	out.Reset()
	l = New(&out, true)
	l.Say("held", "red")
	if got := out.String(); got != "\x1b[31mheld\x1b[0m\n" {
		t.Fatalf("coloured say: got %q", got)
	}
}

func TestSecretsAreScrubbedFromEveryLine(t *testing.T) {
	var out bytes.Buffer
	l := New(&out, false)
	l.SetThreshold(Debug)
	l.AddSecret("hunter2-secret", "ab") // too short to scrub safely
	c := &CommandLog{L: l, ID: "00000000", Level: Info}
	c.Output("password is hunter2-secret, ab", false)
	l.Say("say hunter2-secret", "")
	l.Fatal("RuntimeError", "bad hunter2-secret")
	if strings.Contains(out.String(), "hunter2") {
		t.Fatalf("secret leaked:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "[REDACTED], ab") {
		t.Fatalf("want redaction marker and short values kept:\n%s", out.String())
	}
}

func TestScrubOnlyValuesThatCannotBeOrdinaryText(t *testing.T) {
	const token = "ghp_Zx81kQ0pLmN4vB7cR2tY9wE5uI3oA6sD"
	tests := []struct {
		name, secret, line, want string
	}{
		{"short_word_kept", "secret", "--secret id=\"a\" is secret", "--secret id=\"a\" is secret"},
		{"plain_word_kept", "production", "RAILS_ENV=production", "RAILS_ENV=production"},
		{"host_of_the_config_kept", "192.168.0.10", "ssh 192.168.0.10 failed", "ssh 192.168.0.10 failed"},
		{"inside_a_config_value_kept", "example99", "app.example99.com", "app.example99.com"},
		{"long_token_scrubbed", token, "token=" + token + ".", "token=[REDACTED]."},
		{"password_with_digits_scrubbed", "hunter2-secret", "pw hunter2-secret", "pw [REDACTED]"},
		{"long_passphrase_scrubbed", "correct horse battery", "pass: correct horse battery", "pass: [REDACTED]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			l := New(&out, false)
			l.SetThreshold(Debug)
			l.AddSecret(tt.secret)
			l.AddPlain("192.168.0.10", "app.example99.com")
			(&CommandLog{L: l, ID: "00000000", Level: Info}).Output(tt.line, false)
			if got := strings.TrimPrefix(strings.TrimSuffix(out.String(), "\n"), " DEBUG [00000000] \t"); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCommandLinesAreNeverScrubbed(t *testing.T) {
	var out bytes.Buffer
	l := New(&out, false)
	l.SetThreshold(Debug)
	l.AddSecret("server-0001")
	c := &CommandLog{L: l, ID: "00000000", Level: Info}
	c.Start("docker pull app:1", "docker pull app:1", "on server-0001")
	c.Output("connected to server-0001", false)
	want := "  INFO [00000000] Running docker pull app:1 on server-0001\n DEBUG [00000000] Command: docker pull app:1\n DEBUG [00000000] \tconnected to [REDACTED]\n"
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestFatalIsAlwaysRed(t *testing.T) {
	var out bytes.Buffer
	New(&out, false).Fatal("Kamal::Cli::LockError", "Deploy lock found.")
	if got := out.String(); got != "  \x1b[31mERROR (Kamal::Cli::LockError): Deploy lock found.\x1b[0m\n" {
		t.Fatalf("got %q", got)
	}
}

func TestIDsAreEightHexDigits(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}$`)
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		id := NewID()
		if !re.MatchString(id) {
			t.Fatalf("id %q", id)
		}
		seen[id] = true
	}
	if len(seen) < 95 {
		t.Fatalf("ids repeat too often: %d distinct of 100", len(seen))
	}
}

func TestLineWriterSplitsLinesAndKeepsATail(t *testing.T) {
	var out bytes.Buffer
	l := New(&out, false)
	l.SetThreshold(Debug)
	w := &LineWriter{Log: &CommandLog{L: l, ID: "00000000"}, Keep: 8}
	w.Write([]byte("one\ntw"))
	w.Write([]byte("o\r\nthree"))
	w.Flush()
	want := " DEBUG [00000000] \tone\n DEBUG [00000000] \ttwo\n DEBUG [00000000] \tthree\n"
	if out.String() != want {
		t.Fatalf("got %q", out.String())
	}
	if w.Text() != "o\r\nthree" {
		t.Fatalf("tail %q", w.Text())
	}
}
