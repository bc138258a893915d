package search

import "testing"

// TestMarkedHTML: only balanced markers become <mark>; everything else is escaped,
// including other private-use characters that share the markers' first byte.
func TestMarkedHTML(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain <b>", "plain &lt;b&gt;"},
		{markPre + "Tips" + markPost + " & more", "<mark>Tips</mark> &amp; more"},
		{"a \uE0A0 b " + markPre + "c" + markPost + " \uEFFF", "a \uE0A0 b <mark>c</mark> \uEFFF"},
		{markPost + "x" + markPre + "y", "x<mark>y</mark>"},
		{"中文" + markPre + "电池" + markPost, "中文<mark>电池</mark>"},
	}
	for _, c := range cases {
		if got := markedHTML(c.in); got != c.want {
			t.Errorf("markedHTML(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
