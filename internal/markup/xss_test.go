package markup

import (
	"strings"
	"testing"
	"unicode"

	"golang.org/x/net/html"
)

// xssCorpus is fed to Render; every output must pass assertSafe. textOnly
// marks payloads whose dangerous string legitimately survives as visible,
// escaped text (a refused autolink, a code span), where the raw-output check
// is replaced by "never inside an attribute or tag".
var xssCorpus = []struct {
	name     string
	src      string
	textOnly bool
}{
	// Raw HTML: goldmark omits it, the sanitizer would drop it anyway.
	{name: "script", src: `<script>alert(1)</script>`},
	{name: "script inline", src: `hello <script>alert(1)</script> world`},
	{name: "img onerror", src: `<img src=x onerror=alert(1)>`},
	{name: "img onerror inline", src: `look: <img src=x onerror=alert(1)> here`},
	{name: "svg onload", src: `<svg/onload=alert(1)>`},
	{name: "img mixed case scheme", src: `<IMG SRC=JaVaScRiPt:alert('XSS')>`, textOnly: true},
	{name: "img backtick", src: "<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>", textOnly: true},
	{name: "img entity scheme", src: `<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;>`},
	{name: "a href javascript", src: `<a href="javascript:alert(1)">x</a>`},
	{name: "a href padded entities", src: `<a href="&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116&#0000040&#0000039&#0000088&#0000083&#0000083&#0000039&#0000041">x</a>`},
	{name: "a href hex entities", src: `<a href="&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A&#x61&#x6C&#x65&#x72&#x74&#x28&#x27&#x58&#x53&#x53&#x27&#x29">x</a>`},
	{name: "iframe", src: `<iframe src="https://evil.example/"></iframe>`},
	{name: "iframe javascript", src: `<iframe src=javascript:alert(1)>`},
	{name: "body onload", src: `<body onload=alert(1)>`},
	{name: "div style url", src: `<div style="background:url(javascript:alert(1))">x</div>`},
	{name: "style expression", src: `<p style="width: expression(alert(1))">x</p>`},
	{name: "mathml mglyph mxss", src: `<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>`},
	{name: "svg style mxss", src: `<svg></p><style><a id="</style><img src=1 onerror=alert(1)>">`},
	{name: "form math mxss", src: `<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>`},
	{name: "noscript mxss", src: `<noscript><p title="</noscript><img src=x onerror=alert(1)>">`},
	{name: "object", src: `<object data="javascript:alert(1)"></object>`},
	{name: "object data html", src: `<object data="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="></object>`},
	{name: "embed", src: `<embed src="https://evil.example/x.swf">`},
	{name: "applet", src: `<applet code="Evil.class"></applet>`},
	{name: "form action", src: `<form action=javascript:alert(1)><button>go</button></form>`},
	{name: "button formaction", src: `<button formaction=javascript:alert(1)>x</button>`},
	{name: "input autofocus", src: `<input onfocus=alert(1) autofocus>`},
	{name: "textarea select", src: `<textarea onfocus=alert(1) autofocus></textarea><select onchange=alert(1)></select>`},
	{name: "details ontoggle", src: `<details open ontoggle=alert(1)>`},
	{name: "base href", src: `<base href="javascript:alert(1)//">`},
	{name: "meta refresh", src: `<meta http-equiv="refresh" content="0;url=javascript:alert(1)">`},
	{name: "link import", src: `<link rel=import href="https://evil.example/x.html">`},
	{name: "style import", src: `<style>@import 'https://evil.example/x.css';</style>`},
	{name: "svg use href", src: `<svg><use href="data:image/svg+xml;base64,PHN2ZyBpZD0neCc+PC9zdmc+#x"></use></svg>`},
	{name: "svg xlink", src: `<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">x</text></a></svg>`},
	{name: "mathml href", src: `<math href="javascript:alert(1)">click</math>`},
	{name: "conditional comment", src: `<!--[if gte IE 4]><script>alert(1)</script><![endif]-->`},
	{name: "comment breakout", src: `<!-- --!><img src=x onerror=alert(1)> -->`},
	{name: "template", src: `<template><script>alert(1)</script></template>`},
	{name: "frameset", src: `<frameset><frame src="javascript:alert(1)"></frameset>`},
	{name: "nested script", src: `<scr<script>ipt>alert(1)</scr</script>ipt>`},
	{name: "unclosed tags", src: `<div><p><b><i><a href="javascript:alert(1)">x`},
	{name: "null byte in tag", src: "<scr\x00ipt>alert(1)</scr\x00ipt>"},
	{name: "tag after html block", src: "<div>\n\n<img src=x onerror=alert(1)>\n\n</div>"},
	{name: "table cell html", src: "| a |\n|---|\n| <img src=x onerror=alert(1)> |"},
	{name: "heading html", src: `# <a href="javascript:alert(1)">x</a>`},

	// Markdown links and images.
	{name: "md link javascript", src: `[x](javascript:alert(1))`},
	{name: "md link upper", src: `[x](JAVASCRIPT:alert(1))`},
	{name: "md link mixed case", src: `[x](JaVaScRiPt:alert(1))`},
	{name: "md link leading spaces", src: `[x](  javascript:alert(1))`},
	{name: "md link tab entity", src: `[x](java&#x09;script:alert(1))`},
	{name: "md link newline entity", src: `[x](java&#x0A;script:alert(1))`},
	{name: "md link decimal entities", src: `[x](&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1))`},
	{name: "md link colon entity", src: `[x](javascript&colon;alert(1))`},
	{name: "md link percent colon", src: `[x](javascript%3Aalert(1))`},
	{name: "md link angle destination", src: `[x](<javascript:alert(1)>)`},
	{name: "md link null byte", src: "[x](java\x00script:alert(1))"},
	{name: "md link newline in scheme", src: "[x](java\nscript:alert(1))"},
	{name: "md link unicode escape", src: `[x](\u006aavascript:alert(1))`},
	{name: "md link fullwidth", src: `[x](ｊａｖａｓｃｒｉｐｔ:alert(1))`},
	{name: "md link vbscript", src: `[x](vbscript:msgbox(1))`},
	{name: "md link data html", src: `[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)`},
	{name: "md link file", src: `[x](file:///etc/passwd)`},
	{name: "md link title breakout", src: `[x](http://a "title\"><script>alert(1)</script>")`},
	{name: "md link title onmouseover", src: `[x](http://a 'x' onmouseover=alert(1))`},
	{name: "md link dest quote breakout", src: `[x](https://example.com/"onmouseover="alert(1))`},
	{name: "md link html in text", src: `[<img src=x onerror=alert(1)>](https://example.com)`},
	{name: "md image javascript", src: `![x](javascript:alert(1))`},
	{name: "md image data png", src: `![x](data:image/png;base64,iVBORw0KGgo=)`},
	{name: "md image data svg", src: `![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)`},
	{name: "md image title breakout", src: `![x](https://example.com/a.png "a\" onerror=\"alert(1)")`},
	{name: "md image dest breakout", src: `![x](https://example.com/a.png"onerror="alert(1))`},
	{name: "md image alt breakout", src: `![x" onerror="alert(1)](https://example.com/a.png)`},
	{name: "md reference link", src: "[x][1]\n\n[1]: javascript:alert(1)"},
	{name: "md reference image", src: "![x][1]\n\n[1]: javascript:alert(1)"},
	{name: "md reference shortcut", src: "[evil]\n\n[evil]: JaVaScRiPt:alert(1) \"t\""},
	{name: "protocol relative", src: `[x](//evil.example/path)`},
	{name: "protocol relative image", src: `![x](//evil.example/a.png)`},
	{name: "autolink javascript", src: `<javascript:alert(1)>`, textOnly: true},
	{name: "autolink vbscript", src: `<vbscript:msgbox(1)>`},
	{name: "autolink data", src: `<data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==>`},
	{name: "autolink quote breakout", src: `<https://example.com/"onmouseover="alert(1)>`},
	{name: "linkify quote breakout", src: `https://example.com/"onmouseover="alert(1)`},
	{name: "plain javascript text", src: `javascript:alert(1)`, textOnly: true},

	// Code must stay escaped text.
	{name: "code span html", src: "`<script>alert(1)</script>`"},
	{name: "code span link", src: "`<a href=\"javascript:alert(1)\">x</a>`", textOnly: true},
	{name: "fenced code html", src: "```html\n<script>alert(1)</script>\n```"},
	{name: "fenced code info breakout", src: "```\"><script>alert(1)</script>\nx\n```"},
	{name: "fenced code info attribute", src: "```go onload=alert(1) style=x\nx\n```"},
	{name: "mention with html", src: `@alice<script>alert(1)</script>`},
	{name: "mention in link", src: `[@alice](javascript:alert(1))`},
}

