package search

import (
	"strings"

	"golang.org/x/net/html"
)

// maxBodyRunes bounds the text indexed per document: Meilisearch stops at 65,535
// word positions per attribute anyway, and a search snippet never needs more.
const maxBodyRunes = 20000

// plainText turns sanitized post HTML into the words a reader sees: tags dropped,
// entities decoded, a space wherever a tag separated text (so "<p>a</p><p>b</p>" is two
// words, not one; "<em>a</em>b" stays one), whitespace collapsed.
func plainText(src string) string {
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(src))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return truncateRunes(strings.Join(strings.Fields(b.String()), " "), maxBodyRunes)
		case html.TextToken:
			b.Write(z.Text())
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			if name, _ := z.TagName(); blocks[string(name)] {
				b.WriteByte(' ')
			}
		}
	}
}

// blocks are the elements that separate words; inline ones (em, a, code) do not.
var blocks = map[string]bool{"p": true, "br": true, "div": true, "li": true, "ul": true, "ol": true,
	"h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true, "pre": true, "blockquote": true,
	"table": true, "tr": true, "td": true, "th": true, "hr": true, "img": true, "dt": true, "dd": true}

func truncateRunes(s string, n int) string {
	count := 0
	for i := range s {
		if count == n {
			return s[:i]
		}
		count++
	}
	return s
}
