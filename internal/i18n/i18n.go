// Package i18n loads the translations in static/i18n (go-i18n message files) and picks
// a language per request: the member's saved choice, then the lang cookie, then
// Accept-Language, then English.
package i18n

import (
	"encoding/json"
	"fmt"
	"io/fs"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"

	"github.com/hearth-community/hearth/static"
)

// Supported lists the languages every page is translated into, default first.
var Supported = []Language{
	{Tag: "en", Name: "English"},
	{Tag: "zh-Hans", Name: "简体中文"},
}

// Language is one language a member may choose.
type Language struct{ Tag, Name string }

// Bundle holds every translation.
type Bundle struct {
	b       *goi18n.Bundle
	matcher language.Matcher
	tags    []language.Tag
}

// Load parses static/i18n/*.json.
func Load() (*Bundle, error) {
	b := goi18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("json", json.Unmarshal)
	if _, err := b.LoadMessageFileFS(static.FS, "i18n/active.en.json"); err != nil {
		return nil, fmt.Errorf("i18n: %w", err)
	}
	if _, err := b.LoadMessageFileFS(static.FS, "i18n/active.zh-Hans.json"); err != nil {
		return nil, fmt.Errorf("i18n: %w", err)
	}
	tags := make([]language.Tag, len(Supported))
	for i, l := range Supported {
		tags[i] = language.MustParse(l.Tag)
	}
	return &Bundle{b: b, matcher: language.NewMatcher(tags), tags: tags}, nil
}

// Match returns the supported tag for the first usable preference: explicit choices
// (a saved locale, a cookie) are tried in order, then the Accept-Language header.
func (b *Bundle) Match(choices []string, acceptLanguage string) string {
	for _, c := range choices {
		if c == "" {
			continue
		}
		if t, err := language.Parse(c); err == nil {
			if _, idx, conf := b.matcher.Match(t); conf >= language.High {
				return Supported[idx].Tag
			}
		}
	}
	if acceptLanguage != "" {
		if prefs, _, err := language.ParseAcceptLanguage(acceptLanguage); err == nil && len(prefs) > 0 {
			if _, idx, conf := b.matcher.Match(prefs...); conf > language.No {
				return Supported[idx].Tag
			}
		}
	}
	return Supported[0].Tag
}

// IsSupported reports whether tag is exactly one of Supported.
func IsSupported(tag string) bool {
	for _, l := range Supported {
		if l.Tag == tag {
			return true
		}
	}
	return false
}

var canonicalMatcher = func() language.Matcher {
	tags := make([]language.Tag, len(Supported))
	for i, l := range Supported {
		tags[i] = language.MustParse(l.Tag)
	}
	return language.NewMatcher(tags)
}()

// Canonical maps a BCP 47 tag a client sends (zh-CN, zh, en-GB …) to the supported tag
// it clearly means; ok is false when it means none of them.
func Canonical(tag string) (string, bool) {
	if IsSupported(tag) {
		return tag, true
	}
	t, err := language.Parse(tag)
	if err != nil {
		return "", false
	}
	_, idx, conf := canonicalMatcher.Match(t)
	if conf < language.High {
		return "", false
	}
	return Supported[idx].Tag, true
}

// Localizer translates for one language.
type Localizer struct {
	Lang string
	l    *goi18n.Localizer
}

// For returns the localizer of a supported tag.
func (b *Bundle) For(tag string) *Localizer {
	return &Localizer{Lang: tag, l: goi18n.NewLocalizer(b.b, tag, "en")}
}

// T translates id, filling {{.Name}} placeholders from the optional key/value pairs.
// A missing id returns the id itself, which a test over every template catches.
func (l *Localizer) T(id string, kv ...any) string {
	var data map[string]any
	if len(kv) > 1 {
		data = make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			data[fmt.Sprint(kv[i])] = kv[i+1]
		}
	}
	s, err := l.l.Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil {
		return id
	}
	return s
}

// MessageIDs lists the ids in one language file, for tests that check both languages
// carry the same messages.
func MessageIDs(tag string) (map[string]string, error) {
	raw, err := fs.ReadFile(static.FS, "i18n/active."+tag+".json")
	if err != nil {
		return nil, err
	}
	var m map[string]string
	return m, json.Unmarshal(raw, &m)
}