// forbiddenElements must never appear in rendered output.
var forbiddenElements = map[string]bool{
	"script": true, "style": true, "iframe": true, "object": true, "embed": true,
	"form": true, "input": true, "button": true, "textarea": true, "select": true,
	"svg": true, "math": true, "base": true, "meta": true, "link": true,
	"template": true, "noscript": true, "frame": true, "frameset": true, "applet": true,
}

// urlAttrs are attributes a browser may load or navigate to.
var urlAttrs = map[string]bool{
	"href": true, "src": true, "action": true, "formaction": true, "srcset": true,
	"data": true, "background": true, "poster": true, "cite": true, "xlink:href": true,
}

func TestRenderXSSCorpus(t *testing.T) {
	if len(xssCorpus) < 60 {
		t.Fatalf("corpus has %d payloads, want at least 60", len(xssCorpus))
	}
	r := New()
	for _, tc := range xssCorpus {
		t.Run(tc.name, func(t *testing.T) {
			out, err := r.Render(tc.src)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			assertSafe(t, out, tc.textOnly)
		})
	}
}

// assertSafe parses out as a browser would and checks elements, attributes
// and URL schemes against the allow-list.
func assertSafe(t *testing.T, out string, textOnly bool) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(out))
	if err != nil {
		t.Fatalf("parse output: %v\n%s", err, out)
	}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.ElementNode:
			if forbiddenElements[n.Data] || n.Namespace != "" {
				t.Errorf("forbidden element <%s> (namespace %q) in %s", n.Data, n.Namespace, out)
			}
			for _, a := range n.Attr {
				checkAttr(t, n.Data, a, out)
			}
		case html.CommentNode:
			t.Errorf("comment survived: %q in %s", n.Data, out)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)

	if !strings.Contains(strings.ToLower(out), "javascript:") {
		return
	}
	if !textOnly {
		t.Errorf("output contains javascript: %s", out)
		return
	}
	// Allowed only as visible text: strip the text and look again.
	var tags strings.Builder
	z := html.NewTokenizer(strings.NewReader(out))
	for tt := z.Next(); tt != html.ErrorToken; tt = z.Next() {
		if tt != html.TextToken {
			tags.Write(z.Raw())
		}
	}
	if strings.Contains(strings.ToLower(tags.String()), "javascript") {
		t.Errorf("javascript: outside text: %s", out)
	}
}

func checkAttr(t *testing.T, el string, a html.Attribute, out string) {
	t.Helper()
	key := strings.ToLower(a.Key)
	if a.Namespace != "" {
		key = a.Namespace + ":" + key
	}
	if strings.HasPrefix(key, "on") {
		t.Errorf("event handler %s on <%s> in %s", key, el, out)
	}
	if key == "style" {
		t.Errorf("style attribute on <%s> in %s", el, out)
	}
	if urlAttrs[key] {
		if s := urlScheme(a.Val); s != "" && s != "http" && s != "https" && s != "mailto" {
			t.Errorf("%s=%q on <%s> has scheme %q in %s", key, a.Val, el, s, out)
		}
	}
}

// urlScheme returns the lower-cased scheme of v as a browser reads it: after
// dropping whitespace and control characters anywhere, up to the first ':'
// that comes before any '/', '?' or '#'.
func urlScheme(v string) string {
	v = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.ToLower(v))
	i := strings.IndexAny(v, ":/?#")
	if i < 0 || v[i] != ':' {
		return ""
	}
	return v[:i]
}
