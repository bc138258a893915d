package search

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// The outbox topics the forum writes on every change of a thread or post (create,
// edit, hide, delete, move, lock, accept); forum_test checks they match forum's names.
const (
	TopicThread = "search.thread"
	TopicPost   = "search.post"
)

// forumPageSize is the forum's replies per page (forum.PageSize), for reply links.
const forumPageSize = 30

// replyBatch bounds how many replies one fan-out reads and sends at a time.
const replyBatch = 1000

// ForumKinds are the forum's two document kinds: a thread (with its opening post's
// text) and a reply. A thread's changes reach its replies too: they carry its
// category, read roles, title, tags and status, and vanish when it does.
func ForumKinds(gdb *gorm.DB) []Kind {
	s := &forumStore{db: gdb}
	return []Kind{&threadKind{s}, &postKind{s}}
}

type threadKind struct{ s *forumStore }

func (threadKind) Name() string                                        { return "thread" }
func (threadKind) Topic() string                                       { return TopicThread }
func (threadKind) Ref(p json.RawMessage) (int64, error)                { return refPayload(p, "thread_id") }
func (threadKind) LockKey(_ context.Context, id int64) (string, error) { return threadLock(id), nil }

func threadLock(id int64) string { return "thread:" + strconv.FormatInt(id, 10) }

// Sync writes the thread's document, or removes it when the thread is hidden, deleted or
// gone, and rewrites its replies when what they copy from it changed since prev. The
// document itself is not sent again when a reply's row of the same transaction sent
// it already (see postKind.Sync).
func (k *threadKind) Sync(ctx context.Context, id int64, at time.Time, prev string) (*Change, error) {
	t, err := k.s.thread(ctx, id)
	if err != nil {
		return nil, err
	}
	prevFan, prevDoc := splitFingerprint(prev)
	ch := &Change{}
	fan, doc := "gone", ""
	if t == nil || !t.visible() {
		ch.Delete = append(ch.Delete, DocID("thread", id))
	} else {
		d := threadDoc(t)
		if doc = docFingerprint(&d); prevDoc != doc+"@"+stamp(at) {
			ch.Upsert = append(ch.Upsert, d)
		}
		fan = replyFingerprint(t)
	}
	ch.Fingerprint = fan + "|" + doc
	if fan == prevFan || t == nil {
		return ch, nil
	}
	after := 0
	for {
		rs, err := k.s.replies(ctx, id, after, replyBatch)
		if err != nil {
			return nil, err
		}
		for i := range rs {
			if t.visible() && rs[i].visible() {
				ch.Upsert = append(ch.Upsert, replyDoc(&rs[i], t))
			} else {
				ch.Delete = append(ch.Delete, DocID("post", rs[i].ID))
			}
			after = rs[i].Number
		}
		if len(rs) < replyBatch {
			return ch, nil
		}
	}
}

// A thread's fingerprint (under its lock key) is "<replies>|<document>": a hash of what
// its replies copy from it, and "<thread id>:<hash>" of its own document as last sent,
// followed by "@<time>" when a reply's row sent it on behalf of the thread's row
// written at that time.
func splitFingerprint(fp string) (fan, doc string) {
	fan, doc, _ = strings.Cut(fp, "|")
	return fan, doc
}

func docFingerprint(d *Document) string {
	b, _ := json.Marshal(d)
	h := sha256.Sum256(b)
	return strconv.FormatInt(d.RefID, 10) + ":" + hex.EncodeToString(h[:12])
}

func stamp(at time.Time) string { return strconv.FormatInt(at.UnixMicro(), 10) }

func (k *threadKind) Count(ctx context.Context) (int64, error) { return k.s.countThreads(ctx) }

func (k *threadKind) Scan(ctx context.Context, after int64, limit int) ([]Document, int64, error) {
	rows, err := k.s.visibleThreads(ctx, after, limit)
	if err != nil || len(rows) == 0 {
		return nil, 0, err
	}
	docs := make([]Document, len(rows))
	for i := range rows {
		docs[i] = threadDoc(&rows[i])
	}
	return docs, rows[len(rows)-1].ID, nil
}

type postKind struct{ s *forumStore }

func (postKind) Name() string                         { return "post" }
func (postKind) Topic() string                        { return TopicPost }
func (postKind) Ref(p json.RawMessage) (int64, error) { return refPayload(p, "post_id") }

// LockKey is the post's thread: a reply and its thread reach the index in order.
func (k *postKind) LockKey(ctx context.Context, id int64) (string, error) {
	tid, err := k.s.postThread(ctx, id)
	if err != nil || tid == 0 {
		return "", err
	}
	return threadLock(tid), nil
}

