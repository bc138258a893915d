// Package i18n loads the translations in static/i18n (go-i18n message files) and picks
// a language per request: the member's saved choice, then the lang cookie, then
// Accept-Language, then English.
package i18n

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"

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
	// plain holds, per language, every message without placeholders, already
	// localized: pages call T hundreds of times, and a map lookup is all it needs.
	plain map[string]map[string]string
	locs  map[string]*Localizer
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
	bundle := &Bundle{b: b, matcher: language.NewMatcher(tags), tags: tags, plain: map[string]map[string]string{}, locs: map[string]*Localizer{}}
	en, err := MessageIDs("en")
	if err != nil {
		return nil, err
	}
	for _, l := range Supported {
		loc := goi18n.NewLocalizer(b, l.Tag, "en")
		m := make(map[string]string, len(en))
		for id, text := range en {
			if strings.Contains(text, "{{") {
				continue // needs its data at call time
			}
			if out, err := loc.Localize(&goi18n.LocalizeConfig{MessageID: id}); err == nil {
				m[id] = out
			}
		}
		bundle.plain[l.Tag] = m
		bundle.locs[l.Tag] = &Localizer{Lang: l.Tag, l: loc, plain: m}
	}
	return bundle, nil
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

// Localizer translates for one language. It is safe for concurrent use.
type Localizer struct {
	Lang  string
	l     *goi18n.Localizer
	plain map[string]string
}

// For returns the localizer of a supported tag (made once per language).
func (b *Bundle) For(tag string) *Localizer {
	if l, ok := b.locs[tag]; ok {
		return l
	}
	return &Localizer{Lang: tag, l: goi18n.NewLocalizer(b.b, tag, "en")}
}

// T translates id, filling {{.Name}} placeholders from the optional key/value pairs.
// A missing id returns the id itself, which a test over every template catches.
func (l *Localizer) T(id string, kv ...any) string {
	if len(kv) == 0 {
		if s, ok := l.plain[id]; ok {
			return s
		}
	}
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

// Reason translates an encoded reason "message.id|A|B" (figures optional), as the CRM
// stores them; text without a known id is returned unchanged.
func (l *Localizer) Reason(encoded string) string {
	parts := strings.Split(encoded, "|")
	kv := []any{}
	for i, name := range []string{"A", "B", "C"} {
		if i+1 < len(parts) {
			kv = append(kv, name, parts[i+1])
		}
	}
	out := l.T(parts[0], kv...)
	if out == parts[0] {
		return encoded
	}
	return out
}
