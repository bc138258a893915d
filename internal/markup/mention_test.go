package markup

import (
	"reflect"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

func TestMentions(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{name: "brief example", src: "hi @alice and @Bob, not a@b.com, not `@code`", want: []string{"alice", "bob"}},
		{name: "duplicates collapse", src: "@Alice @alice @ALICE", want: []string{"alice"}},
		{name: "fenced code ignored", src: "```\n@carol\n```\n\n@dave", want: []string{"dave"}},
		{name: "indented code ignored", src: "    @carol\n\npara @dave", want: []string{"dave"}},
		{name: "link text ignored", src: "[@erin](https://example.com)"},
		{name: "brackets without link", src: "[cc @erin]", want: []string{"erin"}},
		{name: "too short", src: "@ab"},
		{name: "too long", src: "@" + strings.Repeat("a", 31)},
		{name: "longest", src: "@" + strings.Repeat("a", 30), want: []string{strings.Repeat("a", 30)}},
		{name: "after word char", src: "foo_@bar_baz x@frank"},
		{name: "punctuation around", src: "(@frank), @grace's; @heidi.", want: []string{"frank", "grace", "heidi"}},
		{name: "url path", src: "https://example.com/@ivan"},
		{name: "chinese before", src: "你好@judy", want: []string{"judy"}},
		{name: "in emphasis and quote", src: "> **@kim** said", want: []string{"kim"}},
		{name: "none", src: "no mentions here"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Mentions(tc.src); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Mentions(%q) = %q, want %q", tc.src, got, tc.want)
			}
		})
	}
}

func TestRenderMentions(t *testing.T) {
	out := render(t, "hi @Alice, see `@alice` and [@bob](https://example.com)\n\n```\n@carol\n```")
	links := elements(t, out, "a")
	var mentions []*html.Node
	for _, a := range links {
		if attr(a, "class") == "mention" {
			mentions = append(mentions, a)
		}
	}
	if len(mentions) != 1 {
		t.Fatalf("want exactly 1 mention link, got %d: %s", len(mentions), out)
	}
	if href, txt := attr(mentions[0], "href"), textOf(mentions[0]); href != "/u/alice" || txt != "@Alice" {
		t.Errorf("mention = href %q text %q, want /u/alice @Alice", href, txt)
	}
	if !strings.Contains(out, "<code>@alice</code>") || !strings.Contains(out, "@carol\n</code>") {
		t.Errorf("code lost its @text: %s", out)
	}
	if len(links) != 2 || attr(links[1], "href") != "https://example.com" || textOf(links[1]) != "@bob" {
		t.Errorf("mention inside link should stay plain link text: %s", out)
	}
}
