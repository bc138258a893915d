// Package markup turns the Markdown of forum posts into HTML that is safe to
// embed in a page, and derives plain-text excerpts and @mentions from it.
//
// Safety has two independent layers: goldmark renders CommonMark + GFM with
// raw HTML omitted and only allow-listed URLs in links and images, then a
// bluemonday allow-list policy removes anything else. Either layer alone
// should be enough; the tests check the combination against an XSS corpus.
package markup

import (
	"bytes"
	"fmt"
	"html"
	"regexp"
	"strings"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/util"
)

// Renderer renders forum Markdown to sanitized HTML. Build it once with New;
// it holds no per-call state, so one Renderer is safe for concurrent use.
type Renderer struct {
	md     goldmark.Markdown
	policy *bluemonday.Policy
	strip  *bluemonday.Policy
}

// New builds the Markdown pipeline and the sanitizing policies.
func New() *Renderer {
	return &Renderer{
		md:     newMarkdown(),
		policy: newPolicy(),
		strip:  bluemonday.StrictPolicy(),
	}
}

func newMarkdown() goldmark.Markdown {
	// No html.WithUnsafe: raw HTML becomes an "omitted" comment that the
	// sanitizer then drops. No parser.WithAttribute: `{onclick=…}` syntax
	// would let authors write arbitrary attributes. Strikethrough's parser is
	// in newParser (with a limit), so only its renderer is added here.
	return goldmark.New(
		goldmark.WithParser(newParser()),
		goldmark.WithExtensions(
			// Attributes, not style="text-align:…", so style is never needed.
			extension.NewTable(extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute)),
			extension.Linkify,
			extension.TaskList,
		),
		goldmark.WithRendererOptions(
			// Lower number wins: nodeRenderer replaces the default link, image
			// and task-checkbox renderers (priorities 1000 and 500).
			renderer.WithNodeRenderers(
				util.Prioritized(nodeRenderer{}, 100),
				util.Prioritized(extension.NewStrikethroughHTMLRenderer(), 500),
			),
		),
	)
}

var (
	codeLanguage = regexp.MustCompile(`^language-[a-zA-Z0-9_+-]+$`)
	mentionClass = regexp.MustCompile(`^mention$`)
	linkRel      = regexp.MustCompile(`^` + relValue + `$`)
	httpURL      = regexp.MustCompile(`^(?i)https?://`)
	lazyLoading  = regexp.MustCompile(`^lazy$`)
	cellAlign    = regexp.MustCompile(`^(left|center|right)$`)
)

// newPolicy is the allow-list for everything goldmark can produce from
// Markdown, and nothing more: no style, no event handlers, no embedded content.
func newPolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6",
		"strong", "em", "del", "code", "pre", "blockquote", "ul", "ol", "li",
		"table", "thead", "tbody", "tr", "th", "td")
	p.AllowAttrs("class").Matching(codeLanguage).OnElements("code")
	p.AllowAttrs("start").Matching(bluemonday.Integer).OnElements("ol")
	p.AllowAttrs("align").Matching(cellAlign).OnElements("th", "td")

	p.AllowAttrs("href").OnElements("a")
	p.AllowAttrs("class").Matching(mentionClass).OnElements("a")
	p.AllowAttrs("rel").Matching(linkRel).OnElements("a")
	p.AllowAttrs("title").OnElements("a", "img")
	p.AllowAttrs("src").Matching(httpURL).OnElements("img")
	p.AllowAttrs("alt").OnElements("img")
	p.AllowAttrs("loading").Matching(lazyLoading).OnElements("img")

	p.RequireParseableURLs(true)
	p.AllowURLSchemes("http", "https", "mailto")
	p.AllowRelativeURLs(true)
	// Our renderer already writes the full rel; this keeps at least nofollow
	// on any link that somehow arrives without it.
	p.RequireNoFollowOnLinks(true)
	return p
}

// Render converts Markdown to sanitized HTML. The error only reports a
// failure inside goldmark; the caller caps the input size.
func (r *Renderer) Render(src string) (string, error) {
	var buf bytes.Buffer
	if err := r.md.Convert([]byte(src), &buf); err != nil {
		return "", fmt.Errorf("markup: render: %w", err)
	}
	return string(r.policy.SanitizeBytes(buf.Bytes())), nil
}

// shared backs the package-level helpers. It is built on first use and never
// changes afterwards, so sharing it is as safe as sharing any Renderer.
var shared = sync.OnceValue(New)

// Excerpt returns the first n runes of the rendered text of src as plain text
// (no markup, entities decoded, whitespace collapsed), followed by "…" when
// the text was longer. The result is text, not HTML: escape it on output
// (html/template does). It returns "" when n <= 0 or rendering fails.
func Excerpt(src string, n int) string {
	return shared().Excerpt(src, n)
}

// Excerpt is the package-level Excerpt using r.
func (r *Renderer) Excerpt(src string, n int) string {
	if n <= 0 {
		return ""
	}
	out, err := r.Render(src)
	if err != nil {
		return ""
	}
	return r.ExcerptHTML(out, n)
}

// ExcerptHTML is Excerpt of HTML that Render already produced (a post's stored
// body_html): the same text, without running Markdown again.
func (r *Renderer) ExcerptHTML(rendered string, n int) string {
	if n <= 0 {
		return ""
	}
	text := html.UnescapeString(r.strip.Sanitize(rendered))
	text = strings.Join(strings.Fields(text), " ")
	runes := 0
	for i := range text {
		if runes == n {
			return strings.TrimRight(text[:i], " ") + "…"
		}
		runes++
	}
	return text
}
