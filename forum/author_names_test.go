package forum_test

import (
	"fmt"
	"testing"

	"github.com/hearth-community/hearth/forum"
)

// Threads and posts keep their author's name and handle (migrations 00030/00031), so
// reading them needs no users lookup; the copies must follow the account at every
// insert and every change (erasure turns a member into "Former member").
func TestAuthorNamesFollowAccounts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	th := e.newThread(t, "alice", "questions", forum.KindQuestion, "Renamed authors stay right", "Opening post body.")
	p := e.reply(t, "bob", th.ID, "A reply from bob.")
	var alice, bob string
	e.DB.Raw(`SELECT display_name FROM users WHERE id = ?`, e.ids["alice"]).Scan(&alice)
	e.DB.Raw(`SELECT display_name FROM users WHERE id = ?`, e.ids["bob"]).Scan(&bob)
	if alice == "" || bob == "" {
		t.Fatal("demo members have no names")
	}
	thread := fmt.Sprintf("/t/%d/x", th.ID)
	page := e.page(t, "", thread)
	if page.Status == 301 {
		thread = page.Header.Get("Location")
		page = e.page(t, "", thread)
	}
	containsAll(t, "thread page", page.Body, alice, bob)
	if v := e.view(t, "", th.ID); v.Posts[1].ID != p.ID || v.Posts[1].AuthorHandle == "" {
		t.Fatalf("reply as read: %+v", v.Posts[1])
	}

	for who, name := range map[string]string{"alice": "Alice Renamed", "bob": "Bob Renamed"} {
		if err := e.DB.Exec(`UPDATE users SET display_name = ?, handle = ? WHERE id = ?`,
			name, "renamed"+who, e.ids[who]).Error; err != nil {
			t.Fatal(err)
		}
	}
	page = e.page(t, "", thread)
	containsAll(t, "thread page after renames", page.Body, "Alice Renamed", "Bob Renamed", "renamedbob")
	containsNone(t, "thread page after renames", page.Body, alice, bob)
	if v := e.view(t, "", th.ID); v.Posts[1].AuthorHandle != "renamedbob" {
		t.Fatalf("reply's author handle %q after the rename", v.Posts[1].AuthorHandle)
	}
	latest := e.page(t, "", "/latest")
	containsAll(t, "latest after renames", latest.Body, "Alice Renamed")
	containsNone(t, "latest after renames", latest.Body, alice)

	// a post written after the rename carries the new name too
	e.reply(t, "alice", th.ID, "Alice again, under her new name.")
	if n := e.count(t, `SELECT count(*) FROM forum_posts WHERE author_id = ? AND (author_name, author_handle) <> (?, ?)`,
		e.ids["alice"], "Alice Renamed", "renamedalice"); n != 0 {
		t.Fatalf("%d of alice's posts carry another name", n)
	}
	if n := e.count(t, `SELECT count(*) FROM forum_threads t JOIN users u ON u.id = t.author_id
	                     WHERE (t.author_name, t.author_handle) <> (u.display_name, u.handle)`); n != 0 {
		t.Fatalf("%d threads carry a name other than their author's", n)
	}
}
