package markup

import (
	"reflect"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// goldmark does some work per container, delimiter or bracket that grows
// with how many came before, so crafted input renders in quadratic time:
// 100 KB of "*a_" took 15 s, one line of 50,000 "- " 4 s, 25,000 "[a](" 2.5 s,
// backslash-backtick-backtick repeated 0.8 s. No real post comes near these
// limits; past them the markers stay plain text.
const (
	// maxNesting caps how many lists and blockquotes may enclose each other.
	maxNesting = 32
	// maxInlineRuns caps, per block (paragraph, heading, cell), the attempts
	// to parse emphasis or strikethrough delimiters, link or image brackets,
	// and code spans — each kind counted on its own.
	maxInlineRuns = 500
)

// Keys of the per-block counters in the parser context.
var (
	delimiterRuns = parser.NewContextKey()
	linkRuns      = parser.NewContextKey()
	codeSpanRuns  = parser.NewContextKey()
)

// newParser is goldmark's default parser plus strikethrough and mentions,
// with the parsers that can go quadratic wrapped in limits.
func newParser() parser.Parser {
	// The list item parser needs no wrapper: it only opens inside a list.
	nested := map[reflect.Type]bool{
		reflect.TypeOf(parser.NewListParser()):       true,
		reflect.TypeOf(parser.NewBlockquoteParser()): true,
	}
	blocks := parser.DefaultBlockParsers()
	for i, b := range blocks {
		if nested[reflect.TypeOf(b.Value)] {
			blocks[i].Value = nestingLimit{b.Value.(parser.BlockParser)}
		}
	}
	inlineKeys := map[reflect.Type]parser.ContextKey{
		reflect.TypeOf(parser.NewEmphasisParser()): delimiterRuns,
		reflect.TypeOf(parser.NewLinkParser()):     linkRuns,
		reflect.TypeOf(parser.NewCodeSpanParser()): codeSpanRuns,
	}
	inlines := parser.DefaultInlineParsers()
	for i, p := range inlines {
		if key, ok := inlineKeys[reflect.TypeOf(p.Value)]; ok {
			inlines[i].Value = runLimit{InlineParser: p.Value.(parser.InlineParser), key: key}
		}
	}
	inlines = append(inlines,
		// Strikethrough delimiters share the emphasis delimiter list, so they
		// share its count; extension.Strikethrough would add it unwrapped.
		util.Prioritized(runLimit{InlineParser: extension.NewStrikethroughParser(), key: delimiterRuns}, 500),
		util.Prioritized(mentionParser{}, 500),
	)
	return parser.NewParser(
		parser.WithBlockParsers(blocks...),
		parser.WithInlineParsers(inlines...),
		parser.WithParagraphTransformers(parser.DefaultParagraphTransformers()...),
	)
}

// nestingLimit refuses to open its block when the parent is already
// maxNesting containers deep.
type nestingLimit struct {
	parser.BlockParser
}

// Open implements parser.BlockParser.
func (p nestingLimit) Open(parent ast.Node, reader text.Reader, pc parser.Context) (ast.Node, parser.State) {
	depth := 0
	for n := parent; n != nil; n = n.Parent() {
		switch n.Kind() {
		case ast.KindList, ast.KindBlockquote:
			depth++
		}
	}
	if depth >= maxNesting {
		return nil, parser.NoChildren
	}
	return p.BlockParser.Open(parent, reader, pc)
}

// runLimit lets its inline parser run at most maxInlineRuns times per block.
// It counts attempts, not successes, because a failed attempt is what costs:
// an unmatched backtick run or "](" scans to the end of the block or line.
// The counter lives in the parse context, so the parser stays stateless.
type runLimit struct {
	parser.InlineParser
	key parser.ContextKey
}

type runCount struct {
	block ast.Node
	n     int
}

// Parse implements parser.InlineParser.
func (p runLimit) Parse(parent ast.Node, block text.Reader, pc parser.Context) ast.Node {
	c, _ := pc.Get(p.key).(*runCount)
	if c == nil || c.block != parent {
		c = &runCount{block: parent}
		pc.Set(p.key, c)
	}
	if c.n >= maxInlineRuns {
		return nil
	}
	c.n++
	return p.InlineParser.Parse(parent, block, pc)
}

// CloseBlock implements parser.CloseBlocker for wrapped parsers that need it
// (the link parser turns unclosed brackets back into text there).
func (p runLimit) CloseBlock(parent ast.Node, block text.Reader, pc parser.Context) {
	if cb, ok := p.InlineParser.(parser.CloseBlocker); ok {
		cb.CloseBlock(parent, block, pc)
	}
}
