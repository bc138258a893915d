package markup

import (
	"strings"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
)

// Handle length limits; they match what sign-up accepts for user handles.
const (
	minHandle = 3
	maxHandle = 30
)

// kindMention is the goldmark node kind of @handle mentions.
var kindMention = ast.NewNodeKind("Mention")

// mention is an @handle found in text. Being an inline node, it is never
// created inside code spans, fenced code or autolinks, which the parser
// consumes before it sees the '@'.
type mention struct {
	ast.BaseInline
	handle string // as written; compare lower-cased
}

// Kind implements ast.Node.
func (n *mention) Kind() ast.NodeKind { return kindMention }

// Dump implements ast.Node.
func (n *mention) Dump(source []byte, level int) {
	ast.DumpHelper(n, source, level, map[string]string{"Handle": n.handle}, nil)
}

// active reports whether the mention should link to the profile: not inside
// a link's text (links cannot nest) nor an image's alt text. The parser cannot
// tell, since "[" only becomes a link once its "](url)" is seen.
func (n *mention) active() bool {
	for p := n.Parent(); p != nil; p = p.Parent() {
		switch p.Kind() {
		case ast.KindLink, ast.KindImage:
			return false
		}
	}
	return true
}

// mentionParser turns "@handle" into a mention when the '@' starts the text
// or follows a non-word character, so "a@b.com" is not a mention.
type mentionParser struct{}

// Trigger implements parser.InlineParser.
func (mentionParser) Trigger() []byte { return []byte{'@'} }

// Parse implements parser.InlineParser.
func (mentionParser) Parse(_ ast.Node, block text.Reader, _ parser.Context) ast.Node {
	if prev := block.PrecendingCharacter(); prev < 0x80 && isWordByte(byte(prev)) {
		return nil
	}
	line, _ := block.PeekLine()
	end := 1
	for end < len(line) && isWordByte(line[end]) {
		end++
	}
	// A run longer than maxHandle is not a handle at all, rather than a
	// mention of its first 30 characters.
	if n := end - 1; n < minHandle || n > maxHandle {
		return nil
	}
	block.Advance(end)
	return &mention{handle: string(line[1:end])}
}

func isWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// Mentions returns the distinct handles mentioned in src as @handle,
// lower-cased, in order of first appearance; nil when there are none. It sees
// exactly the mentions Render links (to /u/<lower-cased handle>): none in
// code, link text or e-mail addresses.
func Mentions(src string) []string {
	return shared().Mentions(src)
}

// Mentions is the package-level Mentions using r's parser.
func (r *Renderer) Mentions(src string) []string {
	doc := r.md.Parser().Parse(text.NewReader([]byte(src)))
	var handles []string
	seen := map[string]bool{}
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		m, ok := n.(*mention)
		if !entering || !ok || !m.active() {
			return ast.WalkContinue, nil
		}
		h := strings.ToLower(m.handle)
		if !seen[h] {
			seen[h] = true
			handles = append(handles, h)
		}
		return ast.WalkContinue, nil
	})
	return handles
}
