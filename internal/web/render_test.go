package web

import (
	"bytes"
	"html/template"
	"testing"
)

// TestURLEscapingMatchesHTMLTemplate: compiled templates put links through URL and
// QueryURL; they must come out as html/template writes the same value there.
func TestURLEscapingMatchesHTMLTemplate(t *testing.T) {
	tpl := template.Must(template.New("x").Parse(`<a href="{{.}}"></a>|<a href="/tag/{{.}}"></a>|<a href="/login?next={{.}}"></a>`))
	for _, s := range []string{
		"/t/12/how-do-i-pair", "/t/7/%E8%93%9D%E7%89%99", "蓝牙", "c++", "a b&c=d'e\"f<g>(h)", "/latest?after=1700000000.42",
		"/c/questions?after=1.2&period=week", "#post-3", "~user_name.x-y", "",
	} {
		var want bytes.Buffer
		if err := tpl.Execute(&want, s); err != nil {
			t.Fatal(err)
		}
		got := `<a href="` + URL(s) + `"></a>|<a href="/tag/` + URL(s) + `"></a>|<a href="/login?next=` + QueryURL(s) + `"></a>`
		if got != want.String() {
			t.Errorf("%q:\n got %s\nwant %s", s, got, want.String())
		}
	}
}
