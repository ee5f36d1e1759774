package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"
)

// sanitize makes the server's text safe to print on a terminal: control characters (C0, DEL,
// C1, which carry escape sequences), bidirectional overrides (which make a line read other
// than it is) and invalid UTF-8 never reach it. Tabs and line breaks become spaces, so a value
// stays on its line and in its column.
func sanitize(s string) string {
	var b strings.Builder
	for i, w := 0, 0; i < len(s); i += w {
		r, size := utf8.DecodeRuneInString(s[i:])
		w = size
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteRune(unicode.ReplacementChar)
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteByte(' ')
		case unsafeRune(r):
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// unsafeRune reports the runes a terminal may act on rather than show.
func unsafeRune(r rune) bool {
	switch {
	case unicode.IsControl(r): // C0, DEL, C1
		return true
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069, r == 0x200E, r == 0x200F, r == 0x061C:
		return true
	case r == 0x2028 || r == 0x2029: // line and paragraph separators
		return true
	}
	return false
}

// cell is a table cell: the value cleaned and cut to a width a table can hold, "-" when empty.
func cell[S ~string](s S) string {
	c := truncate(sanitize(string(s)), 120)
	if c == "" {
		return "-"
	}
	return c
}

// truncate cuts s to n runes, marking the cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-3]) + "..."
}

// when shows a timestamp to the second; a value that is not RFC 3339 is shown as it came.
func when(s text) string {
	t, err := time.Parse(time.RFC3339Nano, string(s))
	if err != nil {
		return cell(s)
	}
	return t.Truncate(time.Second).Format(time.RFC3339)
}

// newTable is a tabwriter for the tables: columns two spaces apart.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

// row writes one table row; its cells must already be cleaned, so none holds a tab.
func row(tw io.Writer, cells ...string) {
	fmt.Fprintln(tw, strings.Join(cells, "\t"))
}

// printJSON prints a body as the server sent it, indented. The value is kept exactly; only
// the characters a terminal would act on are written as JSON escapes instead (valid JSON
// cannot hold C0 controls unescaped, but it can hold C1 controls and bidirectional overrides,
// and a server can send invalid UTF-8).
func printJSON(w io.Writer, body []byte) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, body, "", "  "); err != nil {
		return fmt.Errorf("the gateway's answer is not JSON: %w", err)
	}
	out := make([]byte, 0, buf.Len()+1)
	// Outside strings, valid JSON holds only ASCII, so every rune escaped here is in a string.
	for b := buf.Bytes(); len(b) > 0; {
		r, size := utf8.DecodeRune(b)
		switch {
		case r == utf8.RuneError && size == 1:
			out = append(out, `\ufffd`...)
		case r == '\n' || r == '\t' || r == '\r':
			// Indentation: raw, these cannot be inside a string of valid JSON.
			out = append(out, b[:size]...)
		case unsafeRune(r):
			out = fmt.Appendf(out, `\u%04x`, r)
		default:
			out = append(out, b[:size]...)
		}
		b = b[size:]
	}
	out = append(out, '\n')
	_, err := w.Write(out)
	return err
}

// shellQuote quotes s for a POSIX shell when it holds anything but plain characters, so a
// printed command can be pasted as it is.
func shellQuote(s string) string {
	plain := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.,:/=+@%", r)) {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