// Sync writes a visible reply of a visible thread and removes anything else. The
// opening post is never a document of its own: its text is the thread's. A reply
// changes its thread's document (the reply count), and the forum writes a row for the
// thread in the same transaction: when prev shows the lock key is this thread's, the
// thread's document goes in the reply's Meilisearch task (unless it is the one last
// sent), and the fingerprint tells that row, by its time, that it is done. (Without
// prev, say after a failed task, the thread's row sends it.)
func (k *postKind) Sync(ctx context.Context, id int64, at time.Time, prev string) (*Change, error) {
	gone := &Change{Delete: []string{DocID("post", id)}}
	p, err := k.s.post(ctx, id)
	if err != nil || p == nil || p.Number == 1 || !p.visible() {
		return gone, err
	}
	t, err := k.s.thread(ctx, p.ThreadID)
	if err != nil || t == nil || !t.visible() {
		return gone, err
	}
	ch := &Change{Upsert: []Document{replyDoc(p, t)}}
	fan, prevDoc := splitFingerprint(prev)
	if strings.HasPrefix(prevDoc, strconv.FormatInt(t.ID, 10)+":") {
		d := threadDoc(t)
		doc := docFingerprint(&d)
		if sent, _, _ := strings.Cut(prevDoc, "@"); sent != doc {
			ch.Upsert = append(ch.Upsert, d)
		}
		ch.Fingerprint = fan + "|" + doc + "@" + stamp(at)
	}
	return ch, nil
}

func (k *postKind) Count(ctx context.Context) (int64, error) { return k.s.countReplies(ctx) }

func (k *postKind) Scan(ctx context.Context, after int64, limit int) ([]Document, int64, error) {
	rows, threads, err := k.s.visibleReplies(ctx, after, limit)
	if err != nil || len(rows) == 0 {
		return nil, 0, err
	}
	docs := make([]Document, 0, len(rows))
	for i := range rows {
		if t := threads[rows[i].ThreadID]; t != nil {
			docs = append(docs, replyDoc(&rows[i], t))
		}
	}
	return docs, rows[len(rows)-1].ID, nil
}

func threadURL(t *threadRow) string {
	return fmt.Sprintf("/t/%d/%s", t.ID, url.PathEscape(t.Slug))
}

func status(t *threadRow) string {
	switch {
	case t.Kind != "question":
		return "open"
	case t.AcceptedPostID != nil:
		return "solved"
	default:
		return "unsolved"
	}
}

func tags(t *threadRow) []string {
	if t.Tags == nil {
		return []string{}
	}
	return []string(t.Tags)
}

func threadDoc(t *threadRow) Document {
	st := status(t)
	return Document{ID: DocID("thread", t.ID), Kind: "thread", RefID: t.ID, Type: t.Kind,
		Title: t.Title, Body: plainText(t.BodyHTML), URL: threadURL(t), Tags: tags(t),
		Status: st, Solved: st == "solved", ReadRoles: []string(t.ReadRoles),
		CategoryID: t.CategoryID, ThreadID: t.ID, AuthorID: t.AuthorID, Author: t.AuthorHandle,
		AuthorName: t.AuthorName, CreatedAt: t.CreatedAt.Unix(), Score: t.Score, Replies: t.ReplyCount}
}

// replyDoc is a reply, carrying its thread's title, category, visibility, tags and
// status so that filters on them find replies too.
func replyDoc(p *postRow, t *threadRow) Document {
	u := threadURL(t)
	if page := (p.Number-1)/forumPageSize + 1; page > 1 {
		u += "?page=" + strconv.Itoa(page)
	}
	u += "#post-" + strconv.Itoa(p.Number)
	st := status(t)
	return Document{ID: DocID("post", p.ID), Kind: "post", RefID: p.ID, Type: t.Kind,
		Title: t.Title, Body: plainText(p.BodyHTML), URL: u, Tags: tags(t), Status: st,
		Solved: st == "solved", ReadRoles: []string(t.ReadRoles), CategoryID: t.CategoryID,
		ThreadID: t.ID, AuthorID: p.AuthorID, Author: p.AuthorHandle, AuthorName: p.AuthorName,
		CreatedAt: p.CreatedAt.Unix(), Score: p.Score}
}

// replyFingerprint hashes what a thread's replies copy from it.
func replyFingerprint(t *threadRow) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s", t.CategoryID,
		strings.Join(t.ReadRoles, ","), t.Title, t.Slug, strings.Join(t.Tags, ","), t.Kind, status(t))
	return hex.EncodeToString(h.Sum(nil)[:12])
}
