package markup

import (
	"strings"
	"testing"
)

func TestRenderLargeInputs(t *testing.T) {
	const size = 100 << 10
	post := strings.Repeat(samplePost, size/len(samplePost)+1)
	inputs := map[string]string{
		"realistic":     post,
		"nested quotes": strings.Repeat(">", size),
		"nested lists":  strings.Repeat("- ", size/2),
		"emphasis":      strings.Repeat("*a_", size/3),
		"strikethrough": strings.Repeat("~~a*", size/4),
		"brackets":      strings.Repeat("[", size),
		"open links":    strings.Repeat("[a](", size/4),
		"open images":   strings.Repeat("![a](", size/5),
		"backticks":     strings.Repeat("\\``", size/3),
		"nested mixed":  strings.Repeat("> - ", size/4),
		"mentions":      strings.Repeat("@alice ", size/7),
		"long line":     strings.Repeat("word ", size/5),
	}
	r := New()
	for name, src := range inputs {
		t.Run(name, func(t *testing.T) {
			out, err := r.Render(src)
			if err != nil || out == "" {
				t.Fatalf("Render: %q, %v", out[:min(len(out), 80)], err)
			}
		})
	}
	// Past the limits, markers stay text instead of ever more markup.
	out, _ := r.Render(strings.Repeat("> ", 100) + "deep")
	if got := strings.Count(out, "<blockquote>"); got != maxNesting {
		t.Errorf("got %d nested blockquotes, want %d", got, maxNesting)
	}
	out, _ = r.Render(strings.Repeat("*a* ", maxInlineRuns) + "\n\n*b*")
	if got := strings.Count(out, "<em>"); got != maxInlineRuns/2+1 {
		t.Errorf("got %d <em>, want %d (the limit is per block)", got, maxInlineRuns/2+1)
	}
}

// samplePost is a realistic ~2 KB forum post.
const samplePost = `## Printer keeps dropping off Wi-Fi

Hi @support_team and @alice, since the **2.4.1 firmware** my printer drops
off the network every few hours. Steps I tried:

1. Power-cycled the router and the printer
2. Assigned a *static* IP (192.168.1.40)
3. Disabled band steering — see https://example.com/kb/band-steering

> Quote from the release notes: "Improved Wi-Fi stability on 2.4 GHz."
> Not for me, apparently.

| Firmware | Uptime | Drops/day |
|:---------|-------:|----------:|
| 2.3.9    | 14 d   | 0         |
| 2.4.1    | 6 h    | 4         |

Log excerpt:

` + "```log\n[12:01:07] wlan0: deauthenticated (reason=3)\n[12:01:09] dhcp: lease lost\n[12:01:15] wlan0: associated\n```" + `

- [x] Checked the ` + "`wifi.log`" + ` for errors
- [ ] Tried a factory reset

Anyone else seeing this? ~~I'll roll back~~ Rolling back isn't offered in the app.
Screenshot: ![settings](https://img.example.com/p/settings.png "Settings page")

Thanks, and 谢谢!

`

func BenchmarkRender(b *testing.B) {
	r := New()
	b.SetBytes(int64(len(samplePost)))
	for b.Loop() {
		if _, err := r.Render(samplePost); err != nil {
			b.Fatal(err)
		}
	}
}
