package search

import (
	"html"
	"strings"
)

// Highlights are marked with two private-use characters, which indexing strips from
// every document (and queries from their text), so no content can forge them. A
// highlighted string is then HTML-escaped as a whole, and only the markers become
// <mark> elements: whatever the text holds, the one markup in the output is ours.
const (
	markPre  = "\uE000"
	markPost = "\uE001"
)

// stripMarks removes marker characters from text that will be indexed or queried.
func stripMarks(s string) string {
	if !strings.ContainsAny(s, markPre+markPost) {
		return s
	}
	return strings.NewReplacer(markPre, "", markPost, "").Replace(s)
}

// markedHTML escapes s and turns balanced marker pairs into <mark> elements.
func markedHTML(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 32)
	open := false
	for {
		i := markIndex(s)
		if i < 0 {
			b.WriteString(html.EscapeString(s))
			break
		}
		b.WriteString(html.EscapeString(s[:i]))
		isPre := strings.HasPrefix(s[i:], markPre)
		switch {
		case isPre && !open:
			b.WriteString("<mark>")
			open = true
		case !isPre && open:
			b.WriteString("</mark>")
			open = false
		}
		s = s[i+len(markPre):] // both markers are 3 bytes in UTF-8
	}
	if open {
		b.WriteString("</mark>")
	}
	return b.String()
}

// markIndex is the index of the first marker in s, or -1. Both markers start with
// the byte 0xEE (as do other characters of U+E000–U+EFFF), so a byte search finds
// the candidates; strings.IndexAny with non-ASCII characters decodes every rune.
func markIndex(s string) int {
	for off := 0; ; {
		i := strings.IndexByte(s[off:], markPre[0])
		if i < 0 {
			return -1
		}
		off += i
		if strings.HasPrefix(s[off:], markPre) || strings.HasPrefix(s[off:], markPost) {
			return off
		}
		off++
	}
}

// cleanDoc strips markers from the text fields of d before it is indexed.
func cleanDoc(d *Document) {
	d.Title = stripMarks(d.Title)
	d.Body = stripMarks(d.Body)
	d.AuthorName = stripMarks(d.AuthorName)
}
