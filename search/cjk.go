package search

import (
	"strings"
	"unicode"
)

// PostgreSQL's parsers do not segment Chinese: 客户关系管理 is one "word", so 关系
// would never match. The fallback indexes overlapping bigrams of every run of Han
// characters instead (客户 户关 关系 系管 管理) and turns queries into bigrams the
// same way: any two-character word from the middle of a text then matches. Latin
// text is left to the 'english' configuration (stemming, stop words).

func isHan(r rune) bool { return unicode.Is(unicode.Han, r) }

// terms splits text into search terms: Latin/digit words, and Han runs as bigrams (a
// lone Han character stays a unigram, and matches as a prefix).
func terms(text string) []term {
	var out []term
	var word []rune
	var han []rune
	flushWord := func() {
		if len(word) > 0 {
			out = append(out, term{text: strings.ToLower(string(word))})
			word = word[:0]
		}
	}
	flushHan := func() {
		switch {
		case len(han) == 1:
			out = append(out, term{text: string(han), han: true, prefix: true})
		case len(han) > 1:
			for i := 0; i+1 < len(han); i++ {
				out = append(out, term{text: string(han[i : i+2]), han: true})
			}
		}
		han = han[:0]
	}
	for _, r := range text {
		switch {
		case isHan(r):
			flushWord()
			han = append(han, r)
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			flushHan()
			word = append(word, r)
		default:
			flushWord()
			flushHan()
		}
	}
	flushWord()
	flushHan()
	return out
}

type term struct {
	text   string
	han    bool
	prefix bool
}

// bigramText is text with its Han runs replaced by space-separated bigrams, ready
// for to_tsvector.
func bigramText(text string) string {
	var b strings.Builder
	for i, t := range terms(text) {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(t.text)
	}
	return b.String()
}

// tsquery builds a to_tsquery expression from the query's terms, joined by op (& or
// |); with lastPrefix the last term matches as a prefix (search as you type). It is
// made only of quoted lexemes, so no user input is parsed as tsquery syntax.
func tsquery(text, op string, lastPrefix bool) string {
	ts := terms(text)
	parts := make([]string, 0, len(ts))
	for i, t := range ts {
		p := "'" + strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(t.text) + "'"
		if t.prefix || (lastPrefix && i == len(ts)-1) {
			p += ":*"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, " "+op+" ")
}
