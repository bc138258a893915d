package markup

import (
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/html"
)

func render(t *testing.T, src string) string {
	t.Helper()
	out, err := New().Render(src)
	if err != nil {
		t.Fatalf("Render(%q): %v", src, err)
	}
	return out
}

// elements returns the elements named tag in out, parsed as a browser would.
func elements(t *testing.T, out, tag string) []*html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(out))
	if err != nil {
		t.Fatalf("parse output: %v", err)
	}
	var found []*html.Node
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == tag {
			found = append(found, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return found
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func textOf(n *html.Node) string {
	if n.Type == html.TextNode {
		return n.Data
	}
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		b.WriteString(textOf(c))
	}
	return b.String()
}

func TestRenderFeatures(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		want    []string // substrings of the output
		notWant []string
	}{
		{name: "table", src: "| a | b |\n|:--|--:|\n| 1 | 2 |",
			want: []string{"<table>", `<th align="left">a</th>`, `<td align="right">2</td>`}},
		{name: "fenced code", src: "```go\nif a < b && c > d {}\n```",
			want: []string{`<pre><code class="language-go">if a &lt; b &amp;&amp; c &gt; d {}`}},
		{name: "fenced code c++", src: "```c++\nx\n```", want: []string{`<code class="language-c++">`}},
		{name: "fenced code odd language", src: "```c#\nx\n```", want: []string{"<pre><code>x"}},
		{name: "code span", src: "use `<b>` here", want: []string{"<code>&lt;b&gt;</code>"}},
		{name: "emphasis", src: "**bold** *it* ~~gone~~",
			want: []string{"<strong>bold</strong>", "<em>it</em>", "<del>gone</del>"}},
		{name: "headings", src: "# One\n\n### Three", want: []string{"<h1>One</h1>", "<h3>Three</h3>"}},
		{name: "lists", src: "- a\n- b\n\n3. c\n4. d",
			want: []string{"<ul>\n<li>a</li>", `<ol start="3">`, "<li>d</li>"}},
		{name: "blockquote", src: "> quoted\n> text", want: []string{"<blockquote>\n<p>quoted\ntext</p>"}},
		{name: "task list", src: "- [ ] todo\n- [x] done",
			want: []string{"<li>☐ todo</li>", "<li>☑ done</li>"}, notWant: []string{"<input"}},
		{name: "chinese", src: "你好，**世界**！欢迎来到论坛。",
			want: []string{"<p>你好，<strong>世界</strong>！欢迎来到论坛。</p>"}},
		{name: "raw html omitted", src: "a <b>bold</b> <span style=\"color:red\">move</span>",
			want: []string{"<p>a bold move</p>"}},
		{name: "hr and break", src: "a  \nb\n\n---", want: []string{"a<br>\nb", "<hr>"}},
		{name: "no heading ids", src: "# Title", notWant: []string{"id="}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := render(t, tc.src)
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(out, w) {
					t.Errorf("output has %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestRenderLinks(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		wantHref string // "" means no link at all
	}{
		{name: "linkify", src: "see https://example.com now", wantHref: "https://example.com"},
		{name: "linkify www", src: "see www.example.com", wantHref: "http://www.example.com"},
		{name: "autolink", src: "<https://example.com/a?b=1>", wantHref: "https://example.com/a?b=1"},
		{name: "email", src: "mail bob@example.com", wantHref: "mailto:bob@example.com"},
		{name: "inline", src: "[docs](https://example.com/docs)", wantHref: "https://example.com/docs"},
		{name: "mailto", src: "[mail](mailto:a@example.com)", wantHref: "mailto:a@example.com"},
		{name: "relative", src: "[thread](/t/42#p7)", wantHref: "/t/42#p7"},
		{name: "ftp refused", src: "[f](ftp://example.com/x)"},
		{name: "javascript refused", src: "[j](javascript:alert(1))"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := render(t, tc.src)
			links := elements(t, out, "a")
			if tc.wantHref == "" {
				if len(links) != 0 {
					t.Fatalf("want no link, got %s", out)
				}
				return
			}
			if len(links) != 1 {
				t.Fatalf("want 1 link, got %d: %s", len(links), out)
			}
			if got := attr(links[0], "href"); got != tc.wantHref {
				t.Errorf("href = %q, want %q", got, tc.wantHref)
			}
			if got := attr(links[0], "rel"); got != "nofollow ugc noopener" {
				t.Errorf("rel = %q, want %q", got, "nofollow ugc noopener")
			}
			if attr(links[0], "target") != "" {
				t.Errorf("target set: %s", out)
			}
		})
	}
}

func TestRenderImages(t *testing.T) {
	out := render(t, `![a cat](https://img.example.com/cat.png "Cat")`)
	imgs := elements(t, out, "img")
	if len(imgs) != 1 {
		t.Fatalf("want 1 img, got %s", out)
	}
	for key, want := range map[string]string{
		"src": "https://img.example.com/cat.png", "alt": "a cat", "title": "Cat", "loading": "lazy",
	} {
		if got := attr(imgs[0], key); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}

	out = render(t, "![two\nlines](https://img.example.com/a.png)")
	if imgs := elements(t, out, "img"); len(imgs) != 1 || attr(imgs[0], "alt") != "two lines" {
		t.Errorf("alt across lines: %s", out)
	}

	for _, src := range []string{
		"![x](/local.png)", "![x](//cdn.example.com/a.png)", "![x](data:image/png;base64,iVBORw0KGgo=)",
		"![x](ftp://example.com/a.png)", "![x](javascript:alert(1))",
	} {
		if out := render(t, src); len(elements(t, out, "img")) != 0 || !strings.Contains(out, "x") {
			t.Errorf("%s: want alt text and no img, got %s", src, out)
		}
	}
}

func TestRendererConcurrentUse(t *testing.T) {
	r := New()
	const src = "# Hi @alice\n\n| a |\n|---|\n| [x](https://example.com) |\n\n```go\nx\n```"
	want, err := r.Render(src)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for range 64 {
		wg.Go(func() {
			for range 20 {
				if got, _ := r.Render(src); got != want {
					errs <- got
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for got := range errs {
		t.Errorf("concurrent render differs:\n%s\nwant\n%s", got, want)
	}
}
