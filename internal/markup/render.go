package markup

import (
	"net/url"
	"strings"

	"github.com/yuin/goldmark/ast"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/util"
)

// relValue is on every link: posts are user-generated content (ugc), their
// links must not pass ranking (nofollow) or a window.opener (noopener).
const relValue = "nofollow ugc noopener"

// nodeRenderer replaces goldmark's renderers for the nodes that carry URLs or
// form controls. Where goldmark would write a dangerous URL as href="", it
// drops the element and keeps only its text.
type nodeRenderer struct{}

// RegisterFuncs implements renderer.NodeRenderer.
func (nodeRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindLink, renderLink)
	reg.Register(ast.KindAutoLink, renderAutoLink)
	reg.Register(ast.KindImage, renderImage)
	reg.Register(east.KindTaskCheckBox, renderTaskCheckBox)
	reg.Register(kindMention, renderMention)
}

// allowedURL reports whether a link (or, with image, an image source) may
// point at u. Links take http, https, mailto and relative URLs. Images take
// only absolute http(s) URLs: no data:, and no relative src that would make
// every reader's browser send a same-origin GET with cookies (/logout…).
func allowedURL(u []byte, image bool) bool {
	s := string(u)
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return false // util.URLEscape encodes these; seeing one means a bug
	}
	parsed, err := url.Parse(s)
	if err != nil {
		return false
	}
	switch strings.ToLower(parsed.Scheme) {
	case "http", "https":
		return parsed.Host != "" || !image
	case "mailto":
		return !image
	case "":
		// Protocol-relative //host links are allowed: they are as safe as
		// the https link they resolve to.
		return !image
	}
	return false
}

func writeAnchorOpen(w util.BufWriter, href []byte, title []byte) {
	_, _ = w.WriteString(`<a href="`)
	_, _ = w.Write(util.EscapeHTML(href))
	_, _ = w.WriteString(`"`)
	if title != nil {
		_, _ = w.WriteString(` title="`)
		html.DefaultWriter.Write(w, title)
		_, _ = w.WriteString(`"`)
	}
	_, _ = w.WriteString(` rel="` + relValue + `">`)
}

func renderLink(w util.BufWriter, _ []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	n := node.(*ast.Link)
	dest := util.URLEscape(n.Destination, true)
	if !allowedURL(dest, false) {
		return ast.WalkContinue, nil // children still render, as plain text
	}
	if entering {
		writeAnchorOpen(w, dest, n.Title)
	} else {
		_, _ = w.WriteString("</a>")
	}
	return ast.WalkContinue, nil
}

func renderAutoLink(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*ast.AutoLink)
	dest := util.URLEscape(n.URL(source), false)
	if n.AutoLinkType == ast.AutoLinkEmail && !hasPrefixFold(dest, "mailto:") {
		dest = append([]byte("mailto:"), dest...)
	}
	label := util.EscapeHTML(n.Label(source))
	if !allowedURL(dest, false) {
		_, _ = w.Write(label)
		return ast.WalkContinue, nil
	}
	writeAnchorOpen(w, dest, nil)
	_, _ = w.Write(label)
	_, _ = w.WriteString("</a>")
	return ast.WalkContinue, nil
}

func renderImage(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*ast.Image)
	dest := util.URLEscape(n.Destination, true)
	if !allowedURL(dest, true) {
		writeAltText(w, source, n)
		return ast.WalkSkipChildren, nil
	}
	_, _ = w.WriteString(`<img src="`)
	_, _ = w.Write(util.EscapeHTML(dest))
	_, _ = w.WriteString(`" alt="`)
	writeAltText(w, source, n)
	_, _ = w.WriteString(`"`)
	if n.Title != nil {
		_, _ = w.WriteString(` title="`)
		html.DefaultWriter.Write(w, n.Title)
		_, _ = w.WriteString(`"`)
	}
	_, _ = w.WriteString(` loading="lazy">`)
	return ast.WalkSkipChildren, nil
}

// writeAltText writes the escaped text of n's descendants, as goldmark does
// for alt attributes, but also knows mentions.
func writeAltText(w util.BufWriter, source []byte, n ast.Node) {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		switch c := c.(type) {
		case *ast.Text:
			html.DefaultWriter.Write(w, c.Segment.Value(source))
			if c.SoftLineBreak() || c.HardLineBreak() {
				_, _ = w.WriteString(" ")
			}
		case *ast.String:
			_, _ = w.Write(util.EscapeHTML(c.Value))
		case *mention:
			_, _ = w.WriteString("@" + c.handle)
		default:
			writeAltText(w, source, c)
		}
	}
}

// renderTaskCheckBox writes ☐/☑ instead of a disabled <input>, so the
// sanitizer never has to allow form controls.
func renderTaskCheckBox(w util.BufWriter, _ []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	if node.(*east.TaskCheckBox).IsChecked {
		_, _ = w.WriteString("☑ ")
	} else {
		_, _ = w.WriteString("☐ ")
	}
	return ast.WalkContinue, nil
}

func renderMention(w util.BufWriter, _ []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*mention)
	// Handles are [A-Za-z0-9_], so they need no escaping.
	if !n.active() {
		_, _ = w.WriteString("@" + n.handle)
		return ast.WalkContinue, nil
	}
	_, _ = w.WriteString(`<a class="mention" href="/u/` + strings.ToLower(n.handle) +
		`" rel="` + relValue + `">@` + n.handle + `</a>`)
	return ast.WalkContinue, nil
}

func hasPrefixFold(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && strings.EqualFold(string(b[:len(prefix)]), prefix)
}
