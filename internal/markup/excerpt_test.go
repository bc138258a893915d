package markup

import "testing"

func TestExcerpt(t *testing.T) {
	tests := []struct {
		name string
		src  string
		n    int
		want string
	}{
		{name: "strips markup", src: "# Title\n\n**Bold** and *it*   text\n\n- a\n- b", n: 100, want: "Title Bold and it text a b"},
		{name: "cut with ellipsis", src: "one two three four", n: 7, want: "one two…"},
		{name: "cut at space trims", src: "one two three four", n: 8, want: "one two…"},
		{name: "exact length", src: "one two", n: 7, want: "one two"},
		{name: "chinese by rune", src: "你好世界，欢迎来到论坛", n: 4, want: "你好世界…"},
		{name: "entities decoded", src: "Tom &amp; Jerry <3 `a<b`", n: 50, want: "Tom & Jerry <3 a<b"},
		{name: "raw html dropped", src: "<script>alert(1)</script>\n\nhello <b>there</b>", n: 50, want: "hello there"},
		{name: "links keep text", src: "[docs](https://example.com) @alice", n: 50, want: "docs @alice"},
		{name: "zero", src: "anything", n: 0, want: ""},
		{name: "empty", src: "", n: 10, want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Excerpt(tc.src, tc.n); got != tc.want {
				t.Errorf("Excerpt(%q, %d) = %q, want %q", tc.src, tc.n, got, tc.want)
			}
		})
	}
}

// TestExcerptHTMLMatchesExcerpt: pages take the excerpt of a stored body_html when a
// thread has none kept; it must read as the excerpt of the Markdown it came from.
func TestExcerptHTMLMatchesExcerpt(t *testing.T) {
	r := New()
	for _, src := range []string{"# Title\n\n**Bold** and *it*   text\n\n- a\n- b", "你好世界，欢迎来到论坛",
		"Tom &amp; Jerry <3 `a<b`", "<script>alert(1)</script>\n\nhello <b>there</b>", "[docs](https://example.com) @alice",
		"| a | b |\n|---|---|\n| 1 | 2 |", ""} {
		out, err := r.Render(src)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{0, 5, 160} {
			if got, want := r.ExcerptHTML(out, n), r.Excerpt(src, n); got != want {
				t.Errorf("%q, %d: ExcerptHTML %q, Excerpt %q", src, n, got, want)
			}
		}
	}
}
