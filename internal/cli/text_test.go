package cli

import "testing"

func TestSanitize(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"plain text, ünïcode 한글", "plain text, ünïcode 한글"},
		{"\x1b[31mred\x1b[0m", "[31mred[0m"},
		{"a\u009b2Jb", "a2Jb"},
		{"bell\x07 del\x7f", "bell del"},
		{"line\nbreak\ttab\rcr", "line break tab cr"},
		{"\u202eevil\u2066x\u2069\u200f", "evilx"},
		{"bad\xffutf8", "bad\uFFFDutf8"},
		{"sep\u2028arator", "separator"},
	}
	for _, tc := range cases {
		if got := sanitize(tc.in); got != tc.want {
			t.Errorf("sanitize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestShellQuote(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"d-1", "d-1"},
		{"eyJpZCI6MX0=", "eyJpZCI6MX0="},
		{"http://127.0.0.1:8080/gw", "http://127.0.0.1:8080/gw"},
		{"", "''"},
		{"a b", "'a b'"},
		{"$(rm -rf ~)", "'$(rm -rf ~)'"},
		{"it's", `'it'\''s'`},
	}
	for _, tc := range cases {
		if got := shellQuote(tc.in); got != tc.want {
			t.Errorf("shellQuote(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
